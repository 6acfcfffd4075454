import Core
import Foundation
import HTTPTypes
import Hummingbird
import Identity

/// Signing in and out, the console's front door and its stylesheet.
struct SignInPages: Sendable {
    let console: Console

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        routes.open(.get, "sign-in") { request, _ in
            if try await console.session(request) != nil { return console.pages.redirect(to: "/console") }
            let signedOut = FormData(query: request.uri.query ?? "")["signed_out"] == "1"
            return form(failure: nil, email: "", notice: signedOut ? "You are signed out." : nil)
        }
        routes.open(.post, "sign-in") { request, context in
            try await signIn(request, clientIP: console.clientAddress(request, context))
        }
        routes.open(.get, "") { request, _ in
            guard let session = try await console.session(request) else { return console.pages.redirect(to: "/console/sign-in") }
            return console.pages.redirect(to: session.principal.role == .admin ? "/console/admin/refunds" : "/console/hub")
        }
        routes.open(.get, "assets/console.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: console.pages.stylesheet)))
        }
        routes.action("sign-out", for: ConsoleSessions.roles) { visit in
            try await console.sessions.end(visit.session)
            var response = console.pages.redirect(to: "/console/sign-in?signed_out=1")
            response.setCookie(console.sessions.expiredCookie(ConsoleSessions.cookieName))
            return response
        }
    }

    /// Checks the form's CSRF token against its cookie, then the password under the login
    /// rules and limits (`AuthService`), then the role: only hub staff and admins get a session.
    private func signIn(_ request: Request, clientIP: String) async throws -> Response {
        let form = try await FormData(request)
        let email = form["email"]
        guard let cookie = request.cookies[ConsoleSessions.signInCookieName]?.value, !cookie.isEmpty,
            ConstantTime.equal(form["_csrf"], cookie)
        else {
            return self.form(
                failure: Failure(title: "Sign-in form expired", detail: "The form had expired; please sign in again.", status: .forbidden),
                email: email)
        }
        let principal: Principal
        do {
            let userID = try await console.services.auth.verifyCredentials(email: email, password: form["password"], clientIP: clientIP)
            principal = try await console.services.auth.principal(userID: userID)
        } catch let problem as Problem where problem.status == 401 || problem.status == 429 || problem.status == 422 {
            var response = self.form(failure: Failure(problem), email: email)
            if let retry = problem.headers["Retry-After"] { response.headers[.retryAfter] = retry }
            return response
        }
        guard ConsoleSessions.roles.contains(principal.role) else {
            return self.form(
                failure: Failure(
                    title: "Not a console account",
                    detail: "The console is for hub staff and admins. Customers and merchants use the HubRoute app.", status: .forbidden),
                email: email)
        }
        let token = try await console.sessions.start(userID: principal.userID)
        var response = console.pages.redirect(to: "/console")
        response.setCookie(console.sessions.cookie(ConsoleSessions.cookieName, value: token))
        response.setCookie(console.sessions.expiredCookie(ConsoleSessions.signInCookieName))
        return response
    }

    struct Model {
        let email: String
        let signInToken: String
        let notice: String?
    }

    /// The sign-in form with a fresh token in its cookie; the password is never shown again.
    private func form(failure: Failure?, email: String, notice: String? = nil) -> Response {
        let token = console.services.effects.opaqueToken()
        var response = console.pages.render(
            "sign-in", title: "Sign in", session: nil, page: Model(email: email, signInToken: token, notice: notice), failure: failure,
            status: failure?.status ?? .ok)
        response.setCookie(console.sessions.cookie(ConsoleSessions.signInCookieName, value: token))
        return response
    }
}
