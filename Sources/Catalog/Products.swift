import Core
import Foundation
import Logging
import PostgresNIO

/// The public catalog (active products of active merchants, the category tree) and merchants'
/// own products and stock (SPEC section 4).
public struct Products: Sendable {
    public struct Product: Sendable, Equatable {
        public let id: UUID
        public let merchant: MerchantName
        public let categoryID: UUID
        public let name: String
        public let description: String
        public let priceCents: Int64
        public let stock: Int
        public let imageURLs: [String]
        public let isActive: Bool
        public let ratingCount: Int
        public let ratingTotal: Int
        public let createdAt: Date
        public let updatedAt: Date

        /// The mean review rating to two decimals; `nil` before the first review.
        public var ratingAverage: Double? {
            guard ratingCount > 0 else { return nil }
            return (Double(ratingTotal) / Double(ratingCount) * 100).rounded() / 100
        }
    }

    public struct Category: Sendable, Equatable {
        public let id: UUID
        public let name: String
        public let slug: String
        public let children: [Category]
    }

    /// The orders of the public listing; each pages on its own key, ties broken by id.
    public enum Sort: String, Sendable, CaseIterable {
        case newest
        case priceAscending = "price_asc"
        case priceDescending = "price_desc"
        case rating
    }

    public struct Filter: Sendable {
        /// Words to find in name or description (web-search syntax: `"exact phrase"`, `-word`, `or`).
        public var text: String?
        /// A category and every category below it.
        public var categoryID: UUID?
        public var merchantID: UUID?
        public var minPriceCents: Int64?
        public var maxPriceCents: Int64?
        public var sort: Sort

        public init(
            text: String? = nil, categoryID: UUID? = nil, merchantID: UUID? = nil, minPriceCents: Int64? = nil,
            maxPriceCents: Int64? = nil, sort: Sort = .newest
        ) {
            self.text = text
            self.categoryID = categoryID
            self.merchantID = merchantID
            self.minPriceCents = minPriceCents
            self.maxPriceCents = maxPriceCents
            self.sort = sort
        }
    }

    /// A new product.
    public struct Draft: Sendable {
        public var categoryID: UUID
        public var name: String
        public var description: String?
        public var priceCents: Int64
        public var stock: Int
        public var imageURLs: [String]?

        public init(categoryID: UUID, name: String, description: String? = nil, priceCents: Int64, stock: Int, imageURLs: [String]? = nil) {
            self.categoryID = categoryID
            self.name = name
            self.description = description
            self.priceCents = priceCents
            self.stock = stock
            self.imageURLs = imageURLs
        }
    }

    /// A partial update; stock is either set (`stock`) or moved by a signed delta (`stockAdjustment`).
    public struct Change: Sendable {
        public var name: String?
        public var description: String?
        public var categoryID: UUID?
        public var priceCents: Int64?
        public var imageURLs: [String]?
        public var isActive: Bool?
        public var stock: Int?
        public var stockAdjustment: Int?

        public init(
            name: String? = nil, description: String? = nil, categoryID: UUID? = nil, priceCents: Int64? = nil,
            imageURLs: [String]? = nil, isActive: Bool? = nil, stock: Int? = nil, stockAdjustment: Int? = nil
        ) {
            self.name = name
            self.description = description
            self.categoryID = categoryID
            self.priceCents = priceCents
            self.imageURLs = imageURLs
            self.isActive = isActive
            self.stock = stock
            self.stockAdjustment = stockAdjustment
        }
    }

    let database: Database
    let effects: Effects

    public init(database: Database, effects: Effects) {
        self.database = database
        self.effects = effects
    }

    // MARK: Public catalog

