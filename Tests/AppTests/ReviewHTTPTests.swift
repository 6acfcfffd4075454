import Foundation
import Orders
import PostgresNIO
import Server
import TestSupport
import Testing

extension HTTPClient {
    func review(_ item: UUID, rating: Int, title: String? = nil, body: String? = nil, token: String) async throws -> Reply {
        var json: [String: JSON] = ["order_item_id": .string(item.uuidString), "rating": .number(Double(rating))]
        if let title { json["title"] = .string(title) }
        if let body { json["body"] = .string(body) }
        return try await send(.post, "/api/v1/reviews", json: .object(json), token: token)
    }

    func hide(_ review: String, note: String, token: String) async throws -> Reply {
        try await send(.post, "/api/v1/admin/reviews/\(review)/hide", json: ["note": .string(note)], token: token)
    }

    /// Sends the requests at once, each on its own connection; the replies come in the order given.
    func concurrently(_ requests: [@Sendable (HTTPClient) async throws -> Reply]) async throws -> [Reply] {
        try await withThrowingTaskGroup(of: (Int, Reply).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask { (index, try await withOwnConnection(request)) }
            }
            var replies: [(Int, Reply)] = []
            for try await reply in group { replies.append(reply) }
            return replies.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

let reviewPublicKeys: Set<String> = [
    "id", "product_id", "product_name", "rating", "author_name", "created_at", "updated_at",
]

@Suite struct ReviewHTTPTests {
    @Test func aCustomerReviewsADeliveredItemOfTheirsOnce() async throws {
        try await withMarketplace { http, world in
            // Setup: Wanjiru's COD parcel and Otieno's M-Pesa parcel are delivered; Kamau's is still placed.
            let product = world.products[0][0]
            let wanjiru = try await world.reviewer("wanjiru", buys: product)
            _ = try await world.database.query("UPDATE users SET full_name = 'Wanjiru Akinyi Kamau' WHERE id = \(wanjiru.user)")
            let otieno = try await world.reviewer("otieno", buys: product, method: .mpesa)
            let kamau = try await world.reviewer("kamau", buys: product, delivered: false)

            // Act
            let undelivered = try await http.review(kamau.item, rating: 5, token: kamau.token)
            let foreign = try await http.review(kamau.item, rating: 1, token: wanjiru.token)
            let invalid = try await http.review(wanjiru.item, rating: 6, title: String(repeating: "a", count: 121), token: wanjiru.token)
            let anonymous = try await http.send(.post, "/api/v1/reviews", json: ["order_item_id": .string(wanjiru.item.uuidString), "rating": 4])
            let created = try await http.review(
                wanjiru.item, rating: 4, title: "  Bright and sturdy  ", body: "Lights the whole room.", token: wanjiru.token)
            let second = try await http.review(wanjiru.item, rating: 1, token: wanjiru.token)
            let prepaid = try await http.review(otieno.item, rating: 5, token: otieno.token)
            let detail = try await http.send(.get, "/api/v1/products/\(product)")
            let listed = try await http.send(.get, "/api/v1/products/\(product)/reviews")
            let mine = try await http.send(.get, "/api/v1/reviews", token: wanjiru.token)

            // Check: refusals
            expectProblem(undelivered, 409, "not_delivered")
            #expect(undelivered.json["current_status"] == "placed")
            expectProblem(foreign, 404, "not_found")
            expectProblem(invalid, 422, "validation_failed")
            #expect(Set(invalid.json["errors"].array.compactMap { $0["field"].string }) == ["rating", "title"])
            expectProblem(anonymous, 401, "unauthorized")
            expectProblem(second, 409, "already_reviewed")

            // the review as its author sees it
            #expect(created.status == 201, "\(created.text)")
            let review = created.json
            #expect(review.keys == reviewPublicKeys.union(["title", "body", "order_item_id", "editable_until"]))
            #expect(review["rating"] == 4 && review["title"] == "Bright and sturdy" && review["body"] == "Lights the whole room.")
            #expect(review["author_name"] == "Wanjiru K." && review["product_name"] == "Product 0-0")
            #expect(review["product_id"].string == product.uuidString.lowercased())
            #expect(review["order_item_id"].string == wanjiru.item.uuidString.lowercased())
            #expect(review["editable_until"].string != nil && review["reply"].isNull)
            #expect(prepaid.status == 201 && prepaid.json["rating"] == 5 && prepaid.json["title"].isNull)

            // the product's rating, the public listing (newest first, nothing private) and the author's own list
            #expect(detail.json["rating_count"] == 2 && detail.json["rating_average"] == .number(4.5))
            #expect(try await world.ratings(of: product).stored == [2, 9])
            #expect(listed.status == 200 && listed.json["next_cursor"].isNull)
            #expect(listed.json["items"].array.map { $0["id"] } == [prepaid.json["id"], review["id"]])
            #expect(listed.json["items"][1].keys == reviewPublicKeys.union(["title", "body"]))
            #expect(mine.json["items"].array.map { $0["id"] } == [review["id"]])
            #expect(mine.json["items"][0]["editable_until"] == review["editable_until"])
        }
    }

    @Test func ratingsStayExactUnderConcurrentReviewsEditsAndHides() async throws {
        try await withMarketplace { http, world in
            // Setup: 20 customers each hold a delivered unit of the same product (its whole stock).
            let product = world.products[0][0]
            var reviewers: [Reviewer] = []
            for index in 0..<20 { reviewers.append(try await world.reviewer("customer\(index)", buys: product)) }
            let admin = try await world.token(try await world.admin())
            let everyone = reviewers

            // Act: all 20 review at once, customer 0 twice at the same moment.
            let reviewing: [@Sendable (HTTPClient) async throws -> Reply] = everyone.enumerated().map { index, reviewer in
                { client in try await client.review(reviewer.item, rating: index % 5 + 1, token: reviewer.token) }
            }
            let created = try await http.concurrently(
                reviewing + [{ client in try await client.review(everyone[0].item, rating: 5, token: everyone[0].token) }])

            // Check: one review per item, counted once each.
            let written = created.filter { $0.status == 201 }
            #expect(written.count == 20)
            #expect(created.filter { $0.status == 409 }.map { $0.json["code"] } == ["already_reviewed"])
            let ratingsTotal = written.compactMap { $0.json["rating"].int }.reduce(0, +)
            var ratings = try await world.ratings(of: product)
            #expect(ratings.stored == [20, ratingsTotal] && ratings.recomputed == ratings.stored)
            let ids = try reviewers.map { reviewer in
                try #require(written.first { $0.json["order_item_id"].string == reviewer.item.uuidString.lowercased() }?.json["id"].string)
            }

            // Act: customers 0-9 change their ratings while an admin hides the reviews of customers 5-14.
            let edits: [@Sendable (HTTPClient) async throws -> Reply] = (0..<10).map { index in
                { client in
                    try await client.send(
                        .patch, "/api/v1/reviews/\(ids[index])", json: ["rating": .number(Double(5 - index % 5))], token: everyone[index].token)
                }
            }
            let hides: [@Sendable (HTTPClient) async throws -> Reply] = (5..<15).map { index in
                { client in try await client.hide(ids[index], note: "Off-topic", token: admin) }
            }
            let changed = try await http.concurrently(edits + hides)

            // Check: every edit either landed or met a hidden review; every hide landed; the sums are exact.
            #expect(changed.prefix(5).allSatisfy { $0.status == 200 })
            #expect(changed[5..<10].allSatisfy { $0.status == 200 || $0.json["code"] == "review_hidden" })
            #expect(changed.suffix(10).allSatisfy { $0.status == 200 && $0.json["hidden_note"] == "Off-topic" })
            ratings = try await world.ratings(of: product)
            #expect(ratings.stored[0] == 10 && ratings.recomputed == ratings.stored)
            let detail = try await http.send(.get, "/api/v1/products/\(product)").json
            #expect(detail["rating_count"].int == 10)
            #expect(detail["rating_average"].double == (Double(ratings.recomputed[1]) / 10 * 100).rounded() / 100)
        }
    }

    @Test func anEditAfterThirtyDaysIsRefused() async throws {
        let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000))  // 2027-01-15T08:00:00Z
        try await TestApp.run(effects: clock.effects) { http, services in
            // Setup: Amina reviewed her lantern; Baraka bought one too.
            let world = try await World.make(services)
            let product = world.products[0][0]
            let amina = try await world.reviewer("amina", buys: product)
            let baraka = try await world.reviewer("baraka", buys: product)
            let id = try #require(try await http.review(amina.item, rating: 2, title: "Too dim", token: amina.token).json["id"].string)

            // Act: an edit on day 29, another user's edit, and an edit once 30 days have passed.
            clock.advance(by: 29 * 86_400)
            let within = try await http.send(
                .patch, "/api/v1/reviews/\(id)", json: ["rating": 4, "title": "", "body": "Bright after a full day of sun."], token: amina.token)
            let foreign = try await http.send(.patch, "/api/v1/reviews/\(id)", json: ["rating": 1], token: baraka.token)
            clock.advance(by: 86_400)
            let late = try await http.send(.patch, "/api/v1/reviews/\(id)", json: ["rating": 5], token: amina.token)

            // Check
            #expect(within.status == 200, "\(within.text)")
            #expect(within.json["rating"] == 4 && within.json["title"].isNull && within.json["body"] == "Bright after a full day of sun.")
            #expect(within.json["created_at"] == "2027-01-15T08:00:00Z" && within.json["updated_at"] == "2027-02-13T08:00:00Z")
            #expect(within.json["editable_until"] == "2027-02-14T08:00:00Z")
            expectProblem(foreign, 404, "not_found")
            expectProblem(late, 409, "edit_window_closed")
            #expect(late.json["editable_until"] == "2027-02-14T08:00:00Z")
            let ratings = try await world.ratings(of: product)
            #expect(ratings.stored == [1, 4] && ratings.recomputed == ratings.stored)
        }
    }

