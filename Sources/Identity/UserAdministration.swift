import Core
import Foundation
import Logging
import PostgresNIO

/// Admin listing of users, role changes and deactivation (SPEC section 1).
public struct UserAdministration: Sendable {
    public struct Filter: Sendable {
        public var role: Role?
        public var isActive: Bool?
        public var query: String?
        public init(role: Role?, isActive: Bool?, query: String?) {
            self.role = role
            self.isActive = isActive
            self.query = query
        }
    }

    public struct Change: Sendable {
        public var role: Role?
        public var isActive: Bool?
        public init(role: Role?, isActive: Bool?) {
            self.role = role
            self.isActive = isActive
        }
    }

    let database: Database
    let effects: Effects

    public init(database: Database, effects: Effects) {
        self.database = database
        self.effects = effects
    }

    public func list(_ filter: Filter, page: PageRequest) async throws -> Page<User> {
        var query = FilterQuery()
        if let role = filter.role { query.filter("u.role = \(try query.bind(role.rawValue))") }
        if let isActive = filter.isActive { query.filter("u.is_active = \(try query.bind(isActive))") }
        if let text = filter.query?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            let pattern = try query.bind(FilterQuery.containsPattern(text.lowercased()))
            query.filter("(u.email LIKE \(pattern) OR lower(u.full_name) LIKE \(pattern))")
        }
        if let after = page.after {
            query.filter("(u.created_at, u.id) < (\(try query.bind(after.createdAt)), \(try query.bind(after.id)))")
        }
        let limit = try query.bind(page.limit + 1)
        let users = try await database.query(
            query.query(UserQueries.selectColumns, "ORDER BY u.created_at DESC, u.id DESC LIMIT \(limit)")
        ).map(UserQueries.decode)
        return Page(fetched: users, limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    public func get(_ id: UUID) async throws -> User {
        let user = try await database.withConnection { connection in
            try await UserQueries.user(id: id, on: connection, logger: database.logger)
        }
        guard let user else { throw Problem.notFound("User") }
        return user
    }

    /// Changes role and/or active flag. Merchants are made by approving an application and hub
    /// staff by assigning them to a hub, so only `customer` and `admin` can be set here; leaving
    /// `hub_staff` ends the hub membership and leaving `merchant` deactivates the merchant.
    public func change(_ id: UUID, _ change: Change, by admin: Principal) async throws -> User {
        if let role = change.role, role != .customer, role != .admin {
            throw Problem.validation(
                field: "role", "can only be set to customer or admin; merchants are approved from an application and hub staff are assigned to a hub")
        }
        if id == admin.userID, change.role == .customer || change.isActive == false {
            throw Problem.conflict("Admins cannot demote or deactivate themselves.")
        }
        let now = effects.now()
        return try await database.transaction { connection in
            let logger = database.logger
            let rows = try await connection.exec("SELECT role FROM users WHERE id = \(id) FOR UPDATE", logger: logger)
            guard let row = rows.first else { throw Problem.notFound("User") }
            let currentRole = Role(rawValue: try row.decode(String.self)) ?? .customer
            if let role = change.role {
                try await Self.setRole(role, from: currentRole, userID: id, now: now, on: connection, logger: logger)
            }
            if let isActive = change.isActive {
                try await connection.exec(
                    "UPDATE users SET is_active = \(isActive), updated_at = \(now) WHERE id = \(id)", logger: logger)
                if !isActive {
                    try await connection.exec(
                        "UPDATE refresh_tokens SET revoked_at = \(now) WHERE user_id = \(id) AND revoked_at IS NULL",
                        logger: logger)
                    // A later reactivation must not bring old console sessions back.
                    try await connection.exec(
                        "UPDATE console_sessions SET revoked_at = \(now) WHERE user_id = \(id) AND revoked_at IS NULL",
                        logger: logger)
                }
            }
            guard let user = try await UserQueries.user(id: id, on: connection, logger: logger) else {
                throw Problem.notFound("User")
            }
            return user
        }
    }

    /// Creates an admin, or promotes the existing account with that email (the `create-admin`
    /// command). Returns whether an account was created.
    @discardableResult
    public func createAdmin(email rawEmail: String, password: String, fullName: String, phone: String, hasher: PasswordHasher)
        async throws -> Bool
    {
        let email = AuthService.normaliseEmail(rawEmail)
        var validator = Validator()
        validator.check(AuthService.isPlausibleEmail(email), "email", "must be an email address")
        PasswordHasher.validate(password, into: &validator)
        let phone = PhoneNumber(normalising: phone)
        validator.check(phone != nil, "phone", "must be a Kenyan mobile number")
        try validator.validate()
        let validPhone = try validator.required(phone, "phone")
        let hash = try await hasher.hash(password)
        let now = effects.now()
        return try await database.transaction { connection in
            let logger = database.logger
            let existing = try await connection.exec(
                "SELECT id, role FROM users WHERE email = \(email) FOR UPDATE", logger: logger
            )
            guard let row = existing.first else {
                try await connection.exec(
                    """
                    INSERT INTO users (email, password_hash, full_name, phone, role)
                    VALUES (\(email), \(hash), \(fullName), \(validPhone.value), 'admin')
                    """, logger: logger)
                return true
            }
            let (id, role) = try row.decode((UUID, String).self)
            try await Self.setRole(.admin, from: Role(rawValue: role) ?? .customer, userID: id, now: now, on: connection, logger: logger)
            try await connection.exec(
                "UPDATE users SET password_hash = \(hash), is_active = true, updated_at = \(now) WHERE id = \(id)",
                logger: logger)
            return false
        }
    }

    /// The one place a role is changed: leaving `hub_staff` ends the hub membership, leaving
    /// `merchant` deactivates the merchant.
    static func setRole(
        _ role: Role, from currentRole: Role, userID: UUID, now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard role != currentRole else { return }
        if currentRole == .hubStaff {
            try await connection.exec("DELETE FROM hub_staff WHERE user_id = \(userID)", logger: logger)
        }
        if currentRole == .merchant {
            try await connection.exec(
                "UPDATE merchants SET is_active = false, updated_at = \(now) WHERE user_id = \(userID)", logger: logger)
        }
        try await connection.exec(
            "UPDATE users SET role = \(role.rawValue), updated_at = \(now) WHERE id = \(userID)", logger: logger)
    }
}
