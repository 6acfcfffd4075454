import Foundation
import HTTPTypes
import Identity
import Server
import TestSupport
import Testing

/// A browser's part in the console's conversation: it keeps the cookies the service sets and
/// sends forms as `application/x-www-form-urlencoded`.
struct ConsoleBrowser {
    let http: HTTPClient
    var cookies: [String: String] = [:]
    /// The CSRF token of the last page that had a form.
    var csrf = ""

    init(_ http: HTTPClient) {
        self.http = http
    }

    @discardableResult
    mutating func get(_ path: String) async throws -> Reply {
        let reply = try await http.send(.get, path, headers: cookieHeader)
        keep(reply)
        return reply
    }

    /// Posts a form with the last page's CSRF token, or without any token.
    @discardableResult
    mutating func post(_ path: String, _ fields: [String: String], withCSRF: Bool = true) async throws -> Reply {
        var fields = fields
        if withCSRF && fields["_csrf"] == nil { fields["_csrf"] = csrf }
        let body = fields.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        var headers = cookieHeader
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        let reply = try await http.send(.post, path, rawBody: body, headers: headers)
        keep(reply)
        return reply
    }

    /// Signs in through the form, as a person would.
    @discardableResult
    mutating func signIn(_ email: String, _ password: String) async throws -> Reply {
        try await get("/console/sign-in")
        return try await post("/console/sign-in", ["email": email, "password": password])
    }

    private var cookieHeader: [String: String] {
        cookies.isEmpty ? [:] : ["Cookie": cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
    }

    private mutating func keep(_ reply: Reply) {
        for header in reply.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if header.contains("Max-Age=0") { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
        }
        if let token = Self.field("_csrf", in: reply.text) { csrf = token }
    }

    /// The value of the first hidden input named `name` in a page.
    static func field(_ name: String, in html: String) -> String? {
        guard let start = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[start.upperBound...].prefix { $0 != "\"" })
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}

extension World {
    /// Gives a user of this world a real password, so they can sign in through a form.
    func setPassword(_ user: UUID, _ password: String = "console test password") async throws {
        let hash = try await services.passwords.hash(password)
        try await database.query("UPDATE users SET password_hash = \(hash) WHERE id = \(user)")
    }

    func email(_ user: UUID) async throws -> String {
        try await database.query("SELECT email FROM users WHERE id = \(user)")[0].decode(String.self)
    }
}

extension Reply {
    var location: String? { headers[.location] }
}