    @Test func aHiddenReviewLeavesTheAverageAndItsAuthorIsTold() async throws {
        try await withMarketplace { http, world in
            // Setup: a five-star and a one-star review of one product.
            let product = world.products[0][0]
            let happy = try await world.reviewer("happy", buys: product)
            let angry = try await world.reviewer("angry", buys: product)
            let admin = try await world.token(try await world.admin())
            let merchant = try await world.token(world.merchantUsers[0])
            let kept = try await http.review(happy.item, rating: 5, token: happy.token).json["id"]
            let rude = try #require(try await http.review(angry.item, rating: 1, title: "Rubbish", token: angry.token).json["id"].string)
            #expect(try await http.send(.get, "/api/v1/products/\(product)").json["rating_average"] == 3)

            // Act
            let byCustomer = try await http.hide(rude, note: "Abusive", token: happy.token)
            let unnoted = try await http.hide(rude, note: "  ", token: admin)
            let hidden = try await http.hide(rude, note: "Abusive language", token: admin)
            let again = try await http.hide(rude, note: "Abusive language", token: admin)
            let unknown = try await http.hide(UUID().uuidString, note: "Abusive language", token: admin)
            let edit = try await http.send(.patch, "/api/v1/reviews/\(rude)", json: ["rating": 3], token: angry.token)

            // Check: refusals
            expectProblem(byCustomer, 403, "forbidden")
            expectProblem(unnoted, 422, "validation_failed")
            expectProblem(again, 409, "already_hidden")
            expectProblem(unknown, 404, "not_found")
            expectProblem(edit, 409, "review_hidden")

            // the review left the average and the lists; its author sees why and was told
            #expect(hidden.status == 200 && hidden.json["hidden_note"] == "Abusive language" && hidden.json["hidden_at"].string != nil)
            let detail = try await http.send(.get, "/api/v1/products/\(product)").json
            #expect(detail["rating_average"] == 5 && detail["rating_count"] == 1)
            #expect(try await world.ratings(of: product).stored == [1, 5])
            let listed = try await http.send(.get, "/api/v1/products/\(product)/reviews").json["items"].array
            #expect(listed.map { $0["id"] } == [kept])
            let merchantList = try await http.send(.get, "/api/v1/merchant/reviews", token: merchant).json["items"].array
            #expect(merchantList.map { $0["id"] } == [kept])
            let own = try await http.send(.get, "/api/v1/reviews", token: angry.token).json["items"][0]
            #expect(own["id"].string == rude && own["hidden_note"] == "Abusive language" && own["hidden_at"] == hidden.json["hidden_at"])
            let notices = try await http.send(.get, "/api/v1/notifications", token: angry.token).json["items"].array
            let notice = try #require(notices.first { $0["kind"] == "review_hidden" })
            #expect(notice["title"] == "Your review was hidden")
            #expect(notice["body"] == "A moderator hid your review of Product 0-0: Abusive language")
            #expect(notice["sub_order_id"].string == angry.subOrder.uuidString.lowercased())
        }
    }

