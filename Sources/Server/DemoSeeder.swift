import Core
import Foundation
import Identity
import Orders
import PostgresNIO

/// Demo data for the development run (`hubroute seed-demo`): hubs, zones, merchants on
/// different home hubs, products, staff for every hub and a few customers. Idempotent: every
/// row is found by its natural key (hub code, zone name, email, category slug, product name).
public struct DemoSeeder: Sendable {
    public static let password = "hubroute-demo-password"

    let services: Services

    public init(services: Services) {
        self.services = services
    }

    struct HubSeed { let code, name, city, address, phone: String }
    struct ZoneSeed { let name, hubCode: String; let feeCents: Int64 }
    struct MerchantSeed {
        let email, owner, business, phone, hubCode: String
        /// Ten products: "<product> 1" ... "<product> 10", prices rising by `priceStep`.
        let product, category: String
        let basePrice, priceStep: Int64
        let baseStock: Int
    }

    static let hubs = [
        HubSeed(code: "NBO-CBD", name: "Nairobi CBD Hub", city: "Nairobi", address: "Moi Avenue 12, Nairobi", phone: "0711000001"),
        HubSeed(code: "NBO-WST", name: "Westlands Hub", city: "Nairobi", address: "Waiyaki Way 44, Westlands", phone: "0711000002"),
        HubSeed(code: "MSA-CTR", name: "Mombasa Hub", city: "Mombasa", address: "Digo Road 5, Mombasa", phone: "0711000003"),
        HubSeed(code: "KSM-CTR", name: "Kisumu Hub", city: "Kisumu", address: "Oginga Odinga Street 9, Kisumu", phone: "0711000004"),
    ]

    static let zones = [
        ZoneSeed(name: "Nairobi CBD", hubCode: "NBO-CBD", feeCents: 15_000),
        ZoneSeed(name: "Eastlands", hubCode: "NBO-CBD", feeCents: 20_000),
        ZoneSeed(name: "Westlands", hubCode: "NBO-WST", feeCents: 15_000),
        ZoneSeed(name: "Kilimani", hubCode: "NBO-WST", feeCents: 25_000),
        ZoneSeed(name: "Mombasa Island", hubCode: "MSA-CTR", feeCents: 30_000),
        ZoneSeed(name: "Nyali", hubCode: "MSA-CTR", feeCents: 35_000),
        ZoneSeed(name: "Kisumu Central", hubCode: "KSM-CTR", feeCents: 30_000),
    ]

    static let categories = [("electronics", "Electronics"), ("fashion", "Fashion"), ("home", "Home & Kitchen"), ("groceries", "Groceries")]

    static let merchants = [
        MerchantSeed(
            email: "merchant.duka@hubroute.test", owner: "Wanjiku Kamau", business: "Duka Electronics", phone: "0722000001",
            hubCode: "NBO-CBD",
            product: "Duka Phone Charger", category: "electronics", basePrice: 50_000, priceStep: 10_000, baseStock: 25),
        MerchantSeed(
            email: "merchant.mitindo@hubroute.test", owner: "Otieno Ouma", business: "Mitindo Fashion", phone: "0722000002",
            hubCode: "NBO-WST",
            product: "Mitindo Kitenge Shirt", category: "fashion", basePrice: 120_000, priceStep: 5_000, baseStock: 10),
        MerchantSeed(
            email: "merchant.pwani@hubroute.test", owner: "Amina Hassan", business: "Pwani Home", phone: "0722000003",
            hubCode: "MSA-CTR",
            product: "Pwani Cooking Pot", category: "home", basePrice: 80_000, priceStep: 15_000, baseStock: 5),
        MerchantSeed(
            email: "merchant.ziwa@hubroute.test", owner: "Achieng Odhiambo", business: "Ziwa Groceries", phone: "0722000004",
            hubCode: "KSM-CTR",
            product: "Ziwa Tilapia Pack", category: "groceries", basePrice: 30_000, priceStep: 2_000, baseStock: 50),
    ]

    static let customers = [
        ("customer.juma@hubroute.test", "Juma Mwangi", "0733000001"),
        ("customer.njeri@hubroute.test", "Njeri Wambui", "0733000002"),
        ("customer.baraka@hubroute.test", "Baraka Kiprop", "0733000003"),
    ]

    static let adminEmail = "admin@hubroute.test"

