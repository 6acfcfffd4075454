import Foundation
import HTTPTypes
import Orders
import Server
import TestSupport
import Testing

/// The service, with the marketplace of `World` loaded into its database.
func withMarketplace(_ body: @escaping @Sendable (HTTPClient, World) async throws -> Void) async throws {
    try await TestApp.run { http, services in
        try await body(http, try await World.make(services))
    }
}

@Suite struct OrderHTTPTests {
    @Test func checkoutReplayAndReadsOverHTTP() async throws {
        try await withMarketplace { http, world in
            // Setup
            for merchant in 0..<3 { try await world.put(world.products[merchant][0], 1) }
            let token = try await world.token(world.customer)
            let body: JSON = ["address_id": .string(world.address.uuidString), "payment_method": "cod"]

            // Act
            let created = try await http.send(.post, "/api/v1/orders", json: body, token: token, headers: ["Idempotency-Key": "k-1"])
            let replay = try await http.send(.post, "/api/v1/orders", json: body, token: token, headers: ["Idempotency-Key": "k-1"])
            let noKey = try await http.send(.post, "/api/v1/orders", json: body, token: token)
            let id = created.json["id"].string!
            let read = try await http.send(.get, "/api/v1/orders/\(id)", token: token)
            let list = try await http.send(.get, "/api/v1/orders", token: token)

            // Check
            #expect(created.status == 201, "\(created.text)")
            let order = created.json
            #expect(order.keys.isSuperset(of: [
                "id", "number", "status", "payment_method", "payment_state", "items_total_cents", "delivery_fee_cents", "total_cents",
                "amount_paid_cents", "amount_refunded_cents", "address", "created_at", "sub_orders", "payments", "refunds", "timeline",
            ]))
            #expect(order["status"].string == "placed")
            #expect(order["payment_state"].string == "cod_due")
            #expect(order["total_cents"].int == 12_300 + 36_900 + 99_900 + 50_000)
            #expect(order["address"]["zone"]["id"].string == world.zone.uuidString.lowercased())
            #expect(order["sub_orders"].array.count == 3)
            #expect(order["sub_orders"].array.allSatisfy { $0["handover_code"].string?.count == 6 })
            #expect(order["sub_orders"].array.allSatisfy { $0["commission_cents"].isNull && $0["merchant_payout_cents"].isNull })
            #expect(order["sub_orders"][0]["items"][0].keys == [
                "id", "product_id", "name", "unit_price_cents", "quantity", "line_total_cents", "refunded_quantity",
            ])
            #expect(order["timeline"].array.map { $0["to_status"].string } == ["placed", "placed", "placed"])
            #expect(replay.status == 200)
            #expect(replay.json["id"].string == id)
            #expect(replay.json["sub_orders"].array.allSatisfy { $0["handover_code"].isNull })
            #expect(noKey.status == 400)
            #expect(noKey.json["code"].string == "malformed_request")
            #expect(read.json["number"] == order["number"])
            #expect(read.json["sub_orders"][0]["handover_code"].isNull)
            #expect(list.json["items"].array.map { $0["id"].string } == [id])
        }
    }

    @Test func ordersAreVisibleOnlyToTheirCustomerAndSubOrdersToTheirMerchant() async throws {
        try await withMarketplace { http, world in
            // Setup
            try await world.put(world.products[0][0], 1)
            try await world.put(world.products[1][0], 1)
            let order = try await world.checkout().order
            let stranger = try await world.token(try await World.makeUser(world.services, email: "stranger@example.com"))
            let merchant0 = try await world.token(world.merchantUsers[0])
            let merchant1 = try await world.token(world.merchantUsers[1])
            let theirs = order.subOrders.first { $0.merchantID == world.merchants[1] }!

            // Act and check
            expectProblem(try await http.send(.get, "/api/v1/orders/\(order.id)", token: stranger), 404, "not_found")
            expectProblem(try await http.send(.post, "/api/v1/orders/\(order.id)/cancel", token: stranger), 404, "not_found")
            expectProblem(try await http.send(.post, "/api/v1/orders/\(order.id)/handover-codes", token: stranger), 404, "not_found")
            expectProblem(try await http.send(.post, "/api/v1/merchant/orders/\(theirs.id)/accept", token: merchant0), 404, "not_found")
            expectProblem(
                try await http.send(.post, "/api/v1/merchant/orders/\(theirs.id)/reject", json: ["reason": "x"], token: merchant0), 404,
                "not_found")
            expectProblem(try await http.send(.get, "/api/v1/merchant/orders", token: stranger), 403, "forbidden")

            let own = try await http.send(.get, "/api/v1/merchant/orders?status=placed", token: merchant1).json
            #expect(own["items"].array.map { $0["id"].string } == [theirs.id.uuidString.lowercased()])
            #expect(own["items"][0]["commission_cents"].int == Int(theirs.commissionCents))
            #expect(own["items"][0]["order_number"].string == order.number)

            let accepted = try await http.send(.post, "/api/v1/merchant/orders/\(theirs.id)/accept", token: merchant1)
            #expect(accepted.json["status"].string == "accepted")
            let again = try await http.send(.post, "/api/v1/merchant/orders/\(theirs.id)/accept", token: merchant1)
            expectProblem(again, 409, "invalid_transition")
            #expect(again.json["current_status"].string == "accepted")
            #expect(try await http.send(.get, "/api/v1/merchant/orders?status=placed", token: merchant1).json["items"].array.isEmpty)
        }
    }

    @Test func adminsSearchAndCancel() async throws {
        try await withMarketplace { http, world in
            try await world.put(world.products[0][0], 1)
            let first = try await world.checkout().order
            try await world.put(world.products[2][0], 1)
            let second = try await world.checkout(method: .mpesa).order
            let adminUser = try await World.makeUser(world.services, email: "admin@example.com", role: "admin")
            let admin = try await world.token(adminUser)
            let customer = try await world.token(world.customer)

            let byNumber = try await http.send(.get, "/api/v1/admin/orders?number=\(second.subOrders[0].number)", token: admin).json
            let byMerchant = try await http.send(.get, "/api/v1/admin/orders?merchant_id=\(world.merchants[0])", token: admin).json
            let byStatus = try await http.send(.get, "/api/v1/admin/orders?status=awaiting_payment", token: admin).json
            let today = try await http.send(.get, "/api/v1/admin/orders?from=2000-01-01&to=2999-12-31&limit=1", token: admin).json
            let badDate = try await http.send(.get, "/api/v1/admin/orders?from=2026-13-45", token: admin)
            let forbidden = try await http.send(.get, "/api/v1/admin/orders", token: customer)

            #expect(byNumber["items"].array.map { $0["id"].string } == [second.id.uuidString.lowercased()])
            #expect(byMerchant["items"].array.map { $0["id"].string } == [first.id.uuidString.lowercased()])
            #expect(byMerchant["items"][0]["sub_orders"][0]["commission_cents"].int == Int(first.subOrders[0].commissionCents))
            #expect(byStatus["items"].array.map { $0["id"].string } == [second.id.uuidString.lowercased()])
            #expect(today["items"].array.count == 1)
            #expect(today["next_cursor"].string != nil)
            expectProblem(badDate, 422, "validation_failed")
            expectProblem(forbidden, 403, "forbidden")

            let cancelled = try await http.send(
                .post, "/api/v1/admin/sub-orders/\(first.subOrders[0].id)/cancel", json: ["reason": "duplicate order"], token: admin)
            #expect(cancelled.json["status"].string == "cancelled")
            #expect(cancelled.json["cancel_reason"].string == "admin")
            #expect(try await world.stock(world.products[0][0]) == 20)
        }
    }

    @Test func fiftyRacingCheckoutsSellExactlyTheStock() async throws {
        try await withMarketplace { http, world in
            // Setup: a product with 10 units; 50 customers each with one in the cart.
            let product = world.products[1][0]
            _ = try await world.database.query("UPDATE products SET stock = 10 WHERE id = \(product)")
            var tokens: [(String, UUID)] = []
            for index in 0..<50 {
                let user = try await World.makeUser(world.services, email: "racer\(index)@example.com")
                let address = try await World.addAddress(world.services, user: user, zone: world.zone)
                try await world.put(product, 1, for: user)
                tokens.append((try await world.token(user), address))
            }

            // Act: all at once, each on its own connection.
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for (token, address) in tokens {
                    group.addTask {
                        try await http.withOwnConnection { client in
                            let reply = try await client.send(
                                .post, "/api/v1/orders", json: ["address_id": .string(address.uuidString), "payment_method": "cod"],
                                token: token, headers: ["Idempotency-Key": UUID().uuidString])
                            return (reply.status, reply.json["code"].string)
                        }
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }

            // Check
            #expect(statuses.filter { $0.0 == 201 }.count == 10)
            #expect(statuses.filter { $0.0 == 409 && $0.1 == "out_of_stock" }.count == 40)
            #expect(statuses.allSatisfy { $0.0 < 500 })
            let sold = try await world.database.query("SELECT coalesce(sum(quantity), 0) FROM order_items WHERE product_id = \(product)")[0]
                .decode(Int.self)
            #expect(sold == 10)
            #expect(try await world.stock(product) == 0)
            #expect(try await world.count("orders") == 10)
        }
    }

    @Test func cartsTakingTheSameProductsInOppositeOrderNeverDeadlock() async throws {
        try await withMarketplace { http, world in
            // Setup: 30 customers; half put X then Y in their carts, half Y then X.
            let (x, y) = (world.products[0][0], world.products[1][0])
            _ = try await world.database.query("UPDATE products SET stock = 1000 WHERE id = ANY(\([x, y]))")
            var buyers: [(String, UUID)] = []
            for index in 0..<30 {
                let user = try await World.makeUser(world.services, email: "buyer\(index)@example.com")
                let address = try await World.addAddress(world.services, user: user, zone: world.zone)
                for product in index.isMultiple(of: 2) ? [x, y] : [y, x] { try await world.put(product, 2, for: user) }
                buyers.append((try await world.token(user), address))
            }

            // Act
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for (token, address) in buyers {
                    group.addTask {
                        try await http.withOwnConnection { client in
                            try await client.send(
                                .post, "/api/v1/orders", json: ["address_id": .string(address.uuidString), "payment_method": "mpesa"],
                                token: token, headers: ["Idempotency-Key": UUID().uuidString]
                            ).status
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }

            // Check
            #expect(statuses == Array(repeating: 201, count: 30))
            #expect(try await world.stock(x) == 1000 - 60)
            #expect(try await world.stock(y) == 1000 - 60)
            #expect(try await world.count("sub_orders") == 60)
        }
    }
}
