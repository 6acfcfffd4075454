import Core
import Foundation
import Identity
import Orders
import PostgresNIO
import Server

/// A small marketplace on a fresh database: three hubs, a zone served by the first, three
/// merchants (one at the zone's hub, two elsewhere), their products, and a customer with an
/// address in the zone.
public struct World: Sendable {
    public let services: Services
    public let hubs: [UUID]  // NBO (serves the zone), MSA, KSM
    public let zone: UUID
    public let feeCents: Int64
    /// Merchants at NBO (1000 bps), MSA (1250 bps) and KSM (0 bps).
    public let merchants: [UUID]
    public let merchantUsers: [UUID]
    /// Two products per merchant: [merchant][index].
    public let products: [[UUID]]
    public let customer: UUID
    public let address: UUID

    public var database: Database { services.database }

    public static let prices: [[Int64]] = [[12_300, 50_000], [36_900, 1_000], [99_900, 100]]

    public static func with(settings: [String: String] = [:], _ body: @escaping @Sendable (World) async throws -> Void) async throws {
        try await TestDatabase.with { database, url in
            let services = await Services(config: try TestApp.config(databaseURL: url, settings: settings), database: database)
            try await body(try await make(services))
        }
    }

    public static func make(_ services: Services, feeCents: Int64 = 50_000) async throws -> World {
        let places = services.places
        var hubs: [UUID] = []
        for code in ["NBO", "MSA", "KSM"] {
            hubs.append(try await places.createHub(.init(code: code, name: "\(code) Hub", city: code, address: "Street", phone: "0711000000")).id)
        }
        let zone = try await places.createZone(.init(name: "Zone", hubID: hubs[0], deliveryFeeCents: feeCents)).id
        let category = try await services.database.query(
            "INSERT INTO categories (name, slug) VALUES ('Things', 'things') RETURNING id")[0].decode(UUID.self)
        var merchants: [UUID] = []
        var merchantUsers: [UUID] = []
        var products: [[UUID]] = []
        for (index, (hub, bps)) in zip(hubs, [1000, 1250, 0]).enumerated() {
            let user = try await makeUser(services, email: "merchant\(index)@example.com", role: "merchant")
            let merchant = try await services.database.query(
                """
                INSERT INTO merchants (user_id, business_name, phone, home_hub_id, commission_bps)
                VALUES (\(user), \("Merchant \(index)"), '254722000000', \(hub), \(bps)) RETURNING id
                """)[0].decode(UUID.self)
            merchants.append(merchant)
            merchantUsers.append(user)
            var own: [UUID] = []
            for (number, price) in prices[index].enumerated() {
                own.append(
                    try await services.database.query(
                        """
                        INSERT INTO products (merchant_id, category_id, name, price_cents, stock)
                        VALUES (\(merchant), \(category), \("Product \(index)-\(number)"), \(price), 20) RETURNING id
                        """)[0].decode(UUID.self))
            }
            products.append(own)
        }
        let customer = try await makeUser(services, email: "customer@example.com", role: "customer")
        let address = try await addAddress(services, user: customer, zone: zone)
        return World(
            services: services, hubs: hubs, zone: zone, feeCents: feeCents, merchants: merchants, merchantUsers: merchantUsers,
            products: products, customer: customer, address: address)
    }

    public static func makeUser(_ services: Services, email: String, role: String = "customer") async throws -> UUID {
        try await services.database.query(
            """
            INSERT INTO users (email, password_hash, full_name, phone, role)
            VALUES (\(email), 'not-a-hash', 'Test', '254712345678', \(role)) RETURNING id
            """)[0].decode(UUID.self)
    }

    public static func addAddress(_ services: Services, user: UUID, zone: UUID) async throws -> UUID {
        try await services.database.query(
            """
            INSERT INTO addresses (user_id, label, zone_id, line1, phone)
            VALUES (\(user), 'Home', \(zone), 'Kenyatta Avenue 1', '254712345678') RETURNING id
            """)[0].decode(UUID.self)
    }

    public func put(_ product: UUID, _ quantity: Int, for user: UUID? = nil) async throws {
        _ = try await database.query(
            """
            INSERT INTO cart_items (user_id, product_id, quantity) VALUES (\(user ?? customer), \(product), \(quantity))
            ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity
            """)
    }

    public func checkout(
        key: String = UUID().uuidString, method: PaymentMethod = .cod, expected: Int64? = nil, customer: UUID? = nil,
        address: UUID? = nil
    ) async throws -> Checkout.Outcome {
        try await services.orders.checkout.place(
            .init(idempotencyKey: key, addressID: address ?? self.address, paymentMethod: method, expectedTotalCents: expected),
            customerID: customer ?? self.customer)
    }

    public func stock(_ product: UUID) async throws -> Int {
        try await database.query("SELECT stock FROM products WHERE id = \(product)")[0].decode(Int.self)
    }

    public func count(_ table: String) async throws -> Int {
        try await database.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))[0].decode(Int.self)
    }

    public func principal(_ user: UUID, _ role: Role, merchant: UUID? = nil) -> Principal {
        Principal(userID: user, role: role, hubID: nil, merchantID: merchant)
    }

    /// A hub staff member of the given hub.
    public func staff(at hub: UUID, _ name: String) async throws -> UUID {
        let user = try await World.makeUser(services, email: "\(name.lowercased().replacingOccurrences(of: " ", with: "."))@example.com", role: "hub_staff")
        _ = try await database.query("INSERT INTO hub_staff (user_id, hub_id) VALUES (\(user), \(hub))")
        return user
    }

    /// An access token for any user of this world.
    public func token(_ user: UUID) async throws -> String {
        try await AccessTokens(secret: services.config.jwtSecret, lifetime: services.config.accessTokenTTL).issue(for: user, now: Date())
    }

    /// Moves a sub-order's status directly, standing in for the hub transitions other tests cover.
    public func force(_ subOrder: UUID, to status: SubOrderStatus) async throws {
        _ = try await database.query("UPDATE sub_orders SET status = \(status.rawValue) WHERE id = \(subOrder)")
    }
}

extension Checkout.Outcome {
    public var order: Order {
        switch self {
        case .created(let order), .replayed(let order): order
        }
    }

    public var isCreated: Bool {
        if case .created = self { return true }
        return false
    }
}
