import Core
import Foundation
import Logging
import PostgresNIO

/// Hubs and the zones they serve (SPEC section 3), kept by admins.
public struct Places: Sendable {
    public struct Hub: Sendable, Equatable {
        public let id: UUID
        public let code: String
        public let name: String
        public let city: String
        public let address: String
        public let phone: String
        public let openingHours: String
        public let isActive: Bool
        public let createdAt: Date
    }

    public struct HubInput: Sendable {
        public var code: String?
        public var name: String?
        public var city: String?
        public var address: String?
        public var phone: String?
        public var openingHours: String?
        public var isActive: Bool?
        public init(
            code: String? = nil, name: String? = nil, city: String? = nil, address: String? = nil, phone: String? = nil,
            openingHours: String? = nil, isActive: Bool? = nil
        ) {
            self.code = code
            self.name = name
            self.city = city
            self.address = address
            self.phone = phone
            self.openingHours = openingHours
            self.isActive = isActive
        }
    }

    public struct Zone: Sendable, Equatable {
        public let id: UUID
        public let name: String
        public let hubID: UUID
        public let hubCode: String
        public let hubName: String
        public let deliveryFeeCents: Int64
        public let isActive: Bool
        public let createdAt: Date
    }

    public struct ZoneInput: Sendable {
        public var name: String?
        public var hubID: UUID?
        public var deliveryFeeCents: Int64?
        public var isActive: Bool?
        public init(name: String? = nil, hubID: UUID? = nil, deliveryFeeCents: Int64? = nil, isActive: Bool? = nil) {
            self.name = name
            self.hubID = hubID
            self.deliveryFeeCents = deliveryFeeCents
            self.isActive = isActive
        }
    }

    let database: Database
    let effects: Effects

    public init(database: Database, effects: Effects) {
        self.database = database
        self.effects = effects
    }

    // MARK: Hubs

    public func createHub(_ input: HubInput) async throws -> Hub {
        let hub = try Self.validated(input, creating: true)
        let validator = Validator()
        let (code, name, city, address, phone) = (
            try validator.required(hub.code, "code"), try validator.required(hub.name, "name"), try validator.required(hub.city, "city"),
            try validator.required(hub.address, "address"), try validator.required(hub.phone, "phone"))
        let rows = try await uniqueHubCode {
            try await database.query(
                """
                INSERT INTO hubs (code, name, city, address, phone, opening_hours, is_active, created_at, updated_at)
                VALUES (\(code), \(name), \(city), \(address), \(phone), \(hub.openingHours ?? ""),
                        \(hub.isActive ?? true), \(effects.now()), \(effects.now()))
                RETURNING \(unescaped: Self.hubColumns)
                """)
        }
        return try Self.decodeHub(rows[0])
    }

    public func updateHub(_ id: UUID, _ input: HubInput) async throws -> Hub {
        let hub = try Self.validated(input, creating: false)
        let rows = try await uniqueHubCode {
            try await database.query(
                """
                UPDATE hubs SET code = coalesce(\(hub.code), code), name = coalesce(\(hub.name), name),
                    city = coalesce(\(hub.city), city), address = coalesce(\(hub.address), address),
                    phone = coalesce(\(hub.phone), phone), opening_hours = coalesce(\(hub.openingHours), opening_hours),
                    is_active = coalesce(\(hub.isActive), is_active), updated_at = \(effects.now())
                WHERE id = \(id)
                RETURNING \(unescaped: Self.hubColumns)
                """)
        }
        guard let row = rows.first else { throw Problem.notFound("Hub") }
        return try Self.decodeHub(row)
    }

    public func hub(_ id: UUID) async throws -> Hub {
        let rows = try await database.query("SELECT \(unescaped: Self.hubColumns) FROM hubs WHERE id = \(id)")
        guard let row = rows.first else { throw Problem.notFound("Hub") }
        return try Self.decodeHub(row)
    }

