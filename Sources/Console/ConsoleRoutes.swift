import Core
import Foundation
import HTTPTypes
import Hummingbird
import Identity
import Logging

/// The only way a console route is added: `page` (GET) and `action` (POST) put every handler
/// behind a live session of one of its roles, and every action behind the session's CSRF
/// token, before the handler runs.
struct ConsoleRoutes<Context: ConsoleRequestContext> {
    let group: RouterGroup<Context>
    let console: Console

    typealias Handler = @Sendable (Visit) async throws -> Response

    /// A page for signed-in users of `roles`; anyone else is sent to sign in.
    func page(_ path: RouterPath, for roles: Set<Role>, _ handler: @escaping Handler) {
        let console = self.console
        group.get(path) { request, context in
            guard let session = try await console.session(request) else { return console.pages.redirect(to: "/console/sign-in") }
            guard roles.contains(session.principal.role) else { return console.pages.wrongRole() }
            return try await handler(Visit(request: request, context: context, session: session, form: FormData(), console: console))
        }
    }

    /// A form's target for signed-in users of `roles`. Without a live session, or without the
    /// session's CSRF token, nothing runs.
    func action(_ path: RouterPath, for roles: Set<Role>, _ handler: @escaping Handler) {
        let console = self.console
        group.post(path) { request, context in
            let form = try await FormData(request)
            guard let session = try await console.session(request) else {
                return console.pages.message(
                    status: .unauthorized, title: "Signed out",
                    detail: "You are not signed in to the console any more; nothing was changed. Sign in and try again.",
                    link: ("Sign in", "/console/sign-in"))
            }
            guard roles.contains(session.principal.role) else { return console.pages.wrongRole() }
            guard ConstantTime.equal(form["_csrf"], session.csrfToken) else {
                return console.pages.message(
                    status: .forbidden, title: "Form expired",
                    detail: "This form did not come from your console session; nothing was changed. Go back, reload the page and try again.",
                    link: ("Back to the console", "/console"))
            }
            if let field = form.fieldWithControlCharacters {
                return console.pages.message(
                    status: .unprocessableContent, title: "Unreadable text",
                    detail: "The field \(field) holds control characters; nothing was changed.", link: ("Back to the console", "/console"))
            }
            return try await handler(Visit(request: request, context: context, session: session, form: form, console: console))
        }
    }

    /// Routes anyone may reach: the sign-in form and the stylesheet.
    func open(_ method: HTTPRequest.Method, _ path: RouterPath, _ handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        group.on(path, method: method, use: handler)
    }

    /// Any other path under /console: an HTML 404, not the API's problem document.
    func notFound() {
        let pages = console.pages
        for method in [HTTPRequest.Method.get, .post] {
            group.on("**", method: method) { _, _ in
                pages.message(status: .notFound, title: "Not found", detail: "There is no console page at this address.", link: ("Back to the console", "/console"))
            }
        }
    }
}

extension Console {
    /// The live session named by the request's cookie, if any.
    func session(_ request: Request) async throws -> ConsoleSessions.Session? {
        guard let token = request.cookies[ConsoleSessions.cookieName]?.value, !token.isEmpty else { return nil }
        return try await sessions.resume(token: token)
    }

    /// The client's address as the rate limits count it (SPEC section 12).
    func clientAddress(_ request: Request, _ context: some ConsoleRequestContext) -> String {
        services.config.trustedProxies.clientAddress(
            peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: .xForwardedFor].joined(separator: ","))
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

/// One signed-in request: who, what they sent, and where to answer.
struct Visit: Sendable {
    let request: Request
    let parameters: Parameters
    let session: ConsoleSessions.Session
    let form: FormData
    let query: FormData
    let console: Console

    init(request: Request, context: some ConsoleRequestContext, session: ConsoleSessions.Session, form: FormData, console: Console) {
        self.request = request
        self.parameters = context.parameters
        self.session = session
        self.form = form
        self.query = FormData(query: request.uri.query ?? "")
        self.console = console
    }

    var principal: Principal { session.principal }
    var services: ConsoleServices { console.services }

    /// The path's id; anything but a UUID names nothing (404).
    func id(_ name: String = "id", _ what: String) throws -> UUID {
        guard let text = parameters.get(name), let id = UUID(uuidString: text) else { throw Problem.notFound(what) }
        return id
    }

    /// A page of the console with this visit's chrome.
    func render(
        _ template: String, title: String, _ page: Any, failure: Failure? = nil, status: HTTPResponse.Status = .ok
    ) -> Response {
        console.pages.render(template, title: title, session: session, page: page, failure: failure, status: status)
    }

    /// After an action: back to a page (post, redirect, get), with a message for it.
    func redirect(to path: String, flash: String) async throws -> Response {
        try await console.sessions.flash(flash, for: session)
        return console.pages.redirect(to: path)
    }

    /// Runs an action; a refusal from its service (any problem but a failure of ours or of the
    /// database) becomes `failure`: the same page again, with the reason and what was typed.
    /// Anything else goes on to the error page.
    func attempt(_ action: () async throws -> Response, failure: (Failure) async throws -> Response) async throws -> Response {
        do {
            return try await action()
        } catch let problem as Problem where problem.status != 503 && problem.status != 500 {
            return try await failure(Failure(problem).keeping(form))
        }
    }
}

/// Adds the console's security headers to every answer under /console and turns any error a
/// handler throws into an HTML page: a problem's own words, otherwise a logged 500 that says
/// nothing about the cause.
struct ConsoleResponseMiddleware<Context: ConsoleRequestContext>: RouterMiddleware {
    let pages: Pages
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let problem as Problem {
            response = pages.message(
                status: .init(code: problem.status), title: problem.title, detail: problem.detail, link: ("Back to the console", "/console"))
            for (name, value) in problem.headers {
                if let field = HTTPField.Name(name) { response.headers[field] = value }
            }
        } catch {
            logger.error(
                "console error",
                metadata: ["route": .string(context.endpointPath ?? "unmatched"), "error": .string(DatabaseError.loggable(error))])
            response = pages.message(
                status: .internalServerError, title: "Something went wrong",
                detail: "The console could not finish this request; it has been logged. Nothing you did caused it.",
                link: ("Back to the console", "/console"))
        }
        response.headers[.contentSecurityPolicy] = "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}

/// The fields of an `application/x-www-form-urlencoded` body or a query string. A missing field
/// reads as empty text; nothing here traps on what a client sends.
struct FormData: Sendable {
    private var fields: [String: String] = [:]

    init() {}

    init(query: String) {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first.flatMap({ Self.decode($0) }), !name.isEmpty else { continue }
            // The first value of a repeated field wins, as for a single form control.
            if fields[name] == nil { fields[name] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : "" }
        }
    }

    /// The body of a form post; another content type reads as an empty form (and so fails the
    /// CSRF check).
    init(_ request: Request) async throws {
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            self.init()
            return
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        self.init(query: String(buffer: body))
    }

    subscript(_ name: String) -> String { fields[name] ?? "" }

    /// The text of a field, nil when empty.
    func optional(_ name: String) -> String? {
        let value = self[name].trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    /// Every field, for a form shown again as it was typed (the CSRF token left out).
    var values: [String: String] {
        fields.filter { $0.key != "_csrf" }
    }

    /// A field holding a C0 control character other than tab, newline and carriage return,
    /// which no name, note or amount has: the API's route guard refuses the same.
    var fieldWithControlCharacters: String? {
        fields.first { _, value in
            value.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r" }
        }?.key
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