    public func seed() async throws -> String {
        let hash = try await services.passwords.hash(Self.password)
        let database = services.database
        try await database.transaction { connection in
            let logger = database.logger
            func run(_ query: PostgresQuery) async throws -> [PostgresRow] {
                try await connection.exec(query, logger: logger)
            }
            func user(_ email: String, _ name: String, _ phone: String, _ role: String) async throws -> UUID {
                let phone = PhoneNumber(normalising: phone)!.value
                let rows = try await run(
                    """
                    INSERT INTO users (email, password_hash, full_name, phone, role) VALUES (\(email), \(hash), \(name), \(phone), \(role))
                    ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id
                    """)
                return try rows[0].decode(UUID.self)
            }
            var hubIDs: [String: UUID] = [:]
            for hub in Self.hubs {
                let rows = try await run(
                    """
                    INSERT INTO hubs (code, name, city, address, phone, opening_hours)
                    VALUES (\(hub.code), \(hub.name), \(hub.city), \(hub.address), \(PhoneNumber(normalising: hub.phone)!.value),
                            'Mon-Sat 08:00-19:00')
                    ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id
                    """)
                hubIDs[hub.code] = try rows[0].decode(UUID.self)
            }
            for zone in Self.zones {
                _ = try await run(
                    """
                    INSERT INTO zones (name, hub_id, delivery_fee_cents) VALUES (\(zone.name), \(hubIDs[zone.hubCode]!), \(zone.feeCents))
                    ON CONFLICT (lower(name)) DO NOTHING
                    """)
            }
            var categoryIDs: [String: UUID] = [:]
            for (slug, name) in Self.categories {
                let rows = try await run(
                    "INSERT INTO categories (slug, name) VALUES (\(slug), \(name)) ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id")
                categoryIDs[slug] = try rows[0].decode(UUID.self)
            }
            _ = try await user(Self.adminEmail, "Demo Admin", "0700000001", "admin")
            for (index, hub) in Self.hubs.enumerated() {
                let staffID = try await user(
                    Self.staffEmail(hub.code), "Staff \(hub.name)", "07440000\(String(format: "%02d", index + 1))", "hub_staff")
                _ = try await run(
                    "INSERT INTO hub_staff (user_id, hub_id) VALUES (\(staffID), \(hubIDs[hub.code]!)) ON CONFLICT (user_id) DO NOTHING")
            }
            for merchant in Self.merchants {
                let ownerID = try await user(merchant.email, merchant.owner, merchant.phone, "merchant")
                let rows = try await run(
                    """
                    INSERT INTO merchants (user_id, business_name, phone, home_hub_id, commission_bps)
                    VALUES (\(ownerID), \(merchant.business), \(PhoneNumber(normalising: merchant.phone)!.value),
                            \(hubIDs[merchant.hubCode]!), \(services.config.defaultCommissionBps))
                    ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id RETURNING id
                    """)
                let merchantID = try rows[0].decode(UUID.self)
                for number in 1...10 {
                    let name = "\(merchant.product) \(number)"
                    let price = merchant.basePrice + Int64(number) * merchant.priceStep
                    let stock = merchant.baseStock + number
                    let category = merchant.category
                    _ = try await run(
                        """
                        INSERT INTO products (merchant_id, category_id, name, description, price_cents, stock)
                        VALUES (\(merchantID), \(categoryIDs[category]!), \(name), \("\(name) from \(merchant.business)."), \(price), \(stock))
                        ON CONFLICT (merchant_id, lower(name)) DO NOTHING
                        """)
                }
            }
            for (index, (email, name, phone)) in Self.customers.enumerated() {
                let customerID = try await user(email, name, phone, "customer")
                let zone = Self.zones[index % Self.zones.count]
                _ = try await run(
                    """
                    INSERT INTO addresses (user_id, label, zone_id, line1, phone)
                    SELECT \(customerID), 'Home', z.id, \("\(index + 1) \(zone.name) Road"), \(PhoneNumber(normalising: phone)!.value)
                    FROM zones z WHERE lower(z.name) = lower(\(zone.name))
                      AND NOT EXISTS (SELECT 1 FROM addresses WHERE user_id = \(customerID))
                    """)
            }
        }
        try await seedOrders()
        return report()
    }

