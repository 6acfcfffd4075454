import Foundation
import Orders
import PostgresNIO

/// A customer of a `World` holding one unit of a product in a parcel of its own.
public struct Reviewer: Sendable {
    public let user: UUID
    public let token: String
    public let item: UUID
    public let subOrder: UUID
}

extension World {
    /// A new customer who bought one unit of `product`, delivered unless told otherwise.
    public func reviewer(_ name: String, buys product: UUID, method: PaymentMethod = .cod, delivered: Bool = true) async throws
        -> Reviewer
    {
        let user = try await World.makeUser(services, email: "\(name)@example.com")
        let address = try await World.addAddress(services, user: user, zone: zone)
        try await put(product, 1, for: user)
        let subOrder = try await checkout(method: method, customer: user, address: address).order.subOrders[0]
        if delivered { try await force(subOrder.id, to: .delivered) }
        return Reviewer(user: user, token: try await token(user), item: subOrder.items[0].id, subOrder: subOrder.id)
    }

    /// The product's stored `[rating_count, rating_total]` and the same recomputed from its visible reviews.
    public func ratings(of product: UUID) async throws -> (stored: [Int], recomputed: [Int]) {
        let rows = try await database.query(
            """
            SELECT p.rating_count, p.rating_total,
                   (SELECT count(*)::int FROM reviews r WHERE r.product_id = p.id AND r.hidden_at IS NULL) AS visible,
                   (SELECT coalesce(sum(r.rating), 0)::int FROM reviews r WHERE r.product_id = p.id AND r.hidden_at IS NULL) AS total
            FROM products p WHERE p.id = \(product)
            """)
        let (count, total, visible, visibleTotal) = try rows[0].decode((Int, Int, Int, Int).self)
        return ([count, total], [visible, visibleTotal])
    }

    /// A new admin.
    public func admin() async throws -> UUID {
        try await World.makeUser(services, email: "admin@example.com", role: "admin")
    }
}
