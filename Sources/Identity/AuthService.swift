import Core
import Crypto
import Foundation
import Logging
import PostgresNIO

/// Registration, login, token refresh and logout (SPEC sections 1 and 12).
public struct AuthService: Sendable {
    public struct Registration: Sendable {
        public var email: String
        public var password: String
        public var fullName: String
        public var phone: String
        public init(email: String, password: String, fullName: String, phone: String) {
            self.email = email
            self.password = password
            self.fullName = fullName
            self.phone = phone
        }
    }

    public struct Limits: Sendable {
        public var perIP: Int
        public var perEmail: Int
        public init(perIP: Int, perEmail: Int) {
            self.perIP = perIP
            self.perEmail = perEmail
        }
    }

    let database: Database
    let passwords: PasswordHasher
    let accessTokens: AccessTokens
    let rateLimiter: RateLimiter
    let limits: Limits
    let refreshTokenLifetime: Duration
    let effects: Effects

    public init(
        database: Database, passwords: PasswordHasher, accessTokens: AccessTokens, rateLimiter: RateLimiter,
        limits: Limits, refreshTokenLifetime: Duration, effects: Effects
    ) {
        self.database = database
        self.passwords = passwords
        self.accessTokens = accessTokens
        self.rateLimiter = rateLimiter
        self.limits = limits
        self.refreshTokenLifetime = refreshTokenLifetime
        self.effects = effects
    }

    /// Emails are compared case-insensitively: stored trimmed and lower-cased.
    public static func normaliseEmail(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static func isPlausibleEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."), email.count <= 254
        else { return false }
        return !email.contains(where: { $0.isWhitespace })
    }

    public func register(_ registration: Registration, clientIP: String) async throws -> Session {
        let email = Self.normaliseEmail(registration.email)
        var validator = Validator()
        validator.check(Self.isPlausibleEmail(email), "email", "must be an email address")
        PasswordHasher.validate(registration.password, into: &validator)
        let fullName = validator.text(registration.fullName, "full_name", max: 120)
        let phone = PhoneNumber(normalising: registration.phone)
        validator.check(phone != nil, "phone", "must be a Kenyan mobile number such as 0712345678")
        try validator.validate()
        let validPhone = try validator.required(phone, "phone")

        try await rateLimiter.hit(
            [("register:ip:\(clientIP)", limits.perIP), ("register:email:\(email)", limits.perEmail)], now: effects.now())
        let hash = try await passwords.hash(registration.password)
        let refresh = newRefreshToken()
        let (userID, familyID) = (UUID(), UUID())
        let now = effects.now()
        let expiresAt = now.addingTimeInterval(TimeInterval(refreshTokenLifetime.components.seconds))
        let user = try await database.transaction { connection in
            do {
                try await connection.exec(
                    """
                    INSERT INTO users (id, email, password_hash, full_name, phone)
                    VALUES (\(userID), \(email), \(hash), \(fullName), \(validPhone.value))
                    """, logger: database.logger)
            } catch where DatabaseError.uniqueViolation(error) == "users_email_key" {
                throw Problem.conflict("An account with this email already exists.", code: "email_taken")
            }
            try await Self.storeRefreshToken(
                refresh.hash, userID: userID, familyID: familyID, expiresAt: expiresAt, on: connection, logger: database.logger)
            guard let user = try await UserQueries.user(id: userID, on: connection, logger: database.logger) else {
                throw Problem.internalError
            }
            return user
        }
        return Session(
            user: user, accessToken: try await accessTokens.issue(for: userID, now: now),
            refreshToken: refresh.token, expiresIn: accessTokens.lifetimeSeconds)
    }

    public func login(email: String, password: String, clientIP: String) async throws -> Session {
        try await startSession(userID: try await verifyCredentials(email: email, password: password, clientIP: clientIP), familyID: UUID())
    }

    /// The active account an email and password belong to, under the login rate limits (per
    /// client address and per email). The one check behind every sign-in: the API's tokens and
    /// the console's sessions.
    public func verifyCredentials(email rawEmail: String, password: String, clientIP: String) async throws -> UUID {
        let email = Self.normaliseEmail(rawEmail)
        try await rateLimiter.hit(
            [("login:ip:\(clientIP)", limits.perIP), ("login:email:\(email)", limits.perEmail)], now: effects.now())
        let rows = try await database.query(
            "SELECT id, password_hash, is_active FROM users WHERE email = \(email)")
        guard let row = rows.first else {
            try await passwords.verifyAgainstDummy(password)
            throw Problem.unauthorized("The email or password is wrong.")
        }
        let (userID, hash, isActive) = try row.decode((UUID, String, Bool).self)
        guard try await passwords.verify(password, hash: hash) else {
            throw Problem.unauthorized("The email or password is wrong.")
        }
        guard isActive else { throw Problem.unauthorized("This account has been deactivated.") }
        return userID
    }