    /// Products on sale (active, of an active merchant, in a listed category), filtered and
    /// sorted, in at most two statements.
    ///
    /// Every sort has an index in its own order (newest, price, rating; and per category), and
    /// pages by keyset, so a page costs the same however deep it is. A category filter first
    /// resolves the category's subtree, so the listing statement carries the actual ids and the
    /// planner can judge how selective they are. Without a text search each category of the
    /// subtree is then read in sort order from its own index (a few rows each) and the pieces
    /// merged; with one, the planner weighs the text index against the sort order.
    public func list(_ filter: Filter, limit: Int?, cursor: String?) async throws -> Page<Product> {
        let page = try PageRequest(limit: limit, cursor: cursor, ordering: filter.sort.cursorOrdering)
        var validator = Validator()
        let text = validator.text(filter.text ?? "", "q", min: 0, max: 200)
        for (field, price) in [("min_price_cents", filter.minPriceCents), ("max_price_cents", filter.maxPriceCents)] {
            if let price { validator.check(price >= 0, field, "must not be negative") }
        }
        if let min = filter.minPriceCents, let max = filter.maxPriceCents {
            validator.check(min <= max, "max_price_cents", "must not be below min_price_cents")
        }
        try validator.validate()

        return try await database.withConnection { connection in
            let logger = database.logger
            var subtreeIDs: [UUID]?
            if let categoryID = filter.categoryID {
                // UNION (not UNION ALL) ends even on a malformed cycle in the tree. Below an
                // unlisted category nothing is listed, so the walk stops there.
                let subtreeRows = try await connection.exec(
                    """
                    WITH RECURSIVE subtree AS (
                        SELECT id FROM categories WHERE id = \(categoryID) AND is_listed
                        UNION SELECT c.id FROM categories c JOIN subtree s ON c.parent_id = s.id WHERE c.is_listed
                    )
                    SELECT id FROM subtree
                    """, logger: logger)
                subtreeIDs = try subtreeRows.map { try $0.decode(UUID.self) }
                if subtreeIDs == [] { return Page(items: [], nextCursor: nil) }
            }

            let sort = filter.sort
            var query = FilterQuery()
            // Bound first: the per-category form names it before the WHERE clause.
            let subtree = try subtreeIDs.map { try query.bind($0) }
            let readsEachCategory = subtree != nil && text.isEmpty
            if let subtree {
                query.filter(readsEachCategory ? "p.category_id = category.id" : "p.category_id = ANY(\(subtree))")
            }
            query.filter(Self.onSale)
            if !text.isEmpty {
                query.filter("p.search @@ websearch_to_tsquery('simple', \(try query.bind(text)))")
            }
            if let merchantID = filter.merchantID { query.filter("p.merchant_id = \(try query.bind(merchantID))") }
            if let min = filter.minPriceCents { query.filter("p.price_cents >= \(try query.bind(min))") }
            if let max = filter.maxPriceCents { query.filter("p.price_cents <= \(try query.bind(max))") }
            if let after = page.after { query.filter(try sort.rowsAfter(after, in: &query)) }
            let limit = try query.bind(page.limit + 1)

            let statement: PostgresQuery
            if readsEachCategory, let subtree {
                statement = query.query(
                    """
                    SELECT listed.* FROM unnest(\(subtree)::uuid[]) AS category (id) CROSS JOIN LATERAL (
                        SELECT \(Self.productColumns), \(sort.keyExpression) AS sort_key
                        FROM \(Self.productTables)
                    """,
                    """
                        ORDER BY \(sort.orderBy(key: sort.keyExpression, id: "p.id")) LIMIT \(limit)
                    ) listed
                    ORDER BY \(sort.orderBy(key: "listed.sort_key", id: "listed.id")) LIMIT \(limit)
                    """)
            } else {
                statement = query.query(
                    Self.selectProducts, "ORDER BY \(sort.orderBy(key: sort.keyExpression, id: "p.id")) LIMIT \(limit)")
            }
            let rows = try await connection.exec(statement, logger: logger)
            return Page(fetched: try rows.map(Self.decode), limit: page.limit, position: sort.position)
        }
    }

    /// A product on sale.
    public func product(_ id: UUID) async throws -> Product {
        let rows = try await database.query(
            "\(unescaped: Self.selectProducts) WHERE p.id = \(id) AND \(unescaped: Self.onSale)")
        guard let row = rows.first else { throw Problem.notFound("Product") }
        return try Self.decode(row)
    }

