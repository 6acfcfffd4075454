// Catalog: categories, products and stock, carts and delivery addresses (SPEC section 4).
import Core
import Foundation

/// A merchant as shoppers see it: id and business name.
public struct MerchantName: Sendable, Equatable {
    public let id: UUID
    public let name: String

    public init(id: UUID, name: String) {
        self.id = id
        self.name = name
    }
}

/// The catalog's limits where the database only says "positive" or "not negative".
public enum CatalogLimits {
    /// One million shillings: far above what M-Pesa or cash on delivery can pay, and low enough
    /// that no line or cart total can overflow.
    public static let maximumPriceCents: Int64 = 100_000_000
    public static let maximumStock = 1_000_000
    public static let maximumImageURLs = 10
    public static let maximumImageURLLength = 2_000
    /// `cart_items.quantity` is 1...99.
    public static let cartQuantity = 1...99
}

extension Problem {
    /// 409 `out_of_stock` naming each product short of stock and how many units are left
    /// (SPEC section 12); shared by the cart and checkout.
    public static func outOfStock(_ shortages: [(productID: UUID, available: Int)]) -> Problem {
        Problem(
            status: 409, code: "out_of_stock", title: "Out of stock",
            detail: shortages.count == 1
                ? "Only \(shortages[0].available) left of this product."
                : "\(shortages.count) products do not have enough stock.",
            extensions: [
                "products": .array(
                    shortages.map {
                        .object(["product_id": .string($0.productID.lowercased), "available": .int(Int64($0.available))])
                    })
            ])
    }
}
