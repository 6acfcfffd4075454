import Core
import Foundation
import Identity
import Logging
import PostgresNIO

/// Cash collected at delivery, held by the staff member until they hand it to their hub
/// (SPEC section 5, cash remittance).
public struct CashRemittances: Sendable {
    public struct Collection: Sendable, Equatable {
        public let id: UUID
        public let subOrderID: UUID
        public let subOrderNumber: String
        public let amountCents: Int64
        public let collectedAt: Date
    }

    public struct Remittance: Sendable, Equatable {
        public let id: UUID
        public let hubID: UUID
        public let staffID: UUID
        public let expectedCents: Int64
        public let declaredCents: Int64
        public let varianceCents: Int64
        public let createdAt: Date
        public var collections: [Collection]
    }

    public struct OpenCash: Sendable, Equatable {
        public let hub: HubSummary
        public let staffID: UUID
        public let staffName: String
        public let openCents: Int64
        public let collectionCount: Int
    }

    let database: Database
    let effects: Effects

    public init(database: Database, effects: Effects) {
        self.database = database
        self.effects = effects
    }

    /// The caller's collections at their hub that no remittance has closed yet.
    public func openCollections(of staff: Principal) async throws -> [Collection] {
        let hubID = try Self.hub(staff)
        return try await database.query(
            """
            SELECT c.id, c.sub_order_id, s.number, c.amount_cents, c.collected_at
            FROM cod_collections c JOIN sub_orders s ON s.id = c.sub_order_id
            WHERE c.staff_id = \(staff.userID) AND c.hub_id = \(hubID) AND c.remittance_id IS NULL
            ORDER BY c.collected_at, c.id
            """
        ).map(Self.decodeCollection)
    }

    /// Closes every open collection of the caller at their hub in one statement, so a delivery
    /// committing at the same moment lands either in this remittance or stays open, never both.
    public func remit(declaredCents: Int64, by staff: Principal) async throws -> Remittance {
        let hubID = try Self.hub(staff)
        guard (0...Money.maximumDeclaredCents).contains(declaredCents) else {
            throw Problem.validation(field: "declared_cents", "must be between 0 and \(Money.maximumDeclaredCents) cents")
        }
        let id = UUID()
        let now = effects.now()
        let rows = try await database.query(
            """
            WITH closed AS (
                UPDATE cod_collections SET remittance_id = \(id)
                WHERE staff_id = \(staff.userID) AND hub_id = \(hubID) AND remittance_id IS NULL
                RETURNING amount_cents
            )
            INSERT INTO remittances (id, hub_id, staff_id, expected_cents, declared_cents, created_at)
            SELECT \(id), \(hubID), \(staff.userID), sum(amount_cents), \(declaredCents), \(now) FROM closed
            HAVING count(*) > 0
            RETURNING id
            """)
        guard !rows.isEmpty else {
            throw Problem.conflict("You hold no collected cash at this hub.", code: "nothing_to_remit")
        }
        return try await remittances(page: nil) { $0.filter("r.id = \(try $0.bind(id))") }.items[0]
    }

    /// The caller's past remittances at their hub, newest first.
    public func remittances(of staff: Principal, page: PageRequest) async throws -> Page<Remittance> {
        let hubID = try Self.hub(staff)
        return try await remittances(page: page) { query in
            query.filter("r.staff_id = \(try query.bind(staff.userID))")
            query.filter("r.hub_id = \(try query.bind(hubID))")
        }
    }

    /// For admins: open cash per hub and staff member.
    public func openCashByStaff() async throws -> [OpenCash] {
        try await database.query(
            """
            SELECT h.id AS hub_id, h.code, h.name AS hub_name, u.id AS staff_id, u.full_name,
                   sum(c.amount_cents)::bigint AS open_cents, count(*) AS collections
            FROM cod_collections c JOIN hubs h ON h.id = c.hub_id JOIN users u ON u.id = c.staff_id
            WHERE c.remittance_id IS NULL
            GROUP BY h.id, h.code, h.name, u.id, u.full_name
            ORDER BY h.code, u.full_name, u.id
            """
        ).map { row in
            let r = row.makeRandomAccess()
            return OpenCash(
                hub: HubSummary(id: try r.get("hub_id"), code: try r.get("code"), name: try r.get("hub_name")),
                staffID: try r.get("staff_id"), staffName: try r.get("full_name"), openCents: try r.get("open_cents"),
                collectionCount: try r.get("collections"))
        }
    }

    /// For admins: every remittance, newest first.
    public func allRemittances(page: PageRequest) async throws -> Page<Remittance> {
        try await remittances(page: page) { _ in }
    }

    private func remittances(page: PageRequest?, _ filters: (inout FilterQuery) throws -> Void) async throws -> Page<Remittance> {
        var query = FilterQuery()
        try filters(&query)
        if let after = page?.after {
            query.filter("(r.created_at, r.id) < (\(try query.bind(after.createdAt)), \(try query.bind(after.id)))")
        }
        let limit = try query.bind((page?.limit ?? 1) + 1)
        let statement = query.query(
            """
            SELECT r.id, r.hub_id, r.staff_id, r.expected_cents, r.declared_cents, r.variance_cents, r.created_at
            FROM remittances r
            """, "ORDER BY r.created_at DESC, r.id DESC LIMIT \(limit)")
        var remittances = try await database.query(statement).map { row in
            let r = row.makeRandomAccess()
            return Remittance(
                id: try r.get("id"), hubID: try r.get("hub_id"), staffID: try r.get("staff_id"),
                expectedCents: try r.get("expected_cents"), declaredCents: try r.get("declared_cents"),
                varianceCents: try r.get("variance_cents"), createdAt: try r.get("created_at"), collections: [])
        }
        let collections = try await database.query(
            """
            SELECT c.id, c.sub_order_id, s.number, c.amount_cents, c.collected_at, c.remittance_id
            FROM cod_collections c JOIN sub_orders s ON s.id = c.sub_order_id
            WHERE c.remittance_id = ANY(\(remittances.map(\.id)))
            ORDER BY c.collected_at, c.id
            """)
        var byRemittance: [UUID: [Collection]] = [:]
        for row in collections {
            byRemittance[try row.makeRandomAccess().get("remittance_id"), default: []].append(try Self.decodeCollection(row))
        }
        for index in remittances.indices { remittances[index].collections = byRemittance[remittances[index].id] ?? [] }
        return Page(fetched: remittances, limit: page?.limit ?? 1) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    private static func decodeCollection(_ row: PostgresRow) throws -> Collection {
        let r = row.makeRandomAccess()
        return Collection(
            id: try r.get("id"), subOrderID: try r.get("sub_order_id"), subOrderNumber: try r.get("number"),
            amountCents: try r.get("amount_cents"), collectedAt: try r.get("collected_at"))
    }

    private static func hub(_ staff: Principal) throws -> UUID {
        guard staff.role == .hubStaff, let hubID = staff.hubID else { throw Problem.forbidden() }
        return hubID
    }
}
