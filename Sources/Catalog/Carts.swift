import Core
import Foundation
import Identity
import Logging
import PostgresNIO

/// One cart per user (SPEC section 4): lines show the current price and stock, grouped by
/// merchant the way checkout splits them into sub-orders.
public struct Carts: Sendable {
    public struct Cart: Sendable, Equatable {
        /// One group per merchant, in merchant-id order (the order of the sub-orders at checkout).
        public fileprivate(set) var groups: [MerchantGroup]

        public var itemsTotalCents: Int64 { groups.map(\.itemsTotalCents).reduce(0, +) }
        /// Units in the cart: the sum of the lines' quantities.
        public var itemCount: Int { groups.flatMap(\.lines).map(\.quantity).reduce(0, +) }
    }

    public struct MerchantGroup: Sendable, Equatable {
        public let merchant: MerchantName
        public fileprivate(set) var lines: [Line]

        public var itemsTotalCents: Int64 { lines.map(\.lineTotalCents).reduce(0, +) }
    }

    public struct Line: Sendable, Equatable {
        public let productID: UUID
        public let name: String
        public let unitPriceCents: Int64
        public let quantity: Int
        public let lineTotalCents: Int64
        public let stock: Int
        /// On sale (product and merchant active) with enough stock for the quantity.
        public let isAvailable: Bool
    }

    let database: Database
    let effects: Effects

    public init(database: Database, effects: Effects) {
        self.database = database
        self.effects = effects
    }

    public func cart(of principal: Principal) async throws -> Cart {
        try await database.withConnection { connection in
            try await Self.cart(userID: principal.userID, on: connection, logger: database.logger)
        }
    }

    /// Adds `quantity` of a product; a product already in the cart gets the quantities added.
    /// One statement checks the product, merges the line and answers the cart as it leaves it:
    /// an add is one round trip (it was five in a transaction, then two with the cart read after).
    public func add(productID: UUID, quantity: Int, for principal: Principal) async throws -> Cart {
        try Self.checkQuantity(quantity)
        let now = effects.now()
        let cap = CatalogLimits.cartQuantity.upperBound
        return try await database.withConnection { connection in
            let logger = database.logger
            // The merge is conditional, so racing adds never take a line past the cap or the
            // stock; `in_cart` is the line as it was before, to explain a refused merge.
            let rows = try await connection.exec(
                AddToCart(
                    bindings: PostgresBindings {
                        $0.append(productID)
                        $0.append(principal.userID)
                        $0.append(quantity)
                        $0.append(now)
                        $0.append(principal.merchantID)
                        $0.append(cap)
                    }), logger: logger)
            guard let row = rows.first else {
                throw Problem.validation(field: "product_id", "no such product on sale")
            }
            let outcome = row.makeRandomAccess()
            let merchantID: UUID = try outcome.get("product_merchant_id")
            let stock: Int = try outcome.get("product_stock")
            let merged: Int? = try outcome.get("merged")
            let inCart: Int? = try outcome.get("in_cart")
            if merged == nil {
                if merchantID == principal.merchantID {
                    throw Problem.conflict("Merchants cannot buy their own products.", code: "own_product")
                }
                if let inCart, quantity <= stock, inCart + quantity > cap {
                    throw Problem.validation(
                        field: "quantity", "the cart already holds \(inCart) of this product; a line holds at most \(cap)")
                }
                throw Problem.outOfStock([(productID, stock)])
            }
            return try Self.cart(rows)
        }
    }

    /// Sets the quantity of a product already in the cart.
    public func change(productID: UUID, quantity: Int, for principal: Principal) async throws -> Cart {
        try Self.checkQuantity(quantity)
        let now = effects.now()
        return try await database.transaction { connection in
            let logger = database.logger
            let lines = try await connection.exec(
                """
                SELECT p.stock, \(unescaped: Products.onSale) AS on_sale
                FROM cart_items ci JOIN products p ON p.id = ci.product_id JOIN merchants m ON m.id = p.merchant_id
                JOIN categories cat ON cat.id = p.category_id
                WHERE ci.user_id = \(principal.userID) AND ci.product_id = \(productID)
                FOR UPDATE OF ci
                """, logger: logger)
            guard let line = lines.first else { throw Problem.notFound("Cart line") }
            let (stock, onSale) = try line.decode((Int, Bool).self)
            // A product taken off sale has nothing left to buy.
            let available = onSale ? stock : 0
            if quantity > available { throw Problem.outOfStock([(productID, available)]) }
            try await connection.exec(
                """
                UPDATE cart_items SET quantity = \(quantity), updated_at = \(now)
                WHERE user_id = \(principal.userID) AND product_id = \(productID)
                """, logger: logger)
            return try await Self.cart(userID: principal.userID, on: connection, logger: logger)
        }
    }

    public func remove(productID: UUID, for principal: Principal) async throws {
        let rows = try await database.query(
            "DELETE FROM cart_items WHERE user_id = \(principal.userID) AND product_id = \(productID) RETURNING product_id")
        guard !rows.isEmpty else { throw Problem.notFound("Cart line") }
    }

    public func clear(for principal: Principal) async throws {
        _ = try await database.query("DELETE FROM cart_items WHERE user_id = \(principal.userID)")
    }

