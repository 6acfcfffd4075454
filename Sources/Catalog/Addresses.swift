import Core
import Foundation
import Identity
import PostgresNIO

/// A user's delivery addresses (SPEC sections 3 and 13): each names a zone, whose hub is the
/// parcel's destination and whose fee is the order's delivery fee. Only their owner sees them.
public struct Addresses: Sendable {
    public struct Address: Sendable, Equatable {
        public let id: UUID
        public let label: String
        public let zone: Zone
        public let line1: String
        public let phone: String
        public let createdAt: Date
    }

    public struct Zone: Sendable, Equatable {
        public let id: UUID
        public let name: String
        public let hubID: UUID
        public let hubCode: String
        public let hubName: String
        public let deliveryFeeCents: Int64
    }

    public struct Draft: Sendable {
        public var label: String
        public var zoneID: UUID
        public var line1: String
        public var phone: String

        public init(label: String, zoneID: UUID, line1: String, phone: String) {
            self.label = label
            self.zoneID = zoneID
            self.line1 = line1
            self.phone = phone
        }
    }

    let database: Database
    let effects: Effects

    public init(database: Database, effects: Effects) {
        self.database = database
        self.effects = effects
    }

    /// Adds an address in an active zone of an active hub (the zones customers can choose from).
    public func create(_ draft: Draft, for principal: Principal) async throws -> Address {
        var validator = Validator()
        let label = validator.text(draft.label, "label", max: 60)
        let line1 = validator.text(draft.line1, "line1", max: 300)
        let phone = PhoneNumber(normalising: draft.phone)
        validator.check(phone != nil, "phone", "must be a Kenyan mobile number such as 0712345678")
        try validator.validate()
        let validPhone = try validator.required(phone, "phone")
        let rows = try await database.query(
            """
            WITH created AS (
                INSERT INTO addresses (user_id, label, zone_id, line1, phone, created_at)
                SELECT \(principal.userID), \(label), z.id, \(line1), \(validPhone.value), \(effects.now())
                FROM zones z JOIN hubs h ON h.id = z.hub_id
                WHERE z.id = \(draft.zoneID) AND z.is_active AND h.is_active
                RETURNING *
            )
            SELECT \(unescaped: Self.columns) FROM created a \(unescaped: Self.joins)
            """)
        guard let row = rows.first else { throw Problem.validation(field: "zone_id", "no such active zone") }
        return try Self.decode(row)
    }

    /// The caller's addresses, newest first.
    public func list(for principal: Principal, page: PageRequest) async throws -> Page<Address> {
        let rows = try await database.query(
            """
            SELECT \(unescaped: Self.columns) FROM addresses a \(unescaped: Self.joins)
            WHERE a.user_id = \(principal.userID)
              AND (\(page.after?.createdAt)::timestamptz IS NULL OR (a.created_at, a.id) < (\(page.after?.createdAt), \(page.after?.id)))
            ORDER BY a.created_at DESC, a.id DESC LIMIT \(page.limit + 1)
            """)
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    private static let columns = """
        a.id, a.label, a.line1, a.phone, a.created_at, z.id AS zone_id, z.name AS zone_name, z.delivery_fee_cents,
        h.id AS hub_id, h.code AS hub_code, h.name AS hub_name
        """

    private static let joins = "JOIN zones z ON z.id = a.zone_id JOIN hubs h ON h.id = z.hub_id"

    private static func decode(_ row: PostgresRow) throws -> Address {
        let r = row.makeRandomAccess()
        return Address(
            id: try r.get("id"), label: try r.get("label"),
            zone: Zone(
                id: try r.get("zone_id"), name: try r.get("zone_name"), hubID: try r.get("hub_id"), hubCode: try r.get("hub_code"),
                hubName: try r.get("hub_name"), deliveryFeeCents: try r.get("delivery_fee_cents")),
            line1: try r.get("line1"), phone: try r.get("phone"), createdAt: try r.get("created_at"))
    }
}
