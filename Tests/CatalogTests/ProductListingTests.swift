import Catalog
import Core
import Foundation
import Testing

@Suite struct ProductListingTests {
    @Test func filtersNarrowTheListingToProductsOnSale() async throws {
        try await Shop.with { shop in
            // Setup
            let electronics = try await shop.category("Electronics")
            let phones = try await shop.category("Phones", parent: electronics)
            let fashion = try await shop.category("Fashion")
            let duka = try await shop.merchant("Duka")
            let mitindo = try await shop.merchant("Mitindo")
            let closed = try await shop.merchant("Closed Shop")
            _ = try await shop.product(duka, "Solar Lantern", priceCents: 150_000, category: electronics, description: "A bright lamp")
            _ = try await shop.product(duka, "Android Phone", priceCents: 1_200_000, category: phones, description: "Dual SIM")
            _ = try await shop.product(duka, "Phone Charger", priceCents: 50_000, category: electronics)
            _ = try await shop.product(mitindo, "Kitenge Shirt", priceCents: 120_000, category: fashion)
            let sandals = try await shop.product(mitindo, "Leather Sandals", priceCents: 80_000, category: fashion)
            try await shop.products.deactivate(sandals.id, merchantID: mitindo.merchantID!)
            _ = try await shop.product(closed, "Closed Phone", priceCents: 90_000, category: phones)
            _ = try await shop.database.query("UPDATE merchants SET is_active = false WHERE id = \(closed.merchantID!)")

            func names(_ filter: Products.Filter) async throws -> Set<String> {
                Set(try await shop.products.list(filter, limit: 100, cursor: nil).items.map(\.name))
            }

            // Act and check
            #expect(try await names(.init()) == ["Solar Lantern", "Android Phone", "Phone Charger", "Kitenge Shirt"])
            #expect(try await names(.init(text: "phone")) == ["Android Phone", "Phone Charger"])
            #expect(try await names(.init(text: "LAMP")) == ["Solar Lantern"])  // a word of the description
            #expect(try await names(.init(text: "phone -charger")) == ["Android Phone"])
            #expect(try await names(.init(text: "  ")) == ["Solar Lantern", "Android Phone", "Phone Charger", "Kitenge Shirt"])
            #expect(try await names(.init(categoryID: electronics)) == ["Solar Lantern", "Android Phone", "Phone Charger"])
            #expect(try await names(.init(categoryID: phones)) == ["Android Phone"])
            #expect(try await names(.init(categoryID: UUID())) == [])
            #expect(try await names(.init(merchantID: mitindo.merchantID)) == ["Kitenge Shirt"])
            #expect(try await names(.init(minPriceCents: 100_000, maxPriceCents: 150_000)) == ["Solar Lantern", "Kitenge Shirt"])
            #expect(try await names(.init(minPriceCents: 1_000_000)) == ["Android Phone"])
            #expect(try await names(.init(text: "phone", maxPriceCents: 100_000)) == ["Phone Charger"])
        }
    }

    @Test func invalidFiltersAreValidationErrors() async throws {
        try await Shop.with { shop in
            // Act
            let reversed = await problem { try await shop.products.list(.init(minPriceCents: 500, maxPriceCents: 100), limit: nil, cursor: nil) }
            let negative = await problem { try await shop.products.list(.init(minPriceCents: -1), limit: nil, cursor: nil) }
            let tooLong = await problem { try await shop.products.list(.init(text: String(repeating: "a", count: 201)), limit: nil, cursor: nil) }
            let limit = await problem { try await shop.products.list(.init(), limit: 101, cursor: nil) }

            // Check
            #expect(reversed?.status == 422 && reversed?.fields == ["max_price_cents"])
            #expect(negative?.status == 422 && negative?.fields == ["min_price_cents"])
            #expect(tooLong?.status == 422 && tooLong?.fields == ["q"])
            #expect(limit?.status == 422 && limit?.fields == ["limit"])
        }
    }

