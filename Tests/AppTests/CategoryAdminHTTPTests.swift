import Foundation
import PostgresNIO
import Server
import TestSupport
import Testing

extension HTTPClient {
    /// Creates a category as `admin` and returns its id.
    @discardableResult
    func category(_ name: String, slug: String, parent: String? = nil, admin: String, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> String
    {
        var body: [String: JSON] = ["name": .string(name), "slug": .string(slug)]
        if let parent { body["parent_id"] = .string(parent) }
        let reply = try await send(.post, "/api/v1/admin/categories", json: .object(body), token: admin)
        #expect(reply.status == 201, "create category: \(reply.text)", sourceLocation: sourceLocation)
        return reply.json["id"].string ?? ""
    }

    func patchCategory(_ id: String, _ body: JSON, admin: String) async throws -> Reply {
        try await send(.patch, "/api/v1/admin/categories/\(id)", json: body, token: admin)
    }
}

@Suite struct CategoryAdminHTTPTests {
    @Test func adminsBuildTheTreeWithUniqueSlugsAndNoCycles() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let electronics = try await http.category("Electronics", slug: "electronics", admin: cast.admin)

            // Act
            let phones = try await http.send(
                .post, "/api/v1/admin/categories",
                json: ["name": " Phones ", "slug": " Phones ", "parent_id": .string(electronics)], token: cast.admin)
            let phonesID = phones.json["id"].string ?? ""
            let android = try await http.category("Android", slug: "android", parent: phonesID, admin: cast.admin)
            let taken = try await http.send(.post, "/api/v1/admin/categories", json: ["name": "Phones", "slug": "phones"], token: cast.admin)
            let invalid = try await http.send(.post, "/api/v1/admin/categories", json: ["name": "", "slug": "a--b"], token: cast.admin)
            let orphan = try await http.send(
                .post, "/api/v1/admin/categories", json: ["name": "Orphan", "slug": "orphan", "parent_id": .string(UUID().uuidString)],
                token: cast.admin)
            let byMerchant = try await http.send(.post, "/api/v1/admin/categories", json: ["name": "Mine", "slug": "mine"], token: cast.merchant)
            let cycle = try await http.patchCategory(electronics, ["parent_id": .string(android)], admin: cast.admin)
            let underItself = try await http.patchCategory(electronics, ["parent_id": .string(electronics)], admin: cast.admin)
            let both = try await http.patchCategory(android, ["parent_id": .string(electronics), "move_to_root": true], admin: cast.admin)
            let moved = try await http.patchCategory(android, ["move_to_root": true, "name": "Android Phones"], admin: cast.admin)
            let resluged = try await http.patchCategory(phonesID, ["slug": "mobile-phones"], admin: cast.admin)
            let unknown = try await http.patchCategory(UUID().uuidString, ["name": "Nothing"], admin: cast.admin)
            let list = try await http.send(.get, "/api/v1/admin/categories?limit=2", token: cast.admin)
            let read = try await http.send(.get, "/api/v1/admin/categories/\(phonesID)", token: cast.admin)
            let tree = try await http.send(.get, "/api/v1/categories")

