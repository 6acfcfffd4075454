import Foundation
import Server
import TestSupport
import Testing

@Suite struct CatalogHTTPTests {
    @Test func anyoneBrowsesCategoriesProductsAndDetails() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let electronics = try await services.category("Electronics")
            let phones = try await services.category("Phones", parent: electronics)
            let lantern = try await http.product(
                "Solar Lantern", category: electronics, priceCents: 150_000, stock: 7, merchant: cast.merchant, description: "A bright lamp")
            let phone = try await http.product("Android Phone", category: phones, priceCents: 1_200_000, merchant: cast.merchant)
            _ = try await services.database.query(
                "UPDATE products SET rating_total = 9, rating_count = 2 WHERE id = \(UUID(uuidString: phone["id"].string!)!)")

            // Act
            let tree = try await http.send(.get, "/api/v1/categories")
            let list = try await http.send(.get, "/api/v1/products")
            let detail = try await http.send(.get, "/api/v1/products/\(lantern["id"].string!)")
            let rated = try await http.send(.get, "/api/v1/products/\(phone["id"].string!)")

            // Check
            #expect(tree.status == 200)
            #expect(
                tree.json == [
                    "items": [
                        [
                            "id": .string(electronics), "name": "Electronics", "slug": "electronics",
                            "children": [["id": .string(phones), "name": "Phones", "slug": "phones", "children": []]],
                        ]
                    ]
                ])
            #expect(list.status == 200 && list.json.keys == ["items"])
            #expect(list.json["items"].array.map { $0["name"] } == ["Android Phone", "Solar Lantern"])
            #expect(detail.status == 200 && detail.json == lantern)
            #expect(detail.json.keys == productKeys)
            #expect(detail.json["merchant"] == ["id": .string(try await merchantID(http, cast.merchant)), "name": "Shop"])
            #expect(detail.json["category_id"].string == electronics && detail.json["description"] == "A bright lamp")
            #expect(detail.json["price_cents"] == 150_000 && detail.json["stock"] == 7 && detail.json["is_active"] == true)
            #expect(detail.json["image_urls"] == [] && detail.json["rating_count"].int == 0)
            #expect(rated.json.keys == productKeys.union(["rating_average"]))
            #expect(rated.json["rating_average"] == .number(4.5) && rated.json["rating_count"] == 2)
        }
    }

    @Test func listingFiltersCombine() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let other = try await http.merchant("Mitindo", cast: cast)
            let electronics = try await services.category("Electronics")
            let phones = try await services.category("Phones", parent: electronics)
            let fashion = try await services.category("Fashion")
            try await http.product("Solar Lantern", category: electronics, priceCents: 150_000, merchant: cast.merchant, description: "bright lamp")
            try await http.product("Android Phone", category: phones, priceCents: 1_200_000, merchant: cast.merchant)
            try await http.product("Phone Charger", category: electronics, priceCents: 50_000, merchant: cast.merchant)
            try await http.product("Kitenge Shirt", category: fashion, priceCents: 120_000, merchant: other)
            let otherID = try await merchantID(http, other)

            func names(_ query: String) async throws -> Set<String> {
                let reply = try await http.send(.get, "/api/v1/products?\(query)")
                #expect(reply.status == 200, "\(query): \(reply.text)")
                return Set(reply.json["items"].array.compactMap { $0["name"].string })
            }

            // Act and check
            #expect(try await names("q=phone") == ["Android Phone", "Phone Charger"])
            #expect(try await names("q=lamp") == ["Solar Lantern"])
            #expect(try await names("q=%22phone%20charger%22") == ["Phone Charger"])
            #expect(try await names("category_id=\(electronics)") == ["Solar Lantern", "Android Phone", "Phone Charger"])
            #expect(try await names("category_id=\(phones)") == ["Android Phone"])
            #expect(try await names("merchant_id=\(otherID)") == ["Kitenge Shirt"])
            #expect(try await names("min_price_cents=100000&max_price_cents=150000") == ["Solar Lantern", "Kitenge Shirt"])
            #expect(try await names("q=phone&max_price_cents=100000&category_id=\(electronics)") == ["Phone Charger"])

            let badCategory = try await http.send(.get, "/api/v1/products?category_id=phones")
            expectProblem(badCategory, 422, "validation_failed")
            #expect(badCategory.json["errors"][0]["field"] == "category_id")
            let reversed = try await http.send(.get, "/api/v1/products?min_price_cents=500&max_price_cents=100")
            expectProblem(reversed, 422, "validation_failed")
            #expect(reversed.json["errors"][0]["field"] == "max_price_cents")
            expectProblem(try await http.send(.get, "/api/v1/products?limit=0"), 422, "validation_failed")
            expectProblem(try await http.send(.get, "/api/v1/products?sort=cheapest"), 400, "malformed_request")
        }
    }

    @Test(arguments: ["newest", "price_asc", "price_desc", "rating"])
    func cursorsPageThroughEverySort(sort: String) async throws {
        try await TestApp.run { http, services in
            // Setup: repeated prices and ratings, so runs of equal keys cross page boundaries.
            let cast = try await Cast.make(http, services)
            let category = try await services.category("General")
            for index in 0..<25 {
                let product = try await http.product(
                    "Product \(index)", category: category, priceCents: (index % 4 + 1) * 10_000, merchant: cast.merchant)
                _ = try await services.database.query(
                    "UPDATE products SET rating_total = \(index % 3 * 5), rating_count = \(index % 3) WHERE id = \(UUID(uuidString: product["id"].string!)!)")
            }

            // Act
            let everything = try await http.send(.get, "/api/v1/products?sort=\(sort)&limit=100").json
            let paged = try await http.allPages("/api/v1/products?sort=\(sort)&limit=4")

            // Check
            #expect(everything["items"].array.count == 25 && everything["next_cursor"].isNull)
            #expect(paged.items.map { $0["id"] } == everything["items"].array.map { $0["id"] })
            #expect(Set(paged.items.compactMap { $0["id"].string }).count == 25)
            #expect(paged.pages == 7)
            let prices = everything["items"].array.compactMap { $0["price_cents"].int }
            if sort == "price_asc" { #expect(prices == prices.sorted()) }
            if sort == "price_desc" { #expect(prices == prices.sorted(by: >)) }
            if sort == "rating" {
                let ratings = everything["items"].array.map { $0["rating_average"].double ?? 0 }
                #expect(ratings == ratings.sorted(by: >))
            }
        }
    }

    @Test func aCursorIsBoundToItsSort() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let category = try await services.category("General")
            for index in 0..<3 { try await http.product("Item \(index)", category: category, merchant: cast.merchant) }
            let cursor = try await http.send(.get, "/api/v1/products?sort=price_asc&limit=1").json["next_cursor"].string!

            // Act
            let crossed = try await http.send(.get, "/api/v1/products?sort=rating&limit=1&cursor=\(cursor)")
            let forged = try await http.send(.get, "/api/v1/products?cursor=forged")

            // Check
            expectProblem(crossed, 422, "invalid_cursor")
            #expect(crossed.json["errors"][0]["field"] == "cursor")
            expectProblem(forged, 422, "invalid_cursor")
        }
    }

    @Test func productsOffSaleAreHidden() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let category = try await services.category("General")
            let kept = try await http.product("Kept", category: category, merchant: cast.merchant)
            let withdrawn = try await http.product("Withdrawn", category: category, merchant: cast.merchant)
            let deleted = try await http.send(.delete, "/api/v1/merchant/products/\(withdrawn["id"].string!)", token: cast.merchant)

            // Act
            let list = try await http.send(.get, "/api/v1/products").json
            let detail = try await http.send(.get, "/api/v1/products/\(withdrawn["id"].string!)")
            let unknown = try await http.send(.get, "/api/v1/products/\(UUID().uuidString)")
            let notAnID = try await http.send(.get, "/api/v1/products/lantern")

            // Check
            #expect(deleted.status == 204)
            #expect(list["items"].array.map { $0["id"] } == [kept["id"]])
            expectProblem(detail, 404, "not_found")
            expectProblem(unknown, 404, "not_found")
            expectProblem(notAnID, 404, "not_found")
        }
    }

    @Test func aMerchantManagesTheirProductsAndStock() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let lighting = try await services.category("Lighting")

            // Act and check: create
            let created = try await http.send(
                .post, "/api/v1/merchant/products",
                json: [
                    "category_id": .string(lighting), "name": "Solar Lantern", "description": "Bright", "price_cents": 150_000,
                    "stock": 5, "image_urls": ["https://img.example.com/lantern.jpg"],
                ], token: cast.merchant)
            #expect(created.status == 201)
            #expect(created.json.keys == productKeys)
            #expect(created.json["name"] == "Solar Lantern" && created.json["price_cents"] == 150_000 && created.json["stock"] == 5)
            #expect(created.json["image_urls"] == ["https://img.example.com/lantern.jpg"] && created.json["is_active"] == true)
            let id = created.json["id"].string!
            let path = "/api/v1/merchant/products/\(id)"

            // update and adjust stock
            let updated = try await http.send(.patch, path, json: ["price_cents": 160_000, "stock_adjustment": -2], token: cast.merchant)
            #expect(updated.status == 200)
            #expect(updated.json["price_cents"] == 160_000 && updated.json["stock"] == 3 && updated.json["name"] == "Solar Lantern")
            let set = try await http.send(.patch, path, json: ["stock": 40], token: cast.merchant)
            #expect(set.json["stock"] == 40)
            let belowZero = try await http.send(.patch, path, json: ["stock_adjustment": -41], token: cast.merchant)
            expectProblem(belowZero, 409, "insufficient_stock")
            #expect(belowZero.json["available"] == 40)
            let both = try await http.send(.patch, path, json: ["stock": 1, "stock_adjustment": 1], token: cast.merchant)
            expectProblem(both, 422, "validation_failed")
            #expect(both.json["errors"][0]["field"] == "stock_adjustment")

            // deactivate: gone from the catalog, still in the merchant's own list
            #expect(try await http.send(.delete, path, token: cast.merchant).status == 204)
            expectProblem(try await http.send(.get, "/api/v1/products/\(id)"), 404, "not_found")
            let own = try await http.send(.get, "/api/v1/merchant/products", token: cast.merchant)
            #expect(own.status == 200)
            #expect(own.json["items"].array.map { $0["id"] } == [.string(id)])
            #expect(own.json["items"][0]["is_active"] == false && own.json["items"][0]["stock"] == 40)
            let reactivated = try await http.send(.patch, path, json: ["is_active": true], token: cast.merchant)
            #expect(reactivated.json["is_active"] == true)
            #expect(try await http.send(.get, "/api/v1/products/\(id)").status == 200)
        }
    }

    @Test func merchantRoutesEnforceRolesOwnershipAndRules() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let rival = try await http.merchant("Rival", cast: cast)
            let category = try await services.category("General")
            let product = try await http.product("Lantern", category: category, merchant: cast.merchant)
            let path = "/api/v1/merchant/products/\(product["id"].string!)"
            let valid: JSON = ["category_id": .string(category), "name": "Torch", "price_cents": 10_000, "stock": 1]

            // Act
            let anonymous = try await http.send(.post, "/api/v1/merchant/products", json: valid)
            let customer = try await http.send(.post, "/api/v1/merchant/products", json: valid, token: cast.customer)
            let rivalPatch = try await http.send(.patch, path, json: ["name": "Stolen"], token: rival)
            let rivalDelete = try await http.send(.delete, path, token: rival)
            let rivalList = try await http.send(.get, "/api/v1/merchant/products", token: rival)
            let oddCents = try await http.send(
                .post, "/api/v1/merchant/products",
                json: ["category_id": .string(category), "name": "Odd", "price_cents": 10_050, "stock": 1], token: cast.merchant)
            let badCategory = try await http.send(
                .post, "/api/v1/merchant/products",
                json: ["category_id": "lighting", "name": "Odd", "price_cents": 10_000, "stock": 1], token: cast.merchant)
            let duplicate = try await http.send(
                .post, "/api/v1/merchant/products",
                json: ["category_id": .string(category), "name": "LANTERN", "price_cents": 10_000, "stock": 1], token: cast.merchant)

            // Check
            expectProblem(anonymous, 401, "unauthorized")
            expectProblem(customer, 403, "forbidden")
            expectProblem(rivalPatch, 404, "not_found")
            expectProblem(rivalDelete, 404, "not_found")
            #expect(rivalList.json["items"] == [])
            expectProblem(oddCents, 422, "validation_failed")
            #expect(oddCents.json["errors"] == [["field": "price_cents", "message": "must be whole shillings (a multiple of 100 cents)"]])
            expectProblem(badCategory, 422, "validation_failed")
            #expect(badCategory.json["errors"][0]["field"] == "category_id")
            expectProblem(duplicate, 409, "product_name_taken")
            #expect(try await http.send(.get, "/api/v1/products/\(product["id"].string!)").json["name"] == "Lantern")
        }
    }
}

/// The merchant id of a merchant's access token.
func merchantID(_ http: HTTPClient, _ token: String) async throws -> String {
    try await http.send(.get, "/api/v1/auth/me", token: token).json["merchant"]["id"].string!
}