    public func hubs(page: PageRequest) async throws -> Page<Hub> {
        let rows = try await database.query(
            """
            SELECT \(unescaped: Self.hubColumns) FROM hubs
            WHERE \(page.after?.createdAt)::timestamptz IS NULL OR (created_at, id) < (\(page.after?.createdAt), \(page.after?.id))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """)
        return Page(fetched: try rows.map(Self.decodeHub), limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    // MARK: Zones

    public func createZone(_ input: ZoneInput) async throws -> Zone {
        var validator = Validator()
        let name = validator.text(input.name ?? "", "name", max: 120)
        validator.check(input.hubID != nil, "hub_id", "is required")
        Self.checkFee(input.deliveryFeeCents, required: true, into: &validator)
        try validator.validate()
        let (hubID, fee) = (try validator.required(input.hubID, "hub_id"), try validator.required(input.deliveryFeeCents, "delivery_fee_cents"))
        let rows = try await uniqueZoneName {
            try await database.query(
                """
                WITH created AS (
                    INSERT INTO zones (name, hub_id, delivery_fee_cents, is_active, created_at, updated_at)
                    SELECT \(name), h.id, \(fee), \(input.isActive ?? true), \(effects.now()), \(effects.now())
                    FROM hubs h WHERE h.id = \(hubID)
                    RETURNING *
                )
                SELECT \(unescaped: Self.zoneColumns) FROM created z JOIN hubs h ON h.id = z.hub_id
                """)
        }
        guard let row = rows.first else { throw Problem.validation(field: "hub_id", "no such hub") }
        return try Self.decodeZone(row)
    }

    public func updateZone(_ id: UUID, _ input: ZoneInput) async throws -> Zone {
        var validator = Validator()
        let name = input.name.map { validator.text($0, "name", max: 120) }
        Self.checkFee(input.deliveryFeeCents, required: false, into: &validator)
        try validator.validate()
        if let hubID = input.hubID {
            let hubs = try await database.query("SELECT 1 FROM hubs WHERE id = \(hubID)")
            guard !hubs.isEmpty else { throw Problem.validation(field: "hub_id", "no such hub") }
        }
        let rows = try await uniqueZoneName {
            try await database.query(
                """
                WITH updated AS (
                    UPDATE zones SET name = coalesce(\(name), name), hub_id = coalesce(\(input.hubID), hub_id),
                        delivery_fee_cents = coalesce(\(input.deliveryFeeCents), delivery_fee_cents),
                        is_active = coalesce(\(input.isActive), is_active), updated_at = \(effects.now())
                    WHERE id = \(id)
                    RETURNING *
                )
                SELECT \(unescaped: Self.zoneColumns) FROM updated z JOIN hubs h ON h.id = z.hub_id
                """)
        }
        guard let row = rows.first else { throw Problem.notFound("Zone") }
        return try Self.decodeZone(row)
    }

    public func zone(_ id: UUID) async throws -> Zone {
        let rows = try await database.query(
            "SELECT \(unescaped: Self.zoneColumns) FROM zones z JOIN hubs h ON h.id = z.hub_id WHERE z.id = \(id)")
        guard let row = rows.first else { throw Problem.notFound("Zone") }
        return try Self.decodeZone(row)
    }

    /// Zones by name; `activeOnly` for the public list customers choose from.
    public func zones(hubID: UUID?, activeOnly: Bool, page: PageRequest) async throws -> Page<Zone> {
        let rows = try await database.query(
            """
            SELECT \(unescaped: Self.zoneColumns) FROM zones z JOIN hubs h ON h.id = z.hub_id
            WHERE (\(hubID)::uuid IS NULL OR z.hub_id = \(hubID))
              AND (NOT \(activeOnly) OR (z.is_active AND h.is_active))
              AND (\(page.after?.createdAt)::timestamptz IS NULL OR (z.created_at, z.id) < (\(page.after?.createdAt), \(page.after?.id)))
            ORDER BY z.created_at DESC, z.id DESC LIMIT \(page.limit + 1)
            """)
        return Page(fetched: try rows.map(Self.decodeZone), limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    // MARK: Rules

    private static func validated(_ input: HubInput, creating: Bool) throws(Problem) -> HubInput {
        var validator = Validator()
        var hub = input
        func text(_ value: String?, _ field: String, max: Int) -> String? {
            guard let value else {
                if creating { validator.fail(field, "is required") }
                return nil
            }
            return validator.text(value, field, max: max)
        }
        hub.code = text(input.code, "code", max: 20)?.uppercased()
        if let code = hub.code, !code.isEmpty {
            let pieces = code.split(separator: "-", omittingEmptySubsequences: false)
            validator.check(
                pieces.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } },
                "code", "must be letters and digits in groups joined by '-', e.g. NBO-CBD")
        }
        hub.name = text(input.name, "name", max: 120)
        hub.city = text(input.city, "city", max: 80)
        hub.address = text(input.address, "address", max: 300)
        if let phone = input.phone {
            hub.phone = PhoneNumber(normalising: phone)?.value
            validator.check(hub.phone != nil, "phone", "must be a Kenyan phone number such as 0712345678")
        } else if creating {
            validator.fail("phone", "is required")
        }
        hub.openingHours = input.openingHours.map { validator.text($0, "opening_hours", min: 0, max: 200, multiline: true) }
        try validator.validate()
        return hub
    }

    private static func checkFee(_ fee: Int64?, required: Bool, into validator: inout Validator) {
        guard let fee else {
            if required { validator.fail("delivery_fee_cents", "is required") }
            return
        }
        validator.check(fee >= 0, "delivery_fee_cents", "must not be negative")
        validator.check(fee <= Money.maximumDeliveryFeeCents, "delivery_fee_cents", "must be at most \(Money.maximumDeliveryFeeCents) cents")
        validator.check(Money.isWholeShillings(fee), "delivery_fee_cents", "must be whole shillings (a multiple of 100 cents)")
    }

    private func uniqueHubCode(_ work: () async throws -> [PostgresRow]) async throws -> [PostgresRow] {
        do {
            return try await work()
        } catch let problem as Problem where problem.status == 409 {
            throw Problem.conflict("A hub with this code already exists.", code: "hub_code_taken")
        }
    }

    private func uniqueZoneName(_ work: () async throws -> [PostgresRow]) async throws -> [PostgresRow] {
        do {
            return try await work()
        } catch let problem as Problem where problem.status == 409 {
            throw Problem.conflict("A zone with this name already exists.", code: "zone_name_taken")
        }
    }

    private static let hubColumns = "id, code, name, city, address, phone, opening_hours, is_active, created_at"
    private static let zoneColumns =
        "z.id, z.name, z.hub_id, h.code AS hub_code, h.name AS hub_name, z.delivery_fee_cents, z.is_active, z.created_at"

    private static func decodeHub(_ row: PostgresRow) throws -> Hub {
        let r = row.makeRandomAccess()
        return Hub(
            id: try r.get("id"), code: try r.get("code"), name: try r.get("name"), city: try r.get("city"),
            address: try r.get("address"), phone: try r.get("phone"), openingHours: try r.get("opening_hours"),
            isActive: try r.get("is_active"), createdAt: try r.get("created_at"))
    }

    private static func decodeZone(_ row: PostgresRow) throws -> Zone {
        let r = row.makeRandomAccess()
        return Zone(
            id: try r.get("id"), name: try r.get("name"), hubID: try r.get("hub_id"), hubCode: try r.get("hub_code"),
            hubName: try r.get("hub_name"), deliveryFeeCents: try r.get("delivery_fee_cents"), isActive: try r.get("is_active"),
            createdAt: try r.get("created_at"))
    }
}