    /// Demo orders in every state, made the way customers and staff make them: checkout and
    /// lifecycle transitions. Each checkout has a fixed idempotency key, so a second run replays
    /// it and moves nothing.
    private func seedOrders() async throws {
        let orders = services.orders
        let lifecycle = orders.lifecycle
        let database = services.database
        func id(_ query: PostgresQuery) async throws -> UUID {
            try await database.query(query)[0].decode(UUID.self)
        }
        func customer(_ email: String) async throws -> UUID { try await id("SELECT id FROM users WHERE email = \(email)") }
        func staff(_ hubCode: String) async throws -> Actor {
            let rows = try await database.query(
                "SELECT hs.user_id, hs.hub_id FROM hub_staff hs JOIN hubs h ON h.id = hs.hub_id WHERE h.code = \(hubCode) LIMIT 1")
            let (user, hub) = try rows[0].decode((UUID, UUID).self)
            return Actor(userID: user, role: .hubStaff, hubID: hub)
        }
        func merchant(of subOrder: SubOrder) async throws -> Actor {
            Actor(userID: try await id("SELECT user_id FROM merchants WHERE id = \(subOrder.merchantID)"), role: .merchant)
        }
        /// Fills the cart with the first product of each named merchant and checks out.
        func order(_ key: String, for user: UUID, merchants: [String], method: PaymentMethod) async throws -> Order? {
            for business in merchants {
                _ = try await database.query(
                    """
                    INSERT INTO cart_items (user_id, product_id, quantity)
                    SELECT \(user), p.id, 1 FROM products p JOIN merchants m ON m.id = p.merchant_id
                    WHERE m.business_name = \(business) ORDER BY p.name LIMIT 1
                    ON CONFLICT DO NOTHING
                    """)
            }
            let address = try await id("SELECT id FROM addresses WHERE user_id = \(user) ORDER BY created_at LIMIT 1")
            let outcome = try await orders.checkout.place(
                .init(idempotencyKey: key, addressID: address, paymentMethod: method, expectedTotalCents: nil), customerID: user)
            guard case .created(let order) = outcome else { return nil }
            return order
        }
        func transaction(_ work: @escaping @Sendable (PostgresConnection) async throws -> Void) async throws {
            try await database.transaction { connection in try await work(connection) }
        }

        let juma = try await customer(Self.customers[0].0)
        let njeri = try await customer(Self.customers[1].0)
        let baraka = try await customer(Self.customers[2].0)

        // Placed, waiting for the merchants: three parcels to Nairobi CBD.
        _ = try await order("demo-placed", for: juma, merchants: ["Duka Electronics", "Mitindo Fashion", "Ziwa Groceries"], method: .cod)
        // Waiting for an M-Pesa payment.
        _ = try await order("demo-awaiting-payment", for: njeri, merchants: ["Pwani Home"], method: .mpesa)
        // Cancelled by the customer.
        if let cancelled = try await order("demo-cancelled", for: juma, merchants: ["Ziwa Groceries"], method: .cod) {
            try await transaction { connection in
                try await lifecycle.cancelByCustomer(cancelled.id, customerID: juma, actor: Actor(userID: juma, role: .customer), on: connection)
            }
        }
        // Delivered with cash collected at Westlands (a same-hub parcel), and one still at the hub.
        if let delivered = try await order("demo-delivered", for: baraka, merchants: ["Mitindo Fashion", "Duka Electronics"], method: .cod) {
            let westlands = try await staff("NBO-WST")
            let cbd = try await staff("NBO-CBD")
            for parcel in delivered.subOrders {
                let seller = try await merchant(of: parcel)
                try await transaction { connection in
                    try await lifecycle.accept(parcel.id, merchantID: parcel.merchantID, actor: seller, on: connection)
                }
            }
            let sameHub = delivered.subOrders.first { $0.originHub.id == $0.destinationHub.id }!
            let crossHub = delivered.subOrders.first { $0.originHub.id != $0.destinationHub.id }!
            try await transaction { connection in
                try await lifecycle.receive(sameHub.id, accepted: true, note: nil, actor: westlands, on: connection)
                let rider = PhoneNumber(normalising: "0799000001")!
                try await lifecycle.sendOutForDelivery(sameHub.id, riderName: "Peter Kamau", riderPhone: rider, actor: westlands, on: connection)
                _ = try await lifecycle.deliver(
                    sameHub.id, handoverCode: sameHub.handoverCode!, codCollectedCents: sameHub.totalCents, actor: westlands, on: connection)
                try await lifecycle.receive(crossHub.id, accepted: true, note: nil, actor: cbd, on: connection)
                try await lifecycle.dispatch(crossHub.id, actor: cbd, on: connection)
            }
            // The customer asks for part of the delivered parcel back: the console's refund queue.
            if let item = sameHub.items.first {
                _ = try await services.refunds.request(
                    .init(
                        subOrderID: sameHub.id, items: [(orderItemID: item.id, quantity: 1)], reason: .damaged,
                        details: "The shirt arrived torn at the seam.", evidenceURLs: ["https://example.com/photos/torn-shirt.jpg"]),
                    by: Principal(userID: baraka, role: .customer, hubID: nil, merchantID: nil))
            }
        }
        // Refused at the door and returned to its merchant at Westlands.
        if let returned = try await order("demo-returned", for: baraka, merchants: ["Mitindo Fashion"], method: .cod) {
            let westlands = try await staff("NBO-WST")
            let parcel = returned.subOrders[0]
            let seller = try await merchant(of: parcel)
            try await transaction { connection in
                try await lifecycle.accept(parcel.id, merchantID: parcel.merchantID, actor: seller, on: connection)
                try await lifecycle.receive(parcel.id, accepted: true, note: nil, actor: westlands, on: connection)
                let rider = PhoneNumber(normalising: "0799000002")!
                try await lifecycle.sendOutForDelivery(parcel.id, riderName: "Grace Njoki", riderPhone: rider, actor: westlands, on: connection)
                try await lifecycle.attemptFailed(parcel.id, reason: .customerRefused, note: "Changed their mind", actor: westlands, on: connection)
                try await lifecycle.completeReturn(parcel.id, actor: westlands, on: connection)
            }
        }
    }

    static func staffEmail(_ hubCode: String) -> String {
        "staff.\(hubCode.lowercased())@hubroute.test"
    }

    private func report() -> String {
        var lines = ["Demo data is loaded. Every demo account's password is: \(Self.password)", "", "admin:     \(Self.adminEmail)"]
        lines += Self.hubs.map { "hub staff: \(Self.staffEmail($0.code))  (\($0.name))" }
        lines += Self.merchants.map { "merchant:  \($0.email)  (\($0.business), home hub \($0.hubCode))" }
        lines += Self.customers.map { "customer:  \($0.0)" }
        return lines.joined(separator: "\n")
    }
}
