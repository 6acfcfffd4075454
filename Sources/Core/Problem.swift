import Foundation

/// A client-facing failure, rendered as `application/problem+json` (SPEC section 12).
///
/// Every failure a client can see is one of these, with a stable machine `code`; anything else
/// that escapes a handler is a bug and becomes a generic 500 without details.
public struct Problem: Error, Sendable, Equatable {
    public struct FieldError: Sendable, Equatable, Codable {
        public var field: String
        public var message: String
        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var status: Int
    public var code: String
    public var title: String
    public var detail: String
    public var errors: [FieldError]
    /// Extra members that help the client (`current_status`, `total_cents`, `products`, ...).
    public var extensions: [String: JSONValue]
    /// Extra response headers, e.g. `Retry-After`.
    public var headers: [String: String]
    /// The database constraint behind a mapped violation, for services that explain their own;
    /// never sent to the client.
    public var constraint: String?

    public init(
        status: Int, code: String, title: String, detail: String,
        errors: [FieldError] = [], extensions: [String: JSONValue] = [:], headers: [String: String] = [:]
    ) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.extensions = extensions
        self.headers = headers
    }
}

extension Problem {
    public static func malformedRequest(_ detail: String) -> Problem {
        Problem(status: 400, code: "malformed_request", title: "Malformed request", detail: detail)
    }

    public static func validation(_ errors: [FieldError], detail: String? = nil) -> Problem {
        Problem(
            status: 422, code: "validation_failed", title: "Validation failed",
            detail: detail ?? errors.map { "\($0.field): \($0.message)" }.joined(separator: "; "),
            errors: errors)
    }

    public static func validation(field: String, _ message: String) -> Problem {
        validation([FieldError(field: field, message: message)])
    }

    /// A `cursor` this service did not issue, or issued for another sort (422 `invalid_cursor`).
    public static func invalidCursor(_ message: String) -> Problem {
        Problem(
            status: 422, code: "invalid_cursor", title: "Invalid cursor", detail: "cursor: \(message)",
            errors: [FieldError(field: "cursor", message: message)])
    }

    public static let unauthorized = Problem(
        status: 401, code: "unauthorized", title: "Unauthorized",
        detail: "A valid access token is required.", headers: ["WWW-Authenticate": "Bearer"])

    public static func unauthorized(_ detail: String) -> Problem {
        var problem = unauthorized
        problem.detail = detail
        return problem
    }

    public static func forbidden(_ detail: String = "Your role does not allow this action.") -> Problem {
        Problem(status: 403, code: "forbidden", title: "Forbidden", detail: detail)
    }

    public static func notFound(_ what: String) -> Problem {
        Problem(status: 404, code: "not_found", title: "Not found", detail: "\(what) was not found.")
    }

    public static func conflict(_ detail: String, code: String = "conflict") -> Problem {
        Problem(status: 409, code: code, title: "Conflict", detail: detail)
    }

    /// A state change the object's current state does not allow (409), naming that state.
    public static func invalidTransition(_ currentStatus: some RawRepresentable<String>, _ detail: String) -> Problem {
        Problem(
            status: 409, code: "invalid_transition", title: "Conflict", detail: detail,
            extensions: ["current_status": .string(currentStatus.rawValue)])
    }

    public static func methodNotAllowed(_ method: String, allowed: [String]) -> Problem {
        Problem(
            status: 405, code: "method_not_allowed", title: "Method not allowed",
            detail: "\(method) is not allowed here; use \(allowed.joined(separator: ", ")).",
            headers: ["Allow": allowed.joined(separator: ", ")])
    }

    public static func rateLimited(retryAfterSeconds: Int) -> Problem {
        Problem(
            status: 429, code: "rate_limited", title: "Too many requests",
            detail: "Too many attempts; try again in \(retryAfterSeconds) seconds.",
            headers: ["Retry-After": String(retryAfterSeconds)])
    }

    public static let databaseUnavailable = Problem(
        status: 503, code: "database_unavailable", title: "Service unavailable",
        detail: "The database is not reachable; try again shortly.", headers: ["Retry-After": "1"])

    public static let internalError = Problem(
        status: 500, code: "internal_error", title: "Internal server error",
        detail: "An unexpected error occurred; it has been logged.")
}

/// A JSON value for the open-ended members of a problem document.
public enum JSONValue: Sendable, Equatable, Codable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

extension Problem {
    /// The `application/problem+json` body.
    public func jsonBody() -> Data {
        var document: [String: JSONValue] = extensions
        document["type"] = .string("https://hubroute.example/problems/\(code)")
        document["title"] = .string(title)
        document["status"] = .int(Int64(status))
        document["detail"] = .string(detail)
        document["code"] = .string(code)
        if !errors.isEmpty {
            document["errors"] = .array(errors.map { .object(["field": .string($0.field), "message": .string($0.message)]) })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(document)) ?? Data(#"{"status":500,"code":"internal_error"}"#.utf8)
    }
}
