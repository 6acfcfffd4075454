import Catalog
import Core
import Foundation
import Testing

@Suite struct MerchantProductTests {
    @Test func aMerchantCreatesAProductOnSale() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("Lighting")
            let merchant = try await shop.merchant("Duka")

            // Act
            let product = try await shop.products.create(
                .init(
                    categoryID: category, name: "  Solar Lantern ", description: "Bright", priceCents: 150_000, stock: 12,
                    imageURLs: ["https://img.example.com/lantern.jpg", "http://img.example.com/side.png"]),
                merchantID: merchant.merchantID!)

            // Check
            #expect(product.name == "Solar Lantern")
            #expect(product.merchant == MerchantName(id: merchant.merchantID!, name: "Duka"))
            #expect(product.categoryID == category && product.description == "Bright")
            #expect(product.priceCents == 150_000 && product.stock == 12 && product.isActive)
            #expect(product.imageURLs == ["https://img.example.com/lantern.jpg", "http://img.example.com/side.png"])
            #expect(product.ratingCount == 0 && product.ratingAverage == nil)
            #expect(try await shop.products.product(product.id) == product)
        }
    }

    @Test func productRulesAreEnforced() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            func create(_ draft: Products.Draft) async -> Problem? {
                await problem { try await shop.products.create(draft, merchantID: merchant.merchantID!) }
            }

            // Act
            let oddCents = await create(.init(categoryID: category, name: "Odd", priceCents: 10_050, stock: 1))
            let free = await create(.init(categoryID: category, name: "Free", priceCents: 0, stock: 1))
            let everythingWrong = await create(
                .init(
                    categoryID: category, name: " ", description: String(repeating: "d", count: 5001), priceCents: -100, stock: -1,
                    imageURLs: ["ftp://example.com/a.png", "https://example.com/ok.png", "not a url"]))
            let tooManyImages = await create(
                .init(categoryID: category, name: "Many", priceCents: 100, stock: 1, imageURLs: (0...10).map { "https://example.com/\($0).png" }))
            let longName = await create(.init(categoryID: category, name: String(repeating: "n", count: 201), priceCents: 100, stock: 1))
            let tooDear = await create(.init(categoryID: category, name: "Dear", priceCents: 100_000_100, stock: 1))
            let unknownCategory = await create(.init(categoryID: UUID(), name: "Lost", priceCents: 100, stock: 1))

            // Check
            #expect(oddCents?.status == 422 && oddCents?.fields == ["price_cents"])
            #expect(free?.fields == ["price_cents"])
            #expect(everythingWrong?.fields == ["name", "description", "price_cents", "stock", "image_urls[0]", "image_urls[2]"])
            #expect(tooManyImages?.fields == ["image_urls"])
            #expect(longName?.fields == ["name"])
            #expect(tooDear?.fields == ["price_cents"])
            #expect(unknownCategory?.status == 422 && unknownCategory?.fields == ["category_id"])
            let count = try await shop.database.query("SELECT count(*) FROM products")
            #expect(try count[0].decode(Int.self) == 0)
        }
    }

    @Test func namesAreUniquePerMerchantIgnoringCase() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let duka = try await shop.merchant("Duka")
            let mitindo = try await shop.merchant("Mitindo")
            let lantern = try await shop.product(duka, "Lantern", category: category)
            let torch = try await shop.product(duka, "Torch", category: category)

            // Act
            let duplicate = await problem { try await shop.product(duka, "LANTERN", category: category) }
            let renamed = await problem { try await shop.products.update(torch.id, .init(name: "lantern"), merchantID: duka.merchantID!) }
            let otherMerchant = try await shop.product(mitindo, "Lantern", category: category)

            // Check
            #expect(duplicate?.status == 409 && duplicate?.code == "product_name_taken")
            #expect(renamed?.status == 409 && renamed?.code == "product_name_taken")
            #expect(otherMerchant.id != lantern.id)
        }
    }

    @Test func anUpdateChangesOnlyWhatIsGiven() async throws {
        try await Shop.with { shop in
            // Setup
            let lighting = try await shop.category("Lighting")
            let outdoor = try await shop.category("Outdoor")
            let merchant = try await shop.merchant("Duka")
            let product = try await shop.product(merchant, "Lantern", priceCents: 150_000, stock: 5, category: lighting)

            // Act
            let updated = try await shop.products.update(
                product.id, .init(description: "Now brighter", categoryID: outdoor, priceCents: 175_000, imageURLs: ["https://example.com/l.png"]),
                merchantID: merchant.merchantID!)
            let invalid = await problem {
                try await shop.products.update(product.id, .init(priceCents: 175_050, stock: -2), merchantID: merchant.merchantID!)
            }
            let unknownCategory = await problem {
                try await shop.products.update(product.id, .init(categoryID: UUID()), merchantID: merchant.merchantID!)
            }

            // Check
            #expect(updated.name == "Lantern" && updated.stock == 5 && updated.isActive)
            #expect(updated.description == "Now brighter" && updated.categoryID == outdoor && updated.priceCents == 175_000)
            #expect(updated.imageURLs == ["https://example.com/l.png"])
            #expect(updated.updatedAt >= product.updatedAt && updated.createdAt == product.createdAt)
            #expect(invalid?.fields == ["price_cents", "stock"])
            #expect(unknownCategory?.status == 422 && unknownCategory?.fields == ["category_id"])
            #expect(try await shop.products.product(product.id) == updated)
        }
    }

    @Test func anotherMerchantsProductIsNotFound() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let owner = try await shop.merchant("Duka")
            let rival = try await shop.merchant("Rival")
            let product = try await shop.product(owner, "Lantern", stock: 5, category: category)

            // Act
            let update = await problem { try await shop.products.update(product.id, .init(name: "Mine"), merchantID: rival.merchantID!) }
            let adjust = await problem { try await shop.products.update(product.id, .init(stockAdjustment: -1), merchantID: rival.merchantID!) }
            let deactivate = await problem { try await shop.products.deactivate(product.id, merchantID: rival.merchantID!) }
            let rivalList = try await shop.products.list(merchantID: rival.merchantID!, page: try PageRequest(limit: nil, cursor: nil))

            // Check
            for refused in [update, adjust, deactivate] { #expect(refused?.status == 404 && refused?.code == "not_found") }
            #expect(rivalList.items.isEmpty)
            #expect(try await shop.products.product(product.id) == product)
        }
    }

    @Test func stockIsSetOrAdjustedButNeverNegative() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let id = try await shop.product(merchant, "Lantern", stock: 5, category: category).id
            let merchantID = merchant.merchantID!

            // Act and check
            #expect(try await shop.products.update(id, .init(stockAdjustment: 3), merchantID: merchantID).stock == 8)
            #expect(try await shop.products.update(id, .init(stockAdjustment: -8), merchantID: merchantID).stock == 0)
            #expect(try await shop.products.update(id, .init(stock: 20), merchantID: merchantID).stock == 20)

            let belowZero = await problem { try await shop.products.update(id, .init(priceCents: 200, stockAdjustment: -21), merchantID: merchantID) }
            #expect(belowZero?.status == 409 && belowZero?.code == "insufficient_stock")
            #expect(belowZero?.extensions["available"] == .int(20))
            let both = await problem { try await shop.products.update(id, .init(stock: 3, stockAdjustment: 1), merchantID: merchantID) }
            #expect(both?.status == 422 && both?.fields == ["stock_adjustment"])
            let aboveMaximum = await problem { try await shop.products.update(id, .init(stockAdjustment: 999_999), merchantID: merchantID) }
            #expect(aboveMaximum?.status == 422 && aboveMaximum?.fields == ["stock_adjustment"])

            // A refused adjustment changes nothing else either.
            let unchanged = try await shop.products.product(id)
            #expect(unchanged.stock == 20 && unchanged.priceCents == 10_000)
        }
    }

    @Test func concurrentAdjustmentsNeverOversell() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let id = try await shop.product(merchant, "Lantern", stock: 10, category: category).id

            // Act: twenty sales of one unit race for ten units.
            let outcomes = await withTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await shop.products.update(id, .init(stockAdjustment: -1), merchantID: merchant.merchantID!)
                            return "sold"
                        } catch {
                            return (error as? Problem)?.code ?? "\(error)"
                        }
                    }
                }
                return await group.reduce(into: [String]()) { $0.append($1) }
            }

            // Check
            #expect(outcomes.filter { $0 == "sold" }.count == 10)
            #expect(outcomes.filter { $0 == "insufficient_stock" }.count == 10)
            #expect(try await shop.products.product(id).stock == 0)
        }
    }

    @Test func deactivationHidesAProductUntilItIsReactivated() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let product = try await shop.product(merchant, "Lantern", category: category)
            let older = try await shop.product(merchant, "Torch", category: category)

            // Act
            try await shop.products.deactivate(product.id, merchantID: merchant.merchantID!)
            try await shop.products.deactivate(product.id, merchantID: merchant.merchantID!)
            let publicWhileInactive = try await shop.products.list(.init(), limit: nil, cursor: nil)
            let ownWhileInactive = try await shop.products.list(merchantID: merchant.merchantID!, page: try PageRequest(limit: nil, cursor: nil))
            let reactivated = try await shop.products.update(product.id, .init(isActive: true), merchantID: merchant.merchantID!)

            // Check
            #expect(publicWhileInactive.items.map(\.id) == [older.id])
            #expect(Set(ownWhileInactive.items.map(\.name)) == ["Lantern", "Torch"])
            #expect(ownWhileInactive.items.first { $0.id == product.id }?.isActive == false)
            #expect(reactivated.isActive)
            #expect(try await shop.products.product(product.id).id == product.id)
        }
    }

    @Test func theMerchantListPagesNewestFirst() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let other = try await shop.merchant("Other")
            var created: [UUID] = []
            for index in 0..<5 { created.append(try await shop.product(merchant, "Item \(index)", category: category).id) }
            _ = try await shop.product(other, "Not mine", category: category)

            // Act
            let first = try await shop.products.list(merchantID: merchant.merchantID!, page: try PageRequest(limit: 3, cursor: nil))
            let second = try await shop.products.list(
                merchantID: merchant.merchantID!, page: try PageRequest(limit: 3, cursor: first.nextCursor))

            // Check
            #expect((first.items + second.items).map(\.id) == created.reversed())
            #expect(second.nextCursor == nil)
        }
    }
}