    /// Rotates a refresh token: the presented one is used up and a new one in the same family
    /// is issued. A token presented a second time revokes its whole family.
    public func refresh(token: String) async throws -> Session {
        let hash = SHA256.digestData(token)
        let now = effects.now()
        let used = try await database.query(
            """
            UPDATE refresh_tokens t SET used_at = \(now)
            FROM users u
            WHERE t.token_hash = \(hash) AND t.used_at IS NULL AND t.revoked_at IS NULL
              AND t.expires_at > \(now) AND u.id = t.user_id AND u.is_active
            RETURNING t.user_id, t.family_id
            """)
        if let row = used.first {
            let (userID, familyID) = try row.decode((UUID, UUID).self)
            return try await startSession(userID: userID, familyID: familyID)
        }
        // Reuse of a spent token: whoever holds the family may be an attacker; end it.
        try await database.query(
            """
            UPDATE refresh_tokens SET revoked_at = \(now)
            WHERE revoked_at IS NULL
              AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = \(hash) AND used_at IS NOT NULL)
            """)
        throw Problem.unauthorized("The refresh token is invalid, expired or already used.")
    }

    /// Revokes the family of the caller's refresh token; an unknown token changes nothing.
    public func logout(_ principal: Principal, refreshToken: String) async throws {
        try await database.query(
            """
            UPDATE refresh_tokens SET revoked_at = \(effects.now())
            WHERE revoked_at IS NULL AND user_id = \(principal.userID)
              AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = \(SHA256.digestData(refreshToken)))
            """)
    }

    /// The caller behind a bearer token: one indexed lookup for role, active flag, hub and merchant.
    public func authenticate(bearer token: String) async throws -> Principal {
        try await principal(userID: try await accessTokens.verify(token))
    }

    /// The user as a caller, read afresh: unknown or deactivated users are refused, so a
    /// deactivation ends every token and console session at once.
    public func principal(userID: UUID) async throws -> Principal {
        let rows = try await database.query(CallerLookup(userID: userID))
        guard let row = rows.first else { throw Problem.unauthorized("The account is unknown or deactivated.") }
        let (role, hubID, merchantID) = try row.decode((String, UUID?, UUID?).self)
        return Principal(userID: userID, role: Role(rawValue: role) ?? .customer, hubID: hubID, merchantID: merchantID)
    }

    public func me(_ principal: Principal) async throws -> User {
        let user = try await database.withConnection { connection in
            try await UserQueries.user(id: principal.userID, on: connection, logger: database.logger)
        }
        guard let user else { throw Problem.unauthorized }
        return user
    }

    private func startSession(userID: UUID, familyID: UUID) async throws -> Session {
        let refresh = newRefreshToken()
        let now = effects.now()
        let expiresAt = now.addingTimeInterval(TimeInterval(refreshTokenLifetime.components.seconds))
        let user = try await database.transaction { connection in
            try await Self.storeRefreshToken(
                refresh.hash, userID: userID, familyID: familyID, expiresAt: expiresAt, on: connection, logger: database.logger)
            return try await UserQueries.user(id: userID, on: connection, logger: database.logger)
        }
        guard let user else { throw Problem.unauthorized }
        return Session(
            user: user, accessToken: try await accessTokens.issue(for: userID, now: now),
            refreshToken: refresh.token, expiresIn: accessTokens.lifetimeSeconds)
    }

    private func newRefreshToken() -> (token: String, hash: Data) {
        let token = effects.opaqueToken()
        return (token, SHA256.digestData(token))
    }

    private static func storeRefreshToken(
        _ hash: Data, userID: UUID, familyID: UUID, expiresAt: Date, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.exec(
            """
            INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
            VALUES (\(userID), \(familyID), \(hash), \(expiresAt))
            """, logger: logger)
    }
}

extension AuthService {
    /// Every authenticated request asks it, so it is prepared.
    struct CallerLookup: PreparedStatement {
        static let sql = """
            SELECT u.role, hs.hub_id, m.id AS merchant_id
            FROM users u
            LEFT JOIN hub_staff hs ON hs.user_id = u.id
            LEFT JOIN merchants m ON m.user_id = u.id AND m.is_active
            WHERE u.id = $1 AND u.is_active
            """
        let userID: UUID

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(userID)
            return bindings
        }
    }
}
