import Core
import Foundation
import Identity
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
        return report()
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