    private static func checkQuantity(_ quantity: Int) throws(Problem) {
        guard CatalogLimits.cartQuantity.contains(quantity) else {
            throw Problem.validation(
                field: "quantity",
                "must be between \(CatalogLimits.cartQuantity.lowerBound) and \(CatalogLimits.cartQuantity.upperBound)")
        }
    }

    /// The cart in one statement: lines with current price and stock, merchant by merchant.
    static func cart(userID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Cart {
        try cart(try await connection.exec(CartLines(bindings: PostgresBindings { $0.append(userID) }), logger: logger))
    }

    /// The cart of rows holding `CartLines`' columns, merchant by merchant.
    static func cart(_ rows: [PostgresRow]) throws -> Cart {
        var cart = Cart(groups: [])
        for row in rows {
            let r = row.makeRandomAccess()
            let merchant = MerchantName(id: try r.get("merchant_id"), name: try r.get("business_name"))
            let line = Line(
                productID: try r.get("product_id"), name: try r.get("name"), unitPriceCents: try r.get("price_cents"),
                quantity: try r.get("quantity"), lineTotalCents: try r.get("line_total_cents"), stock: try r.get("stock"),
                isAvailable: try r.get("is_available"))
            // Rows come merchant by merchant, so a new merchant starts a new group.
            if cart.groups.last?.merchant.id == merchant.id {
                cart.groups[cart.groups.count - 1].lines.append(line)
            } else {
                cart.groups.append(MerchantGroup(merchant: merchant, lines: [line]))
            }
        }
        return cart
    }
}

// The statements of every cart add, prepared.
extension Carts {
    /// $1 product, $2 customer, $3 quantity, $4 now, $5 the customer's own merchant (or null), $6 the line cap.
    ///
    /// No row: the product is not on sale. Otherwise each row carries the add's outcome (the
    /// product's merchant and stock, the merged quantity or null when the merge was refused, the
    /// line as it was before) and, when the merge was made, one line of the cart as the add
    /// leaves it, with `CartLines`' columns and order. The statement's snapshot predates its own
    /// merge, so the merged line is the one `RETURNING` gives, the others are read.
    struct AddToCart: PreparedStatementOfBindings {
        static let sql = """
            WITH product AS (
                SELECT p.merchant_id, p.stock
                FROM products p JOIN merchants m ON m.id = p.merchant_id JOIN categories cat ON cat.id = p.category_id
                WHERE p.id = $1 AND \(Products.onSale)
            ), merged AS (
                INSERT INTO cart_items (user_id, product_id, quantity, added_at, updated_at)
                SELECT $2, $1, $3, $4, $4 FROM product
                WHERE product.merchant_id IS DISTINCT FROM $5::uuid AND $3 <= product.stock
                ON CONFLICT (user_id, product_id) DO UPDATE
                SET quantity = cart_items.quantity + EXCLUDED.quantity, updated_at = EXCLUDED.updated_at
                WHERE cart_items.quantity + EXCLUDED.quantity <= least($6, (SELECT stock FROM product))
                RETURNING product_id, quantity, added_at
            ), lines AS (
                SELECT ci.product_id, ci.quantity, ci.added_at FROM cart_items ci WHERE ci.user_id = $2 AND ci.product_id <> $1
                UNION ALL
                SELECT product_id, quantity, added_at FROM merged
            )
            SELECT product.merchant_id AS product_merchant_id, product.stock AS product_stock,
                   (SELECT quantity FROM merged) AS merged,
                   (SELECT quantity FROM cart_items WHERE user_id = $2 AND product_id = $1) AS in_cart,
                   line.merchant_id, line.business_name, line.product_id, line.name, line.price_cents, line.quantity,
                   line.line_total_cents, line.stock, line.is_available
            FROM product
            LEFT JOIN LATERAL (
                SELECT m.id AS merchant_id, m.business_name, l.product_id, p.name, p.price_cents, l.quantity,
                       p.price_cents * l.quantity AS line_total_cents, p.stock,
                       \(Products.onSale) AND p.stock >= l.quantity AS is_available, l.added_at
                FROM lines l JOIN products p ON p.id = l.product_id JOIN merchants m ON m.id = p.merchant_id
                JOIN categories cat ON cat.id = p.category_id
                WHERE EXISTS (SELECT 1 FROM merged)
            ) line ON true
            ORDER BY line.merchant_id, line.added_at, line.product_id
            """
        let bindings: PostgresBindings
    }

    /// $1 the customer.
    struct CartLines: PreparedStatementOfBindings {
        static let sql = """
            SELECT m.id AS merchant_id, m.business_name, ci.product_id, p.name, p.price_cents, ci.quantity,
                   p.price_cents * ci.quantity AS line_total_cents, p.stock,
                   \(Products.onSale) AND p.stock >= ci.quantity AS is_available
            FROM cart_items ci JOIN products p ON p.id = ci.product_id JOIN merchants m ON m.id = p.merchant_id
            JOIN categories cat ON cat.id = p.category_id
            WHERE ci.user_id = $1
            ORDER BY m.id, ci.added_at, ci.product_id
            """
        let bindings: PostgresBindings
    }
}
