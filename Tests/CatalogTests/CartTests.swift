import Catalog
import Core
import Foundation
import Identity
import Testing

@Suite struct CartTests {
    @Test func linesAreGroupedPerMerchantWithTotals() async throws {
        try await Shop.with { shop in
            // Setup
            let (duka, mitindo, lantern, torch, shirt, customer) = try await Self.twoMerchants(shop)

            // Act
            _ = try await shop.carts.add(productID: lantern.id, quantity: 2, for: customer)
            _ = try await shop.carts.add(productID: shirt.id, quantity: 1, for: customer)
            let cart = try await shop.carts.add(productID: torch.id, quantity: 3, for: customer)

            // Check: groups in merchant-id order, lines in the order they were added.
            let expected = [
                (duka.merchantID!, "Duka", [lantern.id, torch.id], Int64(360_000)),
                (mitindo.merchantID!, "Mitindo", [shirt.id], Int64(120_000)),
            ].sorted { $0.0.uuidString.lowercased() < $1.0.uuidString.lowercased() }
            #expect(cart.groups.map(\.merchant.id) == expected.map(\.0))
            #expect(cart.groups.map(\.merchant.name) == expected.map(\.1))
            #expect(cart.groups.map { $0.lines.map(\.productID) } == expected.map(\.2))
            #expect(cart.groups.map(\.itemsTotalCents) == expected.map(\.3))
            #expect(cart.itemsTotalCents == 480_000 && cart.itemCount == 6)
            let torchLine = try #require(cart.groups.flatMap(\.lines).first { $0.productID == torch.id })
            #expect(torchLine.name == "Torch" && torchLine.unitPriceCents == 20_000 && torchLine.quantity == 3)
            #expect(torchLine.lineTotalCents == 60_000 && torchLine.stock == 3 && torchLine.isAvailable)
            #expect(try await shop.carts.cart(of: customer) == cart)
        }
    }

    @Test func addingAgainMergesUpToTheCapAndTheStock() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let plenty = try await shop.product(merchant, "Plenty", stock: 500, category: category)
            let scarce = try await shop.product(merchant, "Scarce", stock: 4, category: category)
            let customer = try await shop.customer("customer@example.com")

            // Act
            _ = try await shop.carts.add(productID: plenty.id, quantity: 60, for: customer)
            let merged = try await shop.carts.add(productID: plenty.id, quantity: 39, for: customer)
            let overCap = await problem { try await shop.carts.add(productID: plenty.id, quantity: 1, for: customer) }
            _ = try await shop.carts.add(productID: scarce.id, quantity: 3, for: customer)
            let overStock = await problem { try await shop.carts.add(productID: scarce.id, quantity: 2, for: customer) }
            let firstOverStock = await problem {
                try await shop.carts.add(productID: scarce.id, quantity: 5, for: try await shop.customer("other@example.com"))
            }