    /// The tree of listed categories (an inactive one hides its whole subtree), each level
    /// sorted by name.
    public func categories() async throws -> [Category] {
        let rows = try await database.query("SELECT id, parent_id, name, slug FROM categories WHERE is_listed ORDER BY name, id")
        var childrenByParent: [UUID?: [(id: UUID, name: String, slug: String)]] = [:]
        for row in rows {
            let (id, parentID, name, slug) = try row.decode((UUID, UUID?, String, String).self)
            childrenByParent[parentID, default: []].append((id, name, slug))
        }
        func subtree(of parentID: UUID?, ancestors: Set<UUID>) -> [Category] {
            (childrenByParent[parentID] ?? []).filter { !ancestors.contains($0.id) }.map { node in
                Category(id: node.id, name: node.name, slug: node.slug, children: subtree(of: node.id, ancestors: ancestors.union([node.id])))
            }
        }
        return subtree(of: nil, ancestors: [])
    }

    // MARK: Merchant's own products

    /// The merchant's products, active or not, newest first.
    public func list(merchantID: UUID, page: PageRequest) async throws -> Page<Product> {
        let rows = try await database.query(
            """
            \(unescaped: Self.selectProducts)
            WHERE p.merchant_id = \(merchantID)
              AND (\(page.after?.createdAt)::timestamptz IS NULL OR (p.created_at, p.id) < (\(page.after?.createdAt), \(page.after?.id)))
            ORDER BY p.created_at DESC, p.id DESC LIMIT \(page.limit + 1)
            """)
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    public func create(_ draft: Draft, merchantID: UUID) async throws -> Product {
        var validator = Validator()
        let name = validator.text(draft.name, "name", max: 200)
        let description = validator.text(draft.description ?? "", "description", min: 0, max: 5000, multiline: true)
        Self.checkPrice(draft.priceCents, into: &validator)
        Self.checkStock(draft.stock, into: &validator)
        let imageURLs = Self.checkedImageURLs(draft.imageURLs ?? [], into: &validator)
        try validator.validate()
        let now = effects.now()
        let rows = try await uniqueName {
            try await database.query(
                """
                WITH created AS (
                    INSERT INTO products (merchant_id, category_id, name, description, price_cents, stock, image_urls, created_at, updated_at)
                    SELECT \(merchantID), c.id, \(name), \(description), \(draft.priceCents), \(draft.stock), \(imageURLs), \(now), \(now)
                    FROM categories c WHERE c.id = \(draft.categoryID) AND c.is_listed
                    RETURNING *
                )
                SELECT \(unescaped: Self.productColumns) FROM created p JOIN merchants m ON m.id = p.merchant_id
                """)
        }
        guard let row = rows.first else { throw Problem.validation(field: "category_id", "no such active category") }
        return try Self.decode(row)
    }

    /// Changes the merchant's own product. Stock changes lock the row, so concurrent
    /// adjustments serialise and stock never leaves 0...maximum; each is recorded as supply.
    public func update(_ id: UUID, _ change: Change, merchantID: UUID) async throws -> Product {
        var validator = Validator()
        let name = change.name.map { validator.text($0, "name", max: 200) }
        let description = change.description.map { validator.text($0, "description", min: 0, max: 5000, multiline: true) }
        if let price = change.priceCents { Self.checkPrice(price, into: &validator) }
        if let stock = change.stock { Self.checkStock(stock, into: &validator) }
        if let adjustment = change.stockAdjustment {
            validator.check(change.stock == nil, "stock_adjustment", "cannot be combined with stock; send one of them")
            validator.check(
                (-CatalogLimits.maximumStock...CatalogLimits.maximumStock).contains(adjustment), "stock_adjustment",
                "must be between -\(CatalogLimits.maximumStock) and \(CatalogLimits.maximumStock)")
        }
        let imageURLs = change.imageURLs.map { Self.checkedImageURLs($0, into: &validator) }
        try validator.validate()
        let now = effects.now()
        return try await database.transaction { connection in
            let logger = database.logger
            if let categoryID = change.categoryID {
                let categories = try await connection.exec(
                    "SELECT 1 FROM categories WHERE id = \(categoryID) AND is_listed", logger: logger)
                guard !categories.isEmpty else { throw Problem.validation(field: "category_id", "no such active category") }
            }
            // The row's lock: concurrent changes take turns, so each sees the stock the last left.
            let current = try await connection.exec(
                "SELECT stock FROM products WHERE id = \(id) AND merchant_id = \(merchantID) FOR UPDATE", logger: logger)
            guard let stock = try current.first?.decode(Int.self) else { throw Problem.notFound("Product") }
            let newStock = change.stock ?? stock + (change.stockAdjustment ?? 0)
            if newStock < 0 {
                throw Problem(
                    status: 409, code: "insufficient_stock", title: "Conflict",
                    detail: "Stock is \(stock); it cannot go down by \(stock - newStock).", extensions: ["available": .int(Int64(stock))])
            }
            guard newStock <= CatalogLimits.maximumStock else {
                throw Problem.validation(field: "stock_adjustment", "would take stock above \(CatalogLimits.maximumStock) (it is \(stock))")
            }
            let rows = try await uniqueName {
                try await connection.exec(
                    """
                    WITH updated AS (
                        UPDATE products SET
                            name = coalesce(\(name), name), description = coalesce(\(description), description),
                            category_id = coalesce(\(change.categoryID), category_id),
                            price_cents = coalesce(\(change.priceCents), price_cents),
                            image_urls = coalesce(\(imageURLs), image_urls), is_active = coalesce(\(change.isActive), is_active),
                            stock = \(newStock), updated_at = \(now)
                        WHERE id = \(id)
                        RETURNING *
                    ), supplied AS (
                        -- What the merchant added or took away is supply (stock_supply, 0013).
                        INSERT INTO stock_supply (product_id, delta, created_at)
                        SELECT id, \(newStock - stock), \(now) FROM updated WHERE \(newStock - stock) <> 0
                    )
                    SELECT \(unescaped: Self.productColumns) FROM updated p JOIN merchants m ON m.id = p.merchant_id
                    """, logger: logger)
            }
            guard let row = rows.first else { throw Problem.notFound("Product") }
            return try Self.decode(row)
        }
    }

    /// Takes the product off sale; it stays in orders and carts (shown as unavailable).
    public func deactivate(_ id: UUID, merchantID: UUID) async throws {
        let rows = try await database.query(
            """
            UPDATE products SET is_active = false, updated_at = \(effects.now())
            WHERE id = \(id) AND merchant_id = \(merchantID) RETURNING id
            """)
        guard !rows.isEmpty else { throw Problem.notFound("Product") }
    }

    // MARK: Rules

    private static func checkPrice(_ cents: Int64, into validator: inout Validator) {
        validator.check(cents > 0, "price_cents", "must be positive")
        validator.check(
            cents <= CatalogLimits.maximumPriceCents, "price_cents", "must be at most \(CatalogLimits.maximumPriceCents) cents")
        validator.check(Money.isWholeShillings(cents), "price_cents", "must be whole shillings (a multiple of 100 cents)")
    }

    private static func checkStock(_ stock: Int, into validator: inout Validator) {
        validator.check(
            (0...CatalogLimits.maximumStock).contains(stock), "stock", "must be between 0 and \(CatalogLimits.maximumStock)")
    }

    /// Trimmed image URLs; each must be an absolute http(s) URL.
    private static func checkedImageURLs(_ urls: [String], into validator: inout Validator) -> [String] {
        validator.check(urls.count <= CatalogLimits.maximumImageURLs, "image_urls", "must hold at most \(CatalogLimits.maximumImageURLs) URLs")
        return urls.enumerated().map { index, raw in
            let url = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let components = URLComponents(string: url)
            let isWebURL = ["http", "https"].contains(components?.scheme?.lowercased()) && !(components?.host ?? "").isEmpty
            validator.check(
                isWebURL && url.count <= CatalogLimits.maximumImageURLLength, "image_urls[\(index)]",
                "must be an http or https URL of at most \(CatalogLimits.maximumImageURLLength) characters")
            return url
        }
    }

    private func uniqueName(_ work: () async throws -> [PostgresRow]) async throws -> [PostgresRow] {
        do {
            return try await work()
        } catch where DatabaseError.uniqueViolation(error) == "products_merchant_name_key" {
            throw Problem.conflict("You already have a product with this name.", code: "product_name_taken")
        }
    }

    // MARK: Rows

    /// The rating sort key: the mean rating in millionths of a star, 0 before the first review.
    /// Integer arithmetic, so the indexes (`0007_catalog_listing_indexes.sql`, same expression), the
    /// ORDER BY and the cursor agree exactly; `ratingKey(_:)` is its Swift twin.
    static let ratingKeyExpression = "(CASE WHEN p.rating_count > 0 THEN p.rating_total::bigint * 1000000 / p.rating_count ELSE 0 END)"

    static func ratingKey(_ product: Product) -> Int64 {
        product.ratingCount > 0 ? Int64(product.ratingTotal) * 1_000_000 / Int64(product.ratingCount) : 0
    }

    private static let productColumns = """
        p.id, p.merchant_id, m.business_name AS merchant_name, p.category_id, p.name, p.description, p.price_cents,
        p.stock, p.image_urls, p.is_active, p.rating_count, p.rating_total, p.created_at, p.updated_at
        """

    private static let productTables =
        "products p JOIN merchants m ON m.id = p.merchant_id JOIN categories cat ON cat.id = p.category_id"

    private static let selectProducts = "SELECT \(productColumns) FROM \(productTables)"

    /// On sale: the product, its merchant and its category (with every ancestor) are active. A
    /// condition over the aliases `p` (products), `m` (merchants) and `cat` (categories), shared
    /// by the catalog, carts and checkout.
    public static let onSale = "p.is_active AND m.is_active AND cat.is_listed"

    private static func decode(_ row: PostgresRow) throws -> Product {
        let r = row.makeRandomAccess()
        return Product(
            id: try r.get("id"), merchant: MerchantName(id: try r.get("merchant_id"), name: try r.get("merchant_name")),
            categoryID: try r.get("category_id"), name: try r.get("name"), description: try r.get("description"),
            priceCents: try r.get("price_cents"), stock: try r.get("stock"), imageURLs: try r.get("image_urls"),
            isActive: try r.get("is_active"), ratingCount: try r.get("rating_count"),
            ratingTotal: try r.get("rating_total"), createdAt: try r.get("created_at"),
            updatedAt: try r.get("updated_at"))
    }
}

extension Products.Sort {
    /// The name a cursor of this order carries; newest first is every list's default order.
    var cursorOrdering: String? { self == .newest ? nil : rawValue }

