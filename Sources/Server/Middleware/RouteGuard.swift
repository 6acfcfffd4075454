import Core
import Foundation
import HTTPTypes
import Hummingbird
import Identity
import NIOCore

/// What `openapi.yaml` says about each operation, enforced before its handler decodes anything,
/// so nobody learns a route's schema by sending it garbage:
///
/// - a method the path does not have is 405 with `Allow`;
/// - an operation without `security: []` needs a valid bearer token (401), and one with
///   `x-roles` needs one of those roles (403); the caller is then available to the handler as
///   `Caller.current`, looked up once per request;
/// - text with control characters (NUL and the other C0 characters but tab, newline and
///   carriage return) in the query or a JSON body is 422, unless the operation says
///   `x-accepts-any-text: true` (Daraja's callbacks: money must never be refused for its text).
struct RouteGuard: RouterMiddleware {
    typealias Context = AppRequestContext

    let routes: RouteTable
    let auth: AuthService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let template = context.endpointPath, template != "NotFound" else {
            if let allowed = routes.methods(matching: request.uri.path), !allowed.isEmpty {
                throw Problem.methodNotAllowed(request.method.rawValue, allowed: allowed)
            }
            return try await next(request, context)
        }
        guard let operation = routes.operation(method: request.method, template: template) else {
            // Every route the router matched comes from the document; anything else is a bug.
            throw RouteTableError.undocumented(method: request.method.rawValue, template: template)
        }
        var caller: Principal?
        if operation.requiresAuthentication {
            guard let token = RequestInfo.current.bearerToken else { throw Problem.unauthorized }
            let principal = try await auth.authenticate(bearer: token)
            if let roles = operation.roles, !roles.contains(principal.role) { throw Problem.forbidden() }
            caller = principal
        }
        if !operation.acceptsAnyText {
            try TextHygiene.check(query: request.uri.queryParameters, body: try await request.body.collect(upTo: .max))
        }
        return try await Caller.$current.withValue(caller) {
            try await next(request, context)
        }
    }
}

/// The authenticated caller of the current request, set by `RouteGuard`.
enum Caller {
    @TaskLocal static var current: Principal?
}

/// The operations of the OpenAPI document by method and path template.
struct RouteTable: Sendable {
    struct Operation: Sendable {
        let id: String
        let requiresAuthentication: Bool
        /// nil: any authenticated role.
        let roles: Set<Role>?
        let acceptsAnyText: Bool
    }

    private let operations: [String: Operation]
    private let templates: [(segments: [Substring], methods: [String])]

    /// Reads `paths` of the document (as JSON).
    init(document: Data) throws {
        guard let root = try JSONSerialization.jsonObject(with: document) as? [String: Any],
            let paths = root["paths"] as? [String: Any]
        else { throw RouteTableError.unreadableDocument }
        let documentSecured = (root["security"] as? [Any]).map { !$0.isEmpty } ?? false
        var operations: [String: Operation] = [:]
        var templates: [(segments: [Substring], methods: [String])] = []
        for (template, item) in paths {
            guard let item = item as? [String: Any] else { continue }
            var methods: [String] = []
            for (method, value) in item {
                guard let spec = value as? [String: Any], let id = spec["operationId"] as? String else { continue }
                let secured = (spec["security"] as? [Any]).map { !$0.isEmpty } ?? documentSecured
                var roles: Set<Role>?
                if let names = spec["x-roles"] as? [String] {
                    roles = Set(try names.map { name in
                        guard let role = Role(rawValue: name) else { throw RouteTableError.unknownRole(name, operation: id) }
                        return role
                    })
                }
                let verb = method.uppercased()
                methods.append(verb)
                operations[Self.key(verb, template)] = Operation(
                    id: id, requiresAuthentication: secured, roles: roles, acceptsAnyText: spec["x-accepts-any-text"] as? Bool ?? false)
            }
            templates.append((template.split(separator: "/"), methods.sorted()))
        }
        self.operations = operations
        self.templates = templates
    }

    func operation(method: HTTPRequest.Method, template: String) -> Operation? {
        operations[Self.key(method.rawValue, template)]
    }

    /// The methods of the documented path this raw path falls under, if any.
    func methods(matching path: String) -> [String]? {
        let segments = path.split(separator: "/")
        let matches = templates.filter { template in
            template.segments.count == segments.count
                && zip(template.segments, segments).allSatisfy { pattern, segment in
                    (pattern.first == "{" && pattern.last == "}") || pattern == segment
                }
        }
        guard !matches.isEmpty else { return nil }
        return Array(Set(matches.flatMap(\.methods))).sorted()
    }

    private static func key(_ method: String, _ template: String) -> String { "\(method) \(template)" }
}

enum RouteTableError: Error, CustomStringConvertible {
    case unreadableDocument
    case unknownRole(String, operation: String)
    case undocumented(method: String, template: String)

    var description: String {
        switch self {
        case .unreadableDocument: "openapi.yaml has no readable paths"
        case .unknownRole(let role, let operation): "openapi.yaml: \(operation) names an unknown role \(role) in x-roles"
        case .undocumented(let method, let template): "the route \(method) \(template) is not in openapi.yaml"
        }
    }
}

/// Text a client sends may hold tab, newline and carriage return, but no other control
/// character of C0: PostgreSQL cannot store NUL at all, and the rest are nobody's name, address
/// or review.
enum TextHygiene {
    static func check(query: some Sequence<(key: Substring, value: Substring)>, body: ByteBuffer) throws {
        for (name, value) in query where value.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            throw Problem.validation(field: String(name), "must not contain control characters")
        }
        if jsonEscapesControlCharacter(body.readableBytesView) {
            throw Problem.validation(field: "body", "text must not contain control characters other than tab and newline")
        }
    }

    /// Whether a JSON text escapes a forbidden control character (`\u0000`…`\u001F` but
    /// `\t`, `\n`, `\r`; also `\b` and `\f`). Raw control characters are not valid JSON, so the
    /// decoder refuses those already; this only has to look at escapes, without decoding.
    static func jsonEscapesControlCharacter(_ bytes: some Collection<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "\\"), let escaped = iterator.next() else { continue }
            switch escaped {
            case UInt8(ascii: "b"), UInt8(ascii: "f"):
                return true
            case UInt8(ascii: "u"):
                var value: UInt32 = 0
                for _ in 0..<4 {
                    guard let digit = iterator.next(), let nibble = hexValue(digit) else { return false }
                    value = value << 4 | nibble
                }
                if value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D { return true }
            default:
                continue
            }
        }
        return false
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