            // Check
            #expect(phones.status == 201, "\(phones.text)")
            #expect(phones.json.keys == ["id", "parent_id", "name", "slug", "is_active", "is_listed", "created_at", "updated_at"])
            #expect(phones.json["name"] == "Phones" && phones.json["slug"] == "phones" && phones.json["parent_id"].string == electronics)
            #expect(phones.json["is_active"] == true && phones.json["is_listed"] == true)
            expectProblem(taken, 409, "slug_taken")
            expectProblem(invalid, 422, "validation_failed")
            #expect(Set(invalid.json["errors"].array.compactMap { $0["field"].string }) == ["name", "slug"])
            expectProblem(orphan, 422, "validation_failed")
            #expect(orphan.json["errors"][0]["field"] == "parent_id")
            expectProblem(byMerchant, 403, "forbidden")
            expectProblem(cycle, 409, "category_cycle")
            expectProblem(underItself, 422, "validation_failed")
            expectProblem(both, 422, "validation_failed")
            #expect(moved.status == 200 && moved.json["parent_id"].isNull && moved.json["name"] == "Android Phones")
            #expect(resluged.json["slug"] == "mobile-phones" && resluged.json["parent_id"].string == electronics)
            expectProblem(unknown, 404, "not_found")
            #expect(list.json["items"].array.compactMap { $0["id"].string } == [android, phonesID])
            #expect(list.json["next_cursor"].string != nil)
            #expect(read.json == resluged.json)
            #expect(tree.json["items"].array.compactMap { $0["slug"].string } == ["android", "electronics"])
            #expect(tree.json["items"][1]["children"].array.compactMap { $0["slug"].string } == ["mobile-phones"])
        }
    }

    @Test func concurrentMovesCannotCloseACycle() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            for round in 0..<8 {
                let first = try await http.category("First \(round)", slug: "first-\(round)", admin: cast.admin)
                let second = try await http.category("Second \(round)", slug: "second-\(round)", admin: cast.admin)

                // Act: each goes under the other at the same moment.
                let replies: [Reply] = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for (child, parent) in [(first, second), (second, first)] {
                        group.addTask {
                            try await http.withOwnConnection { try await $0.patchCategory(child, ["parent_id": .string(parent)], admin: cast.admin) }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }

                // Check: one move wins, the other sees the cycle it would close.
                #expect(replies.map(\.status).sorted() == [200, 409], "\(replies.map(\.text))")
                #expect(replies.contains { $0.json["code"] == "category_cycle" })
            }
            let reachable = try await services.database.query(
                """
                WITH RECURSIVE reach AS (
                    SELECT id FROM categories WHERE parent_id IS NULL
                    UNION SELECT c.id FROM categories c JOIN reach r ON c.parent_id = r.id
                )
                SELECT (SELECT count(*) FROM reach)::int, (SELECT count(*) FROM categories)::int
                """)
            let (fromRoots, all) = try reachable[0].decode((Int, Int).self)
            #expect(fromRoots == all && all == 16)
        }
    }

    @Test func anInactiveCategoryTakesItsSubtreeAndItsProductsOffSale() async throws {
        try await TestApp.run { http, services in
            // Setup: Electronics > Phones and Fashion, a product in each; the customer's cart holds a phone and a shirt.
            let cast = try await Cast.make(http, services)
            let electronics = try await http.category("Electronics", slug: "electronics", admin: cast.admin)
            let phones = try await http.category("Phones", slug: "phones", parent: electronics, admin: cast.admin)
            let fashion = try await http.category("Fashion", slug: "fashion", admin: cast.admin)
            try await http.product("Solar Lantern", category: electronics, merchant: cast.merchant)
            let phone = try #require(try await http.product("Android Phone", category: phones, merchant: cast.merchant)["id"].string)
            let shirt = try #require(try await http.product("Kitenge Shirt", category: fashion, merchant: cast.merchant)["id"].string)
            let address = try await http.send(
                .post, "/api/v1/addresses",
                json: ["label": "Home", "zone_id": .string(cast.zoneID), "line1": "Moi Avenue 5", "phone": "0712345678"],
                token: cast.customer)
            let addressID = try #require(address.json["id"].string)
            #expect(try await http.cartAdd(phone, quantity: 1, token: cast.customer).status == 200)
            #expect(try await http.cartAdd(shirt, quantity: 1, token: cast.customer).status == 200)
            let checkout: JSON = ["address_id": .string(addressID), "payment_method": "cod"]

            // Act: deactivate Electronics.
            let deactivated = try await http.patchCategory(electronics, ["is_active": false], admin: cast.admin)
            let phonesNow = try await http.send(.get, "/api/v1/admin/categories/\(phones)", token: cast.admin)
            let tree = try await http.send(.get, "/api/v1/categories")
            let listing = try await http.send(.get, "/api/v1/products")
            let inPhones = try await http.send(.get, "/api/v1/products?category_id=\(phones)")
            let detail = try await http.send(.get, "/api/v1/products/\(phone)")
            let reviews = try await http.send(.get, "/api/v1/products/\(phone)/reviews")
            let cart = try await http.send(.get, "/api/v1/cart", token: cast.customer)
            let refused = try await http.send(.post, "/api/v1/orders", json: checkout, token: cast.customer, headers: ["Idempotency-Key": "k-1"])
            let newProduct = try await http.send(
                .post, "/api/v1/merchant/products", json: ["category_id": .string(phones), "name": "Feature Phone", "price_cents": 100_000, "stock": 3],
                token: cast.merchant)

            // Check: the subtree and its products are gone from the public catalog and cannot be bought.
            #expect(deactivated.status == 200 && deactivated.json["is_active"] == false && deactivated.json["is_listed"] == false, "\(deactivated.text)")
            #expect(phonesNow.json["is_active"] == true && phonesNow.json["is_listed"] == false)
            #expect(tree.json["items"].array.compactMap { $0["slug"].string } == ["fashion"])
            #expect(listing.json["items"].array.compactMap { $0["name"].string } == ["Kitenge Shirt"])
            #expect(inPhones.json["items"] == [])
            expectProblem(detail, 404, "not_found")
            expectProblem(reviews, 404, "not_found")
            let lines = cart.json["groups"][0]["lines"].array
            #expect(lines.first { $0["product_id"].string == phone }?["is_available"] == false)
            #expect(lines.first { $0["product_id"].string == shirt }?["is_available"] == true)
            expectProblem(refused, 409, "out_of_stock")
            #expect(refused.json["products"] == [["product_id": .string(phone), "available": 0]])
            expectProblem(newProduct, 422, "validation_failed")
            #expect(newProduct.json["errors"][0]["field"] == "category_id")

            // Act and check: reactivated, everything is back and the order goes through.
            let reactivated = try await http.patchCategory(electronics, ["is_active": true], admin: cast.admin)
            #expect(reactivated.json["is_listed"] == true)
            #expect(try await http.send(.get, "/api/v1/products").json["items"].array.count == 3)
            #expect(try await http.send(.get, "/api/v1/products/\(phone)").status == 200)
            let placed = try await http.send(.post, "/api/v1/orders", json: checkout, token: cast.customer, headers: ["Idempotency-Key": "k-2"])
            #expect(placed.status == 201, "\(placed.text)")
        }
    }

    @Test func onlyAnEmptyCategoryIsDeleted() async throws {
        try await TestApp.run { http, services in
            // Setup: a category with a product, one with a child, and an empty one.
            let cast = try await Cast.make(http, services)
            let stocked = try await http.category("Electronics", slug: "electronics", admin: cast.admin)
            try await http.product("Solar Lantern", category: stocked, merchant: cast.merchant)
            let parent = try await http.category("Home", slug: "home", admin: cast.admin)
            try await http.category("Kitchen", slug: "kitchen", parent: parent, admin: cast.admin)
            let typo = try await http.category("Fashon", slug: "fashon", admin: cast.admin)

            // Act
            let withProducts = try await http.send(.delete, "/api/v1/admin/categories/\(stocked)", token: cast.admin)
            let withChild = try await http.send(.delete, "/api/v1/admin/categories/\(parent)", token: cast.admin)
            let byCustomer = try await http.send(.delete, "/api/v1/admin/categories/\(typo)", token: cast.customer)
            let deleted = try await http.send(.delete, "/api/v1/admin/categories/\(typo)", token: cast.admin)
            let again = try await http.send(.delete, "/api/v1/admin/categories/\(typo)", token: cast.admin)

            // Check
            expectProblem(withProducts, 409, "category_in_use")
            expectProblem(withChild, 409, "category_in_use")
            expectProblem(byCustomer, 403, "forbidden")
            #expect(deleted.status == 204)
            expectProblem(again, 404, "not_found")
            let slugs = try await http.send(.get, "/api/v1/admin/categories", token: cast.admin).json["items"].array.compactMap { $0["slug"].string }
            #expect(slugs == ["kitchen", "home", "electronics"])
        }
    }
}