    @Test func aMerchantRepliesOnceToReviewsOfItsOwnProducts() async throws {
        try await withMarketplace { http, world in
            // Setup: a review of merchant 0's product.
            let reviewer = try await world.reviewer("wanjiru", buys: world.products[0][0])
            let own = try await world.token(world.merchantUsers[0])
            let other = try await world.token(world.merchantUsers[1])
            let id = try #require(try await http.review(reviewer.item, rating: 3, token: reviewer.token).json["id"].string)
            let reply = "/api/v1/merchant/reviews/\(id)/reply"

            // Act
            let unansweredBefore = try await http.send(.get, "/api/v1/merchant/reviews?unanswered=true", token: own).json
            let first = try await http.send(.post, reply, json: ["body": "Thank you!"], token: own)
            let replaced = try await http.send(.post, reply, json: ["body": "  Thank you, Wanjiru. Charge it fully first.  "], token: own)
            let byOther = try await http.send(.post, reply, json: ["body": "Buy ours instead"], token: other)
            let byCustomer = try await http.send(.post, reply, json: ["body": "Me too"], token: reviewer.token)
            let empty = try await http.send(.post, reply, json: ["body": " "], token: own)
            let unansweredAfter = try await http.send(.get, "/api/v1/merchant/reviews?unanswered=true", token: own).json
            let all = try await http.send(.get, "/api/v1/merchant/reviews", token: own).json
            let othersList = try await http.send(.get, "/api/v1/merchant/reviews", token: other).json
            let listed = try await http.send(.get, "/api/v1/products/\(world.products[0][0])/reviews").json

            // Check
            #expect(unansweredBefore["items"].array.map { $0["id"].string } == [id])
            #expect(first.status == 200 && first.json["reply"]["body"] == "Thank you!")
            #expect(first.json["order_item_id"].string == reviewer.item.uuidString.lowercased())
            #expect(replaced.json["reply"]["body"] == "Thank you, Wanjiru. Charge it fully first.")
            #expect(replaced.json["reply"]["created_at"] == first.json["reply"]["created_at"])
            expectProblem(byOther, 404, "not_found")
            expectProblem(byCustomer, 403, "forbidden")
            expectProblem(empty, 422, "validation_failed")
            #expect(unansweredAfter["items"] == [])
            #expect(all["items"].array.map { $0["reply"]["body"] } == ["Thank you, Wanjiru. Charge it fully first."])
            #expect(othersList["items"] == [])
            #expect(listed["items"][0]["reply"] == replaced.json["reply"])
            let notices = try await http.send(.get, "/api/v1/notifications", token: reviewer.token).json["items"].array
            #expect(notices.filter { $0["kind"] == "review_replied" }.map { $0["body"] } == [
                "Merchant 0 replied to your review of Product 0-0."
            ])
        }
    }

    @Test func productReviewsSortAndPageByKeyset() async throws {
        let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        try await TestApp.run(effects: clock.effects) { http, services in
            // Setup: seven reviews a minute apart; equal ratings are told apart by time.
            let world = try await World.make(services)
            let product = world.products[0][0]
            var written: [(id: String, rating: Int)] = []
            for (index, rating) in [3, 5, 1, 5, 3, 4, 5].enumerated() {
                let reviewer = try await world.reviewer("customer\(index)", buys: product)
                clock.advance(by: 60)
                let id = try #require(try await http.review(reviewer.item, rating: rating, token: reviewer.token).json["id"].string)
                written.append((id, rating))
            }
            let path = "/api/v1/products/\(product)/reviews?limit=2"

            // Act
            let newest = try await http.allPages(path)
            let highest = try await http.allPages(path + "&sort=highest")
            let lowest = try await http.allPages(path + "&sort=lowest")
            let firstHighest = try await http.send(.get, path + "&sort=highest").json
            let crossed = try await http.send(.get, path + "&sort=lowest&cursor=\(firstHighest["next_cursor"].string ?? "")")
            let unknownSort = try await http.send(.get, path + "&sort=best")
            let unknownProduct = try await http.send(.get, "/api/v1/products/\(UUID())/reviews")

            // Check
            let latestFirst = written.indices.reversed().map { (id: written[$0].id, rating: written[$0].rating, age: $0) }
            #expect(newest.pages == 4 && newest.items.compactMap { $0["id"].string } == latestFirst.map(\.id))
            let byHighest = latestFirst.sorted { ($0.rating, $0.age) > ($1.rating, $1.age) }
            let byLowest = latestFirst.sorted { ($0.rating, -$0.age) < ($1.rating, -$1.age) }
            #expect(highest.items.compactMap { $0["id"].string } == byHighest.map(\.id))
            #expect(lowest.items.compactMap { $0["id"].string } == byLowest.map(\.id))
            #expect(highest.items.compactMap { $0["rating"].int } == [5, 5, 5, 4, 3, 3, 1])
            expectProblem(crossed, 422, "invalid_cursor")
            #expect(crossed.json["errors"][0]["field"] == "cursor")
            expectProblem(unknownSort, 400, "malformed_request")
            expectProblem(unknownProduct, 404, "not_found")
        }
    }
}
