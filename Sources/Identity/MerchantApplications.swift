import Core
import Foundation
import Logging
import PostgresNIO

/// A customer applies to sell; an admin approves (choosing the home hub and commission) or
/// rejects. Approval creates the merchant and makes the user a merchant in one transaction.
public struct MerchantApplications: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case pending, approved, rejected
    }

    public struct Application: Sendable, Equatable {
        public let id: UUID
        public let userID: UUID
        public let businessName: String
        public let phone: String
        public let zoneID: UUID
        public let description: String
        public let status: Status
        public let decisionNote: String?
        public let decidedAt: Date?
        public let merchantID: UUID?
        public let createdAt: Date
    }

    public struct Submission: Sendable {
        public var businessName: String
        public var phone: String
        public var zoneID: UUID
        public var description: String?
        public init(businessName: String, phone: String, zoneID: UUID, description: String?) {
            self.businessName = businessName
            self.phone = phone
            self.zoneID = zoneID
            self.description = description
        }
    }

    let database: Database
    let effects: Effects
    let defaultCommissionBps: Int

    public init(database: Database, effects: Effects, defaultCommissionBps: Int) {
        self.database = database
        self.effects = effects
        self.defaultCommissionBps = defaultCommissionBps
    }

    public func submit(_ submission: Submission, by principal: Principal) async throws -> Application {
        switch principal.role {
        case .customer: break
        case .merchant: throw Problem.conflict("You are already a merchant.", code: "already_merchant")
        case .hubStaff, .admin: throw Problem.forbidden("Hub staff and admins cannot apply to become merchants.")
        }
        var validator = Validator()
        let name = validator.text(submission.businessName, "business_name", max: 120)
        let phone = PhoneNumber(normalising: submission.phone)
        validator.check(phone != nil, "phone", "must be a Kenyan mobile number such as 0712345678")
        let description = validator.text(submission.description ?? "", "description", min: 0, max: 2000, multiline: true)
        try validator.validate()
        let validPhone = try validator.required(phone, "phone")
        let rows: [PostgresRow]
        do {
            rows = try await database.query(
                """
                INSERT INTO merchant_applications (user_id, business_name, phone, zone_id, description, created_at)
                SELECT \(principal.userID), \(name), \(validPhone.value), z.id, \(description), \(effects.now())
                FROM zones z WHERE z.id = \(submission.zoneID) AND z.is_active
                RETURNING \(unescaped: Self.columns)
                """)
        } catch where DatabaseError.uniqueViolation(error) == "merchant_applications_pending_key" {
            throw Problem.conflict("You already have an application waiting for a decision.", code: "application_pending")
        }
        guard let row = rows.first else { throw Problem.validation(field: "zone_id", "no such active zone") }
        return try Self.decode(row)
    }

    public func mine(_ principal: Principal) async throws -> [Application] {
        try await database.query(
            "SELECT \(unescaped: Self.columns) FROM merchant_applications WHERE user_id = \(principal.userID) ORDER BY created_at DESC"
        ).map(Self.decode)
    }

    public func list(status: Status?, page: PageRequest) async throws -> Page<Application> {
        let rows = try await database.query(
            """
            SELECT \(unescaped: Self.columns) FROM merchant_applications
            WHERE (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(page.after?.createdAt)::timestamptz IS NULL OR (created_at, id) < (\(page.after?.createdAt), \(page.after?.id)))
            ORDER BY created_at DESC, id DESC
            LIMIT \(page.limit + 1)
            """)
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    public func approve(_ id: UUID, homeHubID: UUID, commissionBps: Int?, note rawNote: String?, by admin: Principal) async throws
        -> Application
    {
        let note = try Validator.note(rawNote)
        let commission = commissionBps ?? defaultCommissionBps
        guard (0...10_000).contains(commission) else {
            throw Problem.validation(field: "commission_bps", "must be between 0 and 10000")
        }
        let now = effects.now()
        return try await database.transaction { connection in
            let logger = database.logger
            let application = try await Self.lockPending(id, on: connection, logger: logger)
            let hubs = try await connection.exec(
                "SELECT 1 FROM hubs WHERE id = \(homeHubID) AND is_active FOR SHARE", logger: logger
            )
            guard !hubs.isEmpty else { throw Problem.validation(field: "home_hub_id", "no such active hub") }
            let users = try await connection.exec(
                "SELECT role, is_active FROM users WHERE id = \(application.userID) FOR UPDATE", logger: logger
            )
            guard let user = users.first else { throw Problem.notFound("Applicant") }
            let (role, isActive) = try user.decode((String, Bool).self)
            guard role == Role.customer.rawValue, isActive else {
                throw Problem.conflict(
                    "The applicant is no longer an active customer (role \(role)); reject the application instead.",
                    code: "role_conflict")
            }
            // A former merchant keeps their merchant id (and its history) and is reactivated.
            let merchant = try await connection.exec(
                """
                INSERT INTO merchants (user_id, business_name, phone, home_hub_id, commission_bps, created_at, updated_at)
                VALUES (\(application.userID), \(application.businessName), \(application.phone), \(homeHubID), \(commission), \(now), \(now))
                ON CONFLICT (user_id) DO UPDATE SET business_name = EXCLUDED.business_name, phone = EXCLUDED.phone,
                    home_hub_id = EXCLUDED.home_hub_id, commission_bps = EXCLUDED.commission_bps, is_active = true,
                    updated_at = EXCLUDED.updated_at
                RETURNING id
                """, logger: logger
            )
            let merchantID = try merchant[0].decode(UUID.self)
            try await UserAdministration.setRole(.merchant, from: .customer, userID: application.userID, now: now, on: connection, logger: logger)
            let rows = try await connection.exec(
                """
                UPDATE merchant_applications
                SET status = 'approved', merchant_id = \(merchantID), decided_by = \(admin.userID), decided_at = \(now),
                    decision_note = \(note)
                WHERE id = \(id) AND status = 'pending'
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            )
            return try Self.decode(rows[0])
        }
    }

    public func reject(_ id: UUID, note rawNote: String?, by admin: Principal) async throws -> Application {
        let note = try Validator.note(rawNote)
        let now = effects.now()
        return try await database.transaction { connection in
            let logger = database.logger
            _ = try await Self.lockPending(id, on: connection, logger: logger)
            let rows = try await connection.exec(
                """
                UPDATE merchant_applications
                SET status = 'rejected', decided_by = \(admin.userID), decided_at = \(now), decision_note = \(note)
                WHERE id = \(id) AND status = 'pending'
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            )
            return try Self.decode(rows[0])
        }
    }

    private static func lockPending(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Application {
        let rows = try await connection.exec(
            "SELECT \(unescaped: columns) FROM merchant_applications WHERE id = \(id) FOR UPDATE", logger: logger
        )
        guard let row = rows.first else { throw Problem.notFound("Merchant application") }
        let application = try decode(row)
        guard application.status == .pending else {
            throw Problem.invalidTransition(application.status, "The application was already \(application.status.rawValue).")
        }
        return application
    }

    private static let columns =
        "id, user_id, business_name, phone, zone_id, description, status, decision_note, decided_at, merchant_id, created_at"

    private static func decode(_ row: PostgresRow) throws -> Application {
        let r = row.makeRandomAccess()
        return Application(
            id: try r.get("id"), userID: try r.get("user_id"), businessName: try r.get("business_name"),
            phone: try r.get("phone"), zoneID: try r.get("zone_id"), description: try r.get("description"),
            status: Status(rawValue: try r.get("status")) ?? .pending, decisionNote: try r.get("decision_note"),
            decidedAt: try r.get("decided_at"), merchantID: try r.get("merchant_id"), createdAt: try r.get("created_at"))
    }
}
