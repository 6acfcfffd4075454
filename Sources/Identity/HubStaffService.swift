import Core
import Foundation
import Logging
import PostgresNIO

/// Assigning users to a hub as staff and removing them (SPEC section 1: one hub at a time).
public struct HubStaffService: Sendable {
    public struct Member: Sendable, Equatable {
        public let userID: UUID
        public let hubID: UUID
        public let fullName: String
        public let email: String
        public let phone: String
        public let assignedAt: Date
    }

    let database: Database
    let effects: Effects

    public init(database: Database, effects: Effects) {
        self.database = database
        self.effects = effects
    }

    /// Makes a customer staff of the hub. Assigning a member to the hub they already serve
    /// changes nothing; a member of another hub must be removed there first.
    public func assign(userID: UUID, to hubID: UUID) async throws -> Member {
        let now = effects.now()
        return try await database.transaction { connection in
            let logger = database.logger
            let hubs = try await connection.exec("SELECT 1 FROM hubs WHERE id = \(hubID) FOR SHARE", logger: logger)
            guard !hubs.isEmpty else { throw Problem.notFound("Hub") }
            let users = try await connection.exec(
                """
                SELECT u.role, hs.hub_id FROM users u LEFT JOIN hub_staff hs ON hs.user_id = u.id
                WHERE u.id = \(userID) FOR UPDATE OF u
                """, logger: logger
            )
            guard let user = users.first else { throw Problem.validation(field: "user_id", "no such user") }
            let (role, currentHub) = try user.decode((String, UUID?).self)
            switch Role(rawValue: role) {
            case .hubStaff where currentHub == hubID:
                break
            case .hubStaff:
                throw Problem.conflict("The user is staff of another hub; remove them there first.", code: "staff_assigned_elsewhere")
            case .customer:
                try await connection.exec(
                    "INSERT INTO hub_staff (user_id, hub_id, assigned_at) VALUES (\(userID), \(hubID), \(now))", logger: logger)
                try await UserAdministration.setRole(.hubStaff, from: .customer, userID: userID, now: now, on: connection, logger: logger)
            default:
                throw Problem.conflict("Only customers can become hub staff; this user is \(role).", code: "role_conflict")
            }
            guard let member = try await Self.members(hubID: hubID, userID: userID, on: connection, logger: logger).first else {
                throw Problem.internalError
            }
            return member
        }
    }

    /// Ends the membership; the user goes back to being a customer.
    public func remove(userID: UUID, from hubID: UUID) async throws {
        let now = effects.now()
        try await database.transaction { connection in
            let logger = database.logger
            let removed = try await connection.exec(
                "DELETE FROM hub_staff WHERE user_id = \(userID) AND hub_id = \(hubID) RETURNING user_id", logger: logger
            )
            guard !removed.isEmpty else { throw Problem.notFound("Staff member") }
            try await connection.exec(
                "UPDATE users SET role = 'customer', updated_at = \(now) WHERE id = \(userID)", logger: logger)
        }
    }

    public func list(hubID: UUID) async throws -> [Member] {
        try await database.withConnection { connection in
            let hubs = try await connection.exec("SELECT 1 FROM hubs WHERE id = \(hubID)", logger: database.logger)
            guard !hubs.isEmpty else { throw Problem.notFound("Hub") }
            return try await Self.members(hubID: hubID, userID: nil, on: connection, logger: database.logger)
        }
    }

    private static func members(hubID: UUID, userID: UUID?, on connection: PostgresConnection, logger: Logger) async throws
        -> [Member]
    {
        let rows = try await connection.exec(
            """
            SELECT hs.user_id, hs.hub_id, u.full_name, u.email, u.phone, hs.assigned_at
            FROM hub_staff hs JOIN users u ON u.id = hs.user_id
            WHERE hs.hub_id = \(hubID) AND (\(userID)::uuid IS NULL OR hs.user_id = \(userID))
            ORDER BY u.full_name, u.id
            """, logger: logger
        )
        return try rows.map { row in
            let (userID, hubID, fullName, email, phone, assignedAt) = try row.decode((UUID, UUID, String, String, String, Date).self)
            return Member(userID: userID, hubID: hubID, fullName: fullName, email: email, phone: phone, assignedAt: assignedAt)
        }
    }
}