            // Check
            #expect(merged.groups[0].lines.first { $0.productID == plenty.id }?.quantity == 99)
            #expect(overCap?.status == 422 && overCap?.fields == ["quantity"])
            for problem in [overStock, firstOverStock] {
                #expect(problem?.status == 409 && problem?.code == "out_of_stock")
                #expect(
                    problem?.extensions["products"]
                        == .array([.object(["product_id": .string(scarce.id.uuidString.lowercased()), "available": .int(4)])]))
            }
            let lines = try await shop.carts.cart(of: customer).groups[0].lines
            #expect(lines.map(\.quantity) == [99, 3])
        }
    }

    @Test func addingRefusesBadQuantitiesAndProductsNotOnSale() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let withdrawn = try await shop.product(merchant, "Withdrawn", category: category)
            try await shop.products.deactivate(withdrawn.id, merchantID: merchant.merchantID!)
            let product = try await shop.product(merchant, "Lantern", category: category)
            let customer = try await shop.customer("customer@example.com")

            // Act
            let zero = await problem { try await shop.carts.add(productID: product.id, quantity: 0, for: customer) }
            let hundred = await problem { try await shop.carts.add(productID: product.id, quantity: 100, for: customer) }
            let inactive = await problem { try await shop.carts.add(productID: withdrawn.id, quantity: 1, for: customer) }
            let unknown = await problem { try await shop.carts.add(productID: UUID(), quantity: 1, for: customer) }
            let ownProduct = await problem { try await shop.carts.add(productID: product.id, quantity: 1, for: merchant) }

            // Check
            #expect(zero?.status == 422 && zero?.fields == ["quantity"])
            #expect(hundred?.status == 422 && hundred?.fields == ["quantity"])
            #expect(inactive?.status == 422 && inactive?.fields == ["product_id"])
            #expect(unknown?.status == 422 && unknown?.fields == ["product_id"])
            #expect(ownProduct?.status == 409 && ownProduct?.code == "own_product")
            #expect(try await shop.carts.cart(of: customer).groups.isEmpty)
            #expect(try await shop.carts.cart(of: merchant).groups.isEmpty)
        }
    }

    @Test func aMerchantShopsFromOtherMerchants() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let duka = try await shop.merchant("Duka")
            let mitindo = try await shop.merchant("Mitindo")
            let shirt = try await shop.product(mitindo, "Shirt", category: category)

            // Act
            let cart = try await shop.carts.add(productID: shirt.id, quantity: 2, for: duka)

            // Check
            #expect(cart.groups.map(\.merchant.name) == ["Mitindo"] && cart.itemCount == 2)
        }
    }

    @Test func quantitiesChangeAndLinesAreRemovedOrCleared() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let lantern = try await shop.product(merchant, "Lantern", priceCents: 150_000, stock: 6, category: category)
            let torch = try await shop.product(merchant, "Torch", priceCents: 20_000, stock: 6, category: category)
            let customer = try await shop.customer("customer@example.com")
            _ = try await shop.carts.add(productID: lantern.id, quantity: 1, for: customer)
            _ = try await shop.carts.add(productID: torch.id, quantity: 1, for: customer)

            // Act and check
            let changed = try await shop.carts.change(productID: lantern.id, quantity: 4, for: customer)
            #expect(changed.groups[0].lines.map(\.quantity) == [4, 1] && changed.itemsTotalCents == 620_000)
            let overStock = await problem { try await shop.carts.change(productID: lantern.id, quantity: 7, for: customer) }
            #expect(overStock?.code == "out_of_stock" && overStock?.status == 409)
            let zero = await problem { try await shop.carts.change(productID: lantern.id, quantity: 0, for: customer) }
            #expect(zero?.status == 422 && zero?.fields == ["quantity"])
            let notInCart = await problem { try await shop.carts.change(productID: UUID(), quantity: 1, for: customer) }
            #expect(notInCart?.status == 404)

            try await shop.carts.remove(productID: torch.id, for: customer)
            #expect(try await shop.carts.cart(of: customer).groups.flatMap(\.lines).map(\.productID) == [lantern.id])
            let removedTwice = await problem { try await shop.carts.remove(productID: torch.id, for: customer) }
            #expect(removedTwice?.status == 404 && removedTwice?.code == "not_found")

            try await shop.carts.clear(for: customer)
            try await shop.carts.clear(for: customer)
            let empty = try await shop.carts.cart(of: customer)
            #expect(empty.groups.isEmpty && empty.itemsTotalCents == 0 && empty.itemCount == 0)
        }
    }

    /// An add answers with the cart its one statement leaves: the merged line from the merge, the
    /// others as stored, each with its product's current price, stock and availability.
    @Test func theCartAnAddAnswersIsTheCartAsStored() async throws {
        try await Shop.with { shop in
            // Setup: two merchants' products in the cart, one of them since withdrawn.
            let (duka, _, lantern, torch, shirt, customer) = try await Self.twoMerchants(shop)
            _ = try await shop.carts.add(productID: lantern.id, quantity: 2, for: customer)
            _ = try await shop.carts.add(productID: torch.id, quantity: 1, for: customer)
            _ = try await shop.carts.add(productID: shirt.id, quantity: 1, for: customer)
            try await shop.products.deactivate(torch.id, merchantID: duka.merchantID!)

            // Act: more of the first line added.
            let answered = try await shop.carts.add(productID: lantern.id, quantity: 3, for: customer)

            // Check
            #expect(try await shop.carts.cart(of: customer) == answered)
            let dukaLines = try #require(answered.groups.first { $0.merchant.id == duka.merchantID }).lines
            #expect(dukaLines.map(\.productID) == [lantern.id, torch.id])
            #expect(dukaLines.map(\.quantity) == [5, 1])
            #expect(dukaLines.map(\.isAvailable) == [true, false])
            #expect(answered.itemsTotalCents == 5 * 150_000 + 20_000 + 120_000)
        }
    }

    @Test func linesShowCurrentPriceStockAndAvailability() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let lantern = try await shop.product(merchant, "Lantern", priceCents: 150_000, stock: 6, category: category)
            let torch = try await shop.product(merchant, "Torch", priceCents: 20_000, stock: 6, category: category)
            let customer = try await shop.customer("customer@example.com")
            _ = try await shop.carts.add(productID: lantern.id, quantity: 5, for: customer)
            _ = try await shop.carts.add(productID: torch.id, quantity: 1, for: customer)

            // Act: the merchant reprices, sells most of the lanterns elsewhere and withdraws the torch.
            _ = try await shop.products.update(lantern.id, .init(priceCents: 160_000, stockAdjustment: -4), merchantID: merchant.merchantID!)
            try await shop.products.deactivate(torch.id, merchantID: merchant.merchantID!)
            let cart = try await shop.carts.cart(of: customer)
            let withdrawnChange = await problem { try await shop.carts.change(productID: torch.id, quantity: 1, for: customer) }

            // Check
            let lines = cart.groups[0].lines
            #expect(lines.map(\.unitPriceCents) == [160_000, 20_000])
            #expect(lines.map(\.lineTotalCents) == [800_000, 20_000])
            #expect(lines.map(\.stock) == [2, 6])
            #expect(lines.map(\.isAvailable) == [false, false])
            #expect(cart.itemsTotalCents == 820_000)
            #expect(withdrawnChange?.status == 409 && withdrawnChange?.code == "out_of_stock")
            #expect(
                withdrawnChange?.extensions["products"]
                    == .array([.object(["product_id": .string(torch.id.uuidString.lowercased()), "available": .int(0)])]))
        }
    }

    @Test func cartsBelongToTheirOwner() async throws {
        try await Shop.with { shop in
            // Setup
            let category = try await shop.category("General")
            let merchant = try await shop.merchant("Duka")
            let lantern = try await shop.product(merchant, "Lantern", category: category)
            let alice = try await shop.customer("alice@example.com")
            let bob = try await shop.customer("bob@example.com")
            _ = try await shop.carts.add(productID: lantern.id, quantity: 2, for: alice)

            // Act
            let bobsCart = try await shop.carts.cart(of: bob)
            let bobRemoves = await problem { try await shop.carts.remove(productID: lantern.id, for: bob) }
            try await shop.carts.clear(for: bob)

            // Check
            #expect(bobsCart.groups.isEmpty)
            #expect(bobRemoves?.status == 404)
            #expect(try await shop.carts.cart(of: alice).itemCount == 2)
        }
    }

    /// Duka sells a lantern (1,500.00, 10 in stock) and a torch (200.00, 3); Mitindo a shirt
    /// (1,200.00, 5); one customer.
    static func twoMerchants(_ shop: Shop) async throws -> (
        duka: Principal, mitindo: Principal, lantern: Products.Product, torch: Products.Product, shirt: Products.Product,
        customer: Principal
    ) {
        let category = try await shop.category("General")
        let duka = try await shop.merchant("Duka")
        let mitindo = try await shop.merchant("Mitindo")
        return (
            duka, mitindo,
            try await shop.product(duka, "Lantern", priceCents: 150_000, stock: 10, category: category),
            try await shop.product(duka, "Torch", priceCents: 20_000, stock: 3, category: category),
            try await shop.product(mitindo, "Shirt", priceCents: 120_000, stock: 5, category: category),
            try await shop.customer("customer@example.com")
        )
    }
}
