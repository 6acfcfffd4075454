import Foundation
import HTTPTypes
import Server
import TestSupport
import Testing

@Suite struct CartHTTPTests {
    @Test func aCustomerFillsChangesAndEmptiesTheCart() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let category = try await services.category("General")
            let lantern = try await http.product("Lantern", category: category, priceCents: 150_000, stock: 200, merchant: cast.merchant)
            let torch = try await http.product("Torch", category: category, priceCents: 20_000, stock: 5, merchant: cast.merchant)
            let lanternID = lantern["id"].string!
            let torchID = torch["id"].string!
            let shopID = try await merchantID(http, cast.merchant)

            // Act and check: an empty cart
            let empty = try await http.send(.get, "/api/v1/cart", token: cast.customer)
            #expect(empty.status == 200)
            #expect(empty.json["groups"] == [] && empty.json["items_total_cents"].int == 0 && empty.json["item_count"].int == 0)

            // add, then add again (merged)
            let added = try await http.cartAdd(lanternID, quantity: 2, token: cast.customer)
            #expect(added.status == 200)
            let merged = try await http.cartAdd(lanternID, quantity: 3, token: cast.customer)
            #expect(merged.json["groups"][0]["lines"][0]["quantity"] == 5)
            let withTorch = try await http.cartAdd(torchID, quantity: 2, token: cast.customer)
            #expect(
                withTorch.json == [
                    "groups": [
                        [
                            "merchant": ["id": .string(shopID), "name": "Shop"],
                            "lines": [
                                [
                                    "product_id": .string(lanternID), "name": "Lantern", "unit_price_cents": 150_000, "quantity": 5,
                                    "line_total_cents": 750_000, "stock": 200, "is_available": true,
                                ],
                                [
                                    "product_id": .string(torchID), "name": "Torch", "unit_price_cents": 20_000, "quantity": 2,
                                    "line_total_cents": 40_000, "stock": 5, "is_available": true,
                                ],
                            ],
                            "items_total_cents": 790_000,
                        ]
                    ],
                    "items_total_cents": 790_000, "item_count": 7,
                ])

            // the cap of 99 per line
            let overCap = try await http.cartAdd(lanternID, quantity: 95, token: cast.customer)
            expectProblem(overCap, 422, "validation_failed")
            #expect(overCap.json["errors"][0]["field"] == "quantity")

            // change a quantity
            let changed = try await http.send(.patch, "/api/v1/cart/items/\(torchID)", json: ["quantity": 4], token: cast.customer)
            #expect(changed.status == 200)
            #expect(changed.json["groups"][0]["lines"][1]["quantity"] == 4 && changed.json["item_count"] == 9)
            #expect(changed.json["items_total_cents"] == 830_000)
            let tooMany = try await http.send(.patch, "/api/v1/cart/items/\(torchID)", json: ["quantity": 6], token: cast.customer)
            expectProblem(tooMany, 409, "out_of_stock")
            let notInCart = try await http.send(.patch, "/api/v1/cart/items/\(UUID().uuidString)", json: ["quantity": 1], token: cast.customer)
            expectProblem(notInCart, 404, "not_found")

            // remove a line, then clear
            #expect(try await http.send(.delete, "/api/v1/cart/items/\(torchID)", token: cast.customer).status == 204)
            expectProblem(try await http.send(.delete, "/api/v1/cart/items/\(torchID)", token: cast.customer), 404, "not_found")
            let afterRemove = try await http.send(.get, "/api/v1/cart", token: cast.customer).json
            #expect(afterRemove["groups"][0]["lines"].array.map { $0["product_id"] } == [.string(lanternID)])
            #expect(try await http.send(.delete, "/api/v1/cart", token: cast.customer).status == 204)
            #expect(try await http.send(.get, "/api/v1/cart", token: cast.customer).json == empty.json)
        }
    }

    @Test func linesAreGroupedPerMerchant() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let other = try await http.merchant("Mitindo", cast: cast)
            let category = try await services.category("General")
            let lantern = try await http.product("Lantern", category: category, priceCents: 150_000, merchant: cast.merchant)
            let shirt = try await http.product("Shirt", category: category, priceCents: 120_000, merchant: other)
            let torch = try await http.product("Torch", category: category, priceCents: 20_000, merchant: cast.merchant)

            // Act
            _ = try await http.cartAdd(shirt["id"].string!, quantity: 2, token: cast.customer)
            _ = try await http.cartAdd(lantern["id"].string!, quantity: 1, token: cast.customer)
            let cart = try await http.cartAdd(torch["id"].string!, quantity: 3, token: cast.customer).json

            // Check: one group per merchant, in merchant-id order, with its own total.
            let shopGroup: JSON = [
                "merchant": ["id": .string(try await merchantID(http, cast.merchant)), "name": "Shop"],
                "items_total_cents": 210_000, "item_count": 4,
            ]
            let otherGroup: JSON = [
                "merchant": ["id": .string(try await merchantID(http, other)), "name": "Mitindo"],
                "items_total_cents": 240_000, "item_count": 2,
            ]
            let expected = [shopGroup, otherGroup].sorted { $0["merchant"]["id"].string! < $1["merchant"]["id"].string! }
            let groups = cart["groups"].array
            #expect(groups.map { $0["merchant"] } == expected.map { $0["merchant"] })
            #expect(groups.map { $0["items_total_cents"] } == expected.map { $0["items_total_cents"] })
            #expect(groups.map { $0["lines"].array.compactMap { $0["quantity"].int }.reduce(0, +) } == expected.compactMap { $0["item_count"].int })
            #expect(cart["items_total_cents"] == 450_000 && cart["item_count"] == 6)
        }
    }

    @Test func addingMoreThanTheStockIsOutOfStock() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let category = try await services.category("General")
            let scarce = try await http.product("Scarce", category: category, stock: 3, merchant: cast.merchant)
            let scarceID = scarce["id"].string!
            _ = try await http.cartAdd(scarceID, quantity: 2, token: cast.customer)

            // Act
            let reply = try await http.cartAdd(scarceID, quantity: 2, token: cast.customer)

            // Check
            expectProblem(reply, 409, "out_of_stock")
            #expect(reply.json["products"] == [["product_id": .string(scarceID), "available": 3]])
            #expect(try await http.send(.get, "/api/v1/cart", token: cast.customer).json["item_count"] == 2)
        }
    }

    @Test func racingAddsNeverTakeALinePastTheStock() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let category = try await services.category("General")
            let scarce = try await http.product("Scarce", category: category, stock: 5, merchant: cast.merchant)
            let scarceID = scarce["id"].string!

            // Act: twenty adds of one unit at once by the same customer.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await http.cartAdd(scarceID, quantity: 1, token: cast.customer).status } }
                return try await group.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
            }

            // Check: exactly the stock merged; the rest out of stock.
            #expect(statuses == [200: 5, 409: 15])
            #expect(try await http.send(.get, "/api/v1/cart", token: cast.customer).json["item_count"] == 5)
        }
    }

    @Test func productsThatCannotBeBoughtAreRefused() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let category = try await services.category("General")
            let own = try await http.product("Own", category: category, merchant: cast.merchant)
            let withdrawn = try await http.product("Withdrawn", category: category, merchant: cast.merchant)
            _ = try await http.send(.delete, "/api/v1/merchant/products/\(withdrawn["id"].string!)", token: cast.merchant)

            // Act
            let ownProduct = try await http.cartAdd(own["id"].string!, quantity: 1, token: cast.merchant)
            let inactive = try await http.cartAdd(withdrawn["id"].string!, quantity: 1, token: cast.customer)
            let unknown = try await http.cartAdd(UUID().uuidString, quantity: 1, token: cast.customer)
            let notAnID = try await http.cartAdd("lantern", quantity: 1, token: cast.customer)
            let zero = try await http.cartAdd(own["id"].string!, quantity: 0, token: cast.customer)
            let staff = try await http.cartAdd(own["id"].string!, quantity: 1, token: cast.staff)

            // Check
            expectProblem(ownProduct, 409, "own_product")
            for (reply, field) in [(inactive, "product_id"), (unknown, "product_id"), (notAnID, "product_id"), (zero, "quantity")] {
                expectProblem(reply, 422, "validation_failed")
                #expect(reply.json["errors"][0]["field"] == .string(field))
            }
            #expect(staff.status == 200, "any active user may shop: \(staff.text)")
        }
    }

    @Test func cartAndAddressesNeedASignedInUser() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let id = UUID().uuidString
            let requests: [(HTTPRequest.Method, String, JSON?)] = [
                (.get, "/api/v1/cart", nil), (.delete, "/api/v1/cart", nil),
                (.post, "/api/v1/cart/items", ["product_id": .string(id), "quantity": 1]),
                (.patch, "/api/v1/cart/items/\(id)", ["quantity": 1]), (.delete, "/api/v1/cart/items/\(id)", nil),
                (.get, "/api/v1/addresses", nil),
                (.post, "/api/v1/addresses", ["label": "Home", "zone_id": .string(cast.zoneID), "line1": "Street", "phone": "0712345678"]),
            ]

            for (method, path, body) in requests {
                // Act
                let reply = try await http.send(method, path, json: body)

                // Check
                expectProblem(reply, 401, "unauthorized")
            }
        }
    }

    @Test func addressesAreCreatedListedAndPrivate() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let other = try await http.register("other@example.com")["access_token"].string!

            // Act
            let created = try await http.send(
                .post, "/api/v1/addresses",
                json: ["label": "Home", "zone_id": .string(cast.zoneID), "line1": "Moi Avenue 12", "phone": "0712 345 678"],
                token: cast.customer)
            let mine = try await http.send(.get, "/api/v1/addresses", token: cast.customer)
            let theirs = try await http.send(.get, "/api/v1/addresses", token: other)

            // Check
            #expect(created.status == 201)
            #expect(created.json.keys == ["id", "label", "zone", "line1", "phone", "created_at"])
            #expect(created.json["label"] == "Home" && created.json["line1"] == "Moi Avenue 12" && created.json["phone"] == "254712345678")
            #expect(
                created.json["zone"] == [
                    "id": .string(cast.zoneID), "name": "Test Zone", "delivery_fee_cents": 20_000,
                    "hub": ["id": .string(cast.hubID), "code": "NBO-T1", "name": "Hub NBO-T1"],
                ])
            #expect(mine.status == 200 && mine.json == ["items": [created.json]])
            #expect(theirs.status == 200 && theirs.json == ["items": []])
        }
    }

    @Test func anAddressNeedsAnActiveZoneAndValidFields() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let closed = try await http.createZone("Closed Zone", hubID: cast.hubID, admin: cast.admin)["id"].string!
            _ = try await http.send(.patch, "/api/v1/admin/zones/\(closed)", json: ["is_active": false], token: cast.admin)
            func create(_ body: JSON) async throws -> Reply {
                try await http.send(.post, "/api/v1/addresses", json: body, token: cast.customer)
            }

            // Act
            let inactive = try await create(["label": "Home", "zone_id": .string(closed), "line1": "Street", "phone": "0712345678"])
            let unknown = try await create(["label": "Home", "zone_id": .string(UUID().uuidString), "line1": "Street", "phone": "0712345678"])
            let notAnID = try await create(["label": "Home", "zone_id": "westlands", "line1": "Street", "phone": "0712345678"])
            let invalid = try await create(["label": "", "zone_id": .string(cast.zoneID), "line1": "Street", "phone": "12345"])

            // Check
            for reply in [inactive, unknown, notAnID] {
                expectProblem(reply, 422, "validation_failed")
                #expect(reply.json["errors"][0]["field"] == "zone_id")
            }
            expectProblem(invalid, 422, "validation_failed")
            #expect(Set(invalid.json["errors"].array.compactMap { $0["field"].string }) == ["label", "phone"])
            #expect(try await http.send(.get, "/api/v1/addresses", token: cast.customer).json["items"] == [])
        }
    }
}