    @Test func eachSortOrdersTheListing() async throws {
        try await Shop.with { shop in
            // Setup: created in this order, so newest first is the reverse.
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let cheap = try await shop.product(merchant, "Cheap", priceCents: 10_000, category: category)
            let dear = try await shop.product(merchant, "Dear", priceCents: 90_000, category: category)
            let middle = try await shop.product(merchant, "Middle", priceCents: 50_000, category: category)
            let unrated = try await shop.product(merchant, "Unrated", priceCents: 30_000, category: category)
            try await shop.rate(cheap.id, total: 9, count: 2)  // 4.5
            try await shop.rate(dear.id, total: 3, count: 1)  // 3.0
            try await shop.rate(middle.id, total: 14, count: 3)  // 4.67

            func order(_ sort: Products.Sort) async throws -> [String] {
                try await shop.products.list(.init(sort: sort), limit: 10, cursor: nil).items.map(\.name)
            }

            // Act and check
            #expect(try await order(.newest) == ["Unrated", "Middle", "Dear", "Cheap"])
            #expect(try await order(.priceAscending) == ["Cheap", "Unrated", "Middle", "Dear"])
            #expect(try await order(.priceDescending) == ["Dear", "Middle", "Unrated", "Cheap"])
            #expect(try await order(.rating) == ["Middle", "Cheap", "Dear", "Unrated"])
            let rated = try await shop.products.product(middle.id)
            #expect(rated.ratingAverage == 4.67 && rated.ratingCount == 3)
            #expect(try await shop.products.product(unrated.id).ratingAverage == nil)
        }
    }

    @Test(arguments: Products.Sort.allCases)
    func cursorsPageThroughEverySortWithoutGapsOrDuplicates(sort: Products.Sort) async throws {
        try await Shop.with { shop in
            // Setup: 25 products with few distinct prices, ratings and creation times, so every
            // sort has runs of equal keys that only the id tells apart, across page boundaries.
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            var created: [Products.Product] = []
            for index in 0..<25 {
                let product = try await shop.product(
                    merchant, "Product \(index)", priceCents: Int64(index % 4 + 1) * 10_000, category: category)
                if index % 3 != 0 { try await shop.rate(product.id, total: (index % 3) * 4, count: index % 3) }
                created.append(product)
            }
            let sharedMoment = created[5].createdAt
            _ = try await shop.database.query(
                "UPDATE products SET created_at = \(sharedMoment) WHERE id = ANY(\(created.prefix(12).map(\.id)))")

            // Act
            let everything = try await shop.products.list(.init(sort: sort), limit: 100, cursor: nil)
            var paged: [Products.Product] = []
            var pages = 0
            var cursor: String?
            repeat {
                let page = try await shop.products.list(.init(sort: sort), limit: 4, cursor: cursor)
                paged += page.items
                pages += 1
                cursor = page.nextCursor
            } while cursor != nil && pages < 20

            // Check
            #expect(everything.items.count == 25 && everything.nextCursor == nil)
            #expect(isOrdered(everything.items, by: sort))
            #expect(paged.map(\.id) == everything.items.map(\.id))
            #expect(Set(paged.map(\.id)).count == 25)
            #expect(pages == 7)
        }
    }

    @Test(arguments: Products.Sort.allCases, [nil, "lantern"])
    func aCategoryListingPagesThroughItsWholeSubtree(sort: Products.Sort, text: String?) async throws {
        try await Shop.with { shop in
            // Setup: products in a parent, its child and an unrelated category, with repeated
            // prices and ratings; every third is a lantern.
            let parent = try await shop.category("Lighting")
            let child = try await shop.category("Solar", parent: parent)
            let other = try await shop.category("Kitchen")
            let merchant = try await shop.merchant("Duka")
            var inSubtree: Set<UUID> = []
            for index in 0..<18 {
                let category = [parent, child, other][index % 3]
                let product = try await shop.product(
                    merchant, index % 3 == 1 ? "Lantern \(index)" : "Lamp \(index)", priceCents: Int64(index % 4 + 1) * 10_000,
                    category: category)
                try await shop.rate(product.id, total: index % 2 * 4, count: index % 2)
                if category != other, text == nil || index % 3 == 1 { inSubtree.insert(product.id) }
            }
            let filter = Products.Filter(text: text, categoryID: parent, sort: sort)

            // Act
            var paged: [Products.Product] = []
            var cursor: String?
            repeat {
                let page = try await shop.products.list(filter, limit: 2, cursor: cursor)
                paged += page.items
                cursor = page.nextCursor
            } while cursor != nil && paged.count < 40

            // Check
            #expect(paged.count == inSubtree.count && Set(paged.map(\.id)) == inSubtree)
            #expect(isOrdered(paged, by: sort))
        }
    }