    /// The column or expression the order sorts on before the id; its indexes use the same.
    var keyExpression: String {
        switch self {
        case .newest: "p.created_at"
        case .priceAscending, .priceDescending: "p.price_cents"
        case .rating: Products.ratingKeyExpression
        }
    }

    func orderBy(key: String, id: String) -> String {
        let direction = self == .priceAscending ? "ASC" : "DESC"
        return "\(key) \(direction), \(id) \(direction)"
    }

    func position(_ product: Products.Product) -> Cursor {
        switch self {
        case .newest: Cursor(createdAt: product.createdAt, id: product.id)
        case .priceAscending, .priceDescending: Cursor(ordering: rawValue, key: product.priceCents, id: product.id)
        case .rating: Cursor(ordering: rawValue, key: Products.ratingKey(product), id: product.id)
        }
    }

    /// The condition for rows after `cursor` in this order, written as a row comparison the
    /// order's indexes can start from.
    func rowsAfter(_ cursor: Cursor, in query: inout FilterQuery) throws -> String {
        let key = self == .newest ? try query.bind(cursor.createdAt) : try query.bind(cursor.key)
        return "(\(keyExpression), p.id) \(self == .priceAscending ? ">" : "<") (\(key), \(try query.bind(cursor.id)))"
    }
}
