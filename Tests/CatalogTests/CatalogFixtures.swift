import Catalog
import Core
import Foundation
import Identity
import PostgresNIO
import Server
import TestSupport

let password = "correct horse battery"

/// A fresh database with an admin, a hub and a zone; makes customers, merchants, categories
/// and products for the catalog's service tests.
struct Shop: Sendable {
    let services: Services
    let admin: Principal
    let hubID: UUID
    let zoneID: UUID

    var products: Products { services.products }
    var carts: Carts { services.carts }
    var addresses: Addresses { services.addresses }
    var database: Database { services.database }

    static func with(_ body: @escaping @Sendable (Shop) async throws -> Void) async throws {
        try await TestDatabase.with { database, url in
            let services = await Services(config: try TestApp.config(databaseURL: url), database: database)
            try await services.users.createAdmin(
                email: "admin@example.com", password: password, fullName: "Admin", phone: "0700000000", hasher: services.passwords)
            let adminSession = try await services.auth.login(email: "admin@example.com", password: password, clientIP: "127.0.0.1")
            let admin = try await services.auth.authenticate(bearer: adminSession.accessToken)
            let hub = try await services.places.createHub(
                .init(code: "NBO-T1", name: "Test Hub", city: "Nairobi", address: "Street 1", phone: "0711000000"))
            let zone = try await services.places.createZone(.init(name: "Test Zone", hubID: hub.id, deliveryFeeCents: 20_000))
            try await body(Shop(services: services, admin: admin, hubID: hub.id, zoneID: zone.id))
        }
    }

    func customer(_ email: String) async throws -> Principal {
        let session = try await services.auth.register(
            .init(email: email, password: password, fullName: "Customer", phone: "0712345678"), clientIP: "127.0.0.1")
        return try await services.auth.authenticate(bearer: session.accessToken)
    }

    /// A customer whose merchant application was approved, with `business` as the business name.
    func merchant(_ business: String) async throws -> Principal {
        let email = business.lowercased().filter { $0.isLetter || $0.isNumber } + "@example.com"
        let applicant = try await customer(email)
        let application = try await services.merchantApplications.submit(
            .init(businessName: business, phone: "0733000000", zoneID: zoneID, description: nil), by: applicant)
        _ = try await services.merchantApplications.approve(application.id, homeHubID: hubID, commissionBps: nil, note: nil, by: admin)
        let session = try await services.auth.login(email: email, password: password, clientIP: "127.0.0.1")
        return try await services.auth.authenticate(bearer: session.accessToken)
    }

    /// Categories have no API yet (the demo seeder and operators create them).
    func category(_ name: String, parent: UUID? = nil) async throws -> UUID {
        let slug = name.lowercased().replacingOccurrences(of: " ", with: "-")
        let rows = try await database.query(
            "INSERT INTO categories (name, slug, parent_id) VALUES (\(name), \(slug), \(parent)) RETURNING id")
        return try rows[0].decode(UUID.self)
    }

    func product(
        _ merchant: Principal, _ name: String, priceCents: Int64 = 10_000, stock: Int = 10, category: UUID,
        description: String? = nil
    ) async throws -> Products.Product {
        try await products.create(
            .init(categoryID: category, name: name, description: description, priceCents: priceCents, stock: stock),
            merchantID: merchant.merchantID!)
    }

    /// Ratings come from reviews, which are not built yet: set the totals directly.
    func rate(_ productID: UUID, total: Int, count: Int) async throws {
        _ = try await database.query(
            "UPDATE products SET rating_total = \(total), rating_count = \(count) WHERE id = \(productID)")
    }
}

extension Problem {
    var fields: Set<String> { Set(errors.map(\.field)) }
}

/// The problem a call throws, or nil when it succeeds or throws something else.
func problem<T>(_ work: () async throws -> T) async -> Problem? {
    do {
        _ = try await work()
        return nil
    } catch {
        return error as? Problem
    }
}