    @Test func aCursorOnlyWorksWithTheSortThatIssuedIt() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            for index in 0..<3 { _ = try await shop.product(merchant, "Item \(index)", category: category) }
            let priceCursor = try await shop.products.list(.init(sort: .priceAscending), limit: 1, cursor: nil).nextCursor
            let newestCursor = try await shop.products.list(.init(), limit: 1, cursor: nil).nextCursor

            // Act
            let crossed = await problem { try await shop.products.list(.init(sort: .priceDescending), limit: 1, cursor: priceCursor) }
            let toDefault = await problem { try await shop.products.list(.init(), limit: 1, cursor: priceCursor) }
            let fromDefault = await problem { try await shop.products.list(.init(sort: .rating), limit: 1, cursor: newestCursor) }
            let garbage = await problem { try await shop.products.list(.init(), limit: 1, cursor: "bm90IGEgY3Vyc29y") }

            // Check
            for refused in [crossed, toDefault, fromDefault, garbage] {
                #expect(refused?.status == 422 && refused?.fields == ["cursor"])
            }
        }
    }

    @Test func theDetailShowsOnlyProductsOnSale() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let onSale = try await shop.product(
                merchant, "Lantern", priceCents: 150_000, stock: 7, category: category, description: "Solar powered")
            let withdrawn = try await shop.product(merchant, "Withdrawn", category: category)
            try await shop.products.deactivate(withdrawn.id, merchantID: merchant.merchantID!)
            let closedMerchant = try await shop.merchant("Closed")
            let orphan = try await shop.product(closedMerchant, "Orphan", category: category)
            _ = try await shop.database.query("UPDATE merchants SET is_active = false WHERE id = \(closedMerchant.merchantID!)")

            // Act
            let found = try await shop.products.product(onSale.id)
            let missing = [
                await problem { try await shop.products.product(withdrawn.id) },
                await problem { try await shop.products.product(orphan.id) },
                await problem { try await shop.products.product(UUID()) },
            ]

            // Check
            #expect(found == onSale)
            #expect(found.merchant == MerchantName(id: merchant.merchantID!, name: "Duka"))
            #expect(found.description == "Solar powered" && found.stock == 7 && found.priceCents == 150_000 && found.isActive)
            for problem in missing { #expect(problem?.status == 404 && problem?.code == "not_found") }
        }
    }

    @Test func categoriesFormATreeSortedByName() async throws {
        try await Shop.with { shop in
            // Setup
            let home = try await shop.category("Home")
            let electronics = try await shop.category("Electronics")
            let phones = try await shop.category("Phones", parent: electronics)
            let laptops = try await shop.category("Laptops", parent: electronics)
            let chargers = try await shop.category("Chargers", parent: phones)

            // Act
            let tree = try await shop.products.categories()

            // Check
            #expect(tree.map(\.id) == [electronics, home])
            #expect(tree[0].children.map(\.id) == [laptops, phones])
            #expect(tree[0].children[1].children.map(\.id) == [chargers])
            #expect(tree[0].children[1].children[0].children.isEmpty && tree[1].children.isEmpty)
            #expect(tree[0].slug == "electronics" && tree[0].name == "Electronics")
        }
    }
}

/// Whether products follow `sort`'s documented order: its key, then the id (as PostgreSQL
/// orders uuids: by their bytes, the same as by lower-case hex).
func isOrdered(_ products: [Products.Product], by sort: Products.Sort) -> Bool {
    zip(products, products.dropFirst()).allSatisfy { first, second in
        let (a, b) = (first.id.uuidString.lowercased(), second.id.uuidString.lowercased())
        switch sort {
        case .newest: return (first.createdAt, a) > (second.createdAt, b)
        case .priceAscending: return (first.priceCents, a) < (second.priceCents, b)
        case .priceDescending: return (first.priceCents, a) > (second.priceCents, b)
        case .rating:
            func average(_ product: Products.Product) -> Double {
                product.ratingCount == 0 ? 0 : Double(product.ratingTotal) / Double(product.ratingCount)
            }
            return (average(first), a) > (average(second), b)
        }
    }
}
