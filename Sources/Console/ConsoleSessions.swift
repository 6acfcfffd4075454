import Core
import Crypto
import Foundation
import Hummingbird
import Identity

/// Server-side sessions of the console (table `console_sessions`). The cookie holds a random
/// token; the database holds its SHA-256, the session's CSRF token and its times. Every request
/// reads the session and then the user afresh (`AuthService.principal`), so signing out,
/// deactivating the user or taking their console role away ends it at once.
struct ConsoleSessions: Sendable {
    struct Session: Sendable {
        let id: UUID
        let principal: Principal
        let csrfToken: String
        /// The message the last action left for this page, read once.
        let flash: String?
    }

    /// The roles that may enter the console.
    static let roles: Set<Role> = [.hubStaff, .admin]
    /// A session unused this long is over: a counter shift with breaks fits, an abandoned
    /// browser does not keep a door open overnight.
    static let idleTimeout: TimeInterval = 12 * 3_600
    /// However busy, a session ends a week after sign-in.
    static let lifetimeSeconds = 7 * 86_400

    static let cookieName = "hubroute_console"
    /// Before sign-in there is no session: the sign-in form's CSRF token lives in a cookie of
    /// its own (double submit), so a page elsewhere cannot sign a browser in to an account.
    static let signInCookieName = "hubroute_console_signin"

    let database: Database
    let effects: Effects
    let auth: AuthService
    /// `Secure` cookies in production, where the console is served over HTTPS.
    let secureCookies: Bool

    /// A new session for a user who just proved their password; returns the cookie's token.
    func start(userID: UUID) async throws -> String {
        let token = effects.opaqueToken()
        let now = effects.now()
        try await database.query(
            """
            INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
            VALUES (\(SHA256.digestData(token)), \(userID), \(effects.opaqueToken()), \(now), \(now),
                    \(now.addingTimeInterval(Self.idleTimeout)))
            """)
        return token
    }

    /// The live session behind a cookie's token, its idle time restarted and its flash message
    /// taken; nil when it is unknown, signed out, expired, or its user may no longer enter.
    func resume(token: String) async throws -> Session? {
        let now = effects.now()
        let rows = try await database.query(
            """
            UPDATE console_sessions s
            SET last_seen_at = \(now), flash = NULL,
                expires_at = least(\(now.addingTimeInterval(Self.idleTimeout)), s.created_at + \(Self.lifetimeSeconds)::float8 * interval '1 second')
            FROM (SELECT id, flash FROM console_sessions
                  WHERE token_hash = \(SHA256.digestData(token)) AND revoked_at IS NULL AND expires_at > \(now)
                  FOR UPDATE) AS old
            WHERE s.id = old.id
            RETURNING s.id, s.user_id, s.csrf_token, old.flash
            """)
        guard let row = rows.first else { return nil }
        let (id, userID, csrf, flash) = try row.decode((UUID, UUID, String, String?).self)
        let principal: Principal
        do {
            principal = try await auth.principal(userID: userID)
        } catch let problem as Problem where problem.status == 401 {
            return nil
        }
        guard Self.roles.contains(principal.role) else { return nil }
        return Session(id: id, principal: principal, csrfToken: csrf, flash: flash)
    }

    /// Leaves a message for the session's next page.
    func flash(_ message: String, for session: Session) async throws {
        try await database.query("UPDATE console_sessions SET flash = \(message) WHERE id = \(session.id)")
    }

    /// Signing out: the session is over on the server, whatever the browser keeps.
    func end(_ session: Session) async throws {
        try await database.query(
            "UPDATE console_sessions SET revoked_at = \(effects.now()) WHERE id = \(session.id) AND revoked_at IS NULL")
    }

    func cookie(_ name: String, value: String) -> Cookie {
        Cookie(name: name, value: value, path: "/console", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// Tells the browser to forget a cookie.
    func expiredCookie(_ name: String) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/console", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }
}
