import Foundation
import Logging
import Orders
import PostgresNIO
import Server
import TestSupport
import Testing

/// Refunds over real HTTP, paid out by the Daraja simulator's B2C (SPEC section 8): customers
/// ask, admins decide, the job queue pays, the result callback settles.
@Suite struct RefundHTTPTests {
    @Test func aRequestApprovedIsPaidOutByB2C() async throws {
        try await PaymentHarness.run { harness in
            // Setup: a cash order delivered, its cash collected.
            let (order, parcel) = try await harness.deliveredOrder(method: .cod, quantity: 2)
            let item = parcel.items[0]

            // Act
            let requested = try await harness.requestRefund(parcel, item: item, quantity: 1, reason: "damaged")
            let approved = try await harness.http.send(
                .post, "/api/v1/admin/refunds/\(requested.json["id"].string ?? "")/approve",
                json: ["restock": true, "note": "Photo shows the crack"], token: try await harness.adminToken())
            let paying = try await harness.runJobsAndRefund(requested)
            let delivered = await harness.releasePayout(of: requested)
            let paid = try await harness.refund(requested)

            // Check
            #expect(requested.status == 201, "\(requested.text)")
            #expect(requested.json["status"].string == "requested")
            #expect(requested.json["amount_cents"].int == Int(item.unitPriceCents))
            #expect(approved.status == 200, "\(approved.text)")
            #expect(approved.json["status"].string == "approved")
            #expect(paying["status"].string == "paying")
            #expect(delivered.first?.status == 200)
            #expect(paid["status"].string == "paid")
            #expect(paid["mpesa_receipt"].string?.isEmpty == false)
            #expect(paid["history"].array.compactMap { $0["to_status"].string } == ["requested", "approved", "paying", "paid"])
            #expect(paid["history"].array.compactMap { $0["actor_role"].string } == ["customer", "admin", "system", "system"])
            #expect(try await harness.world.stock(item.productID) == 20 - 2 + 1)
            let view = try await harness.order(order)
            #expect(view["amount_refunded_cents"].int == Int(item.unitPriceCents))
            #expect(view["payment_state"].string == "partially_refunded")
            #expect(view["refunds"][0]["id"] == requested.json["id"])
            #expect(view["sub_orders"][0]["items"][0]["refunded_quantity"].int == 1)
            let kinds = try await harness.notificationKinds()
            #expect(kinds.contains("refund_approved") && kinds.contains("refund_paid"))
            #expect(try await harness.services.audit.run().isEmpty)
        }
    }

    @Test func aDeniedRequestPaysNothingAndMayBeAskedAgain() async throws {
        try await PaymentHarness.run { harness in
            let (_, parcel) = try await harness.deliveredOrder(method: .mpesa, quantity: 1)

            let requested = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "not_as_described")
            let again = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "other")
            let denied = try await harness.http.send(
                .post, "/api/v1/admin/refunds/\(requested.json["id"].string ?? "")/deny", json: ["note": "It matches the listing"],
                token: try await harness.adminToken())
            let afterDenial = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "other")

            #expect(again.status == 409 && again.json["code"].string == "refund_already_open")
            #expect(denied.json["status"].string == "denied")
            #expect(denied.json["history"].array.last?["note"].string == "It matches the listing")
            #expect(afterDenial.status == 201)
            #expect(try await harness.world.count("jobs WHERE kind = 'pay-refund'") == 0)
            #expect(try await harness.notificationKinds().contains("refund_denied"))
        }
    }

    @Test func aFailedPayoutIsRetriedUnderANewOriginatorConversationID() async throws {
        try await PaymentHarness.run { harness in
            // Setup: paid from a phone whose B2C payouts fail (ending 09).
            let (_, parcel) = try await harness.deliveredOrder(method: .mpesa, quantity: 1, phone: "0712345609")
            let requested = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "damaged")
            _ = try await harness.http.send(
                .post, "/api/v1/admin/refunds/\(requested.json["id"].string ?? "")/approve", json: [:], token: try await harness.adminToken())
            _ = try await harness.runJobsAndRefund(requested)
            let firstID = try await harness.originator(of: requested)
            await harness.releasePayout(of: requested)
            let failed = try await harness.refund(requested)

            // Act: the customer's M-Pesa is fixed; an admin retries.
            await harness.simulator.state.setPayoutOutcome(.success, forPhone: "254712345609")
            let retried = try await harness.http.send(
                .post, "/api/v1/admin/refunds/\(requested.json["id"].string ?? "")/retry-payout", token: try await harness.adminToken())
            _ = try await harness.runJobsAndRefund(requested)
            let secondID = try await harness.originator(of: requested)
            await harness.releasePayout(of: requested)
            let paid = try await harness.refund(requested)

            // Check
            #expect(failed["status"].string == "failed")
            #expect(failed["failure_reason"].string?.hasPrefix("2001") == true)
            #expect(retried.json["status"].string == "paying", "\(retried.text)")
            #expect(firstID != secondID)
            #expect(paid["status"].string == "paid")
            #expect(paid["history"].array.compactMap { $0["to_status"].string } == ["requested", "approved", "paying", "failed", "paying", "paid"])
            #expect(await harness.simulator.state.payoutCount == 2)
        }
    }

    @Test func aDuplicateResultAndARepeatedRequestPayOnce() async throws {
        try await PaymentHarness.run { harness in
            let (_, parcel) = try await harness.deliveredOrder(method: .cod, quantity: 1)
            let requested = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "wrong_item")
            _ = try await harness.http.send(
                .post, "/api/v1/admin/refunds/\(requested.json["id"].string ?? "")/approve", json: [:], token: try await harness.adminToken())
            _ = try await harness.runJobsAndRefund(requested)

            // Act: the payout is sent again (a restart before the answer was stored), then the
            // result comes, then comes again.
            let id = try #require(UUID(uuidString: requested.json["id"].string ?? ""))
            try await harness.services.payouts.payOut(id)
            let results = await harness.releasePayout(of: requested)
            let paid = try await harness.refund(requested)
            let secret = harness.services.config.mpesa.callbackSecret.revealed
            let duplicate = try await harness.http.send(
                .post, "/api/v1/payments/mpesa/b2c/result/\(secret)", rawBody: results.first?.body ?? "")
            let after = try await harness.refund(requested)
            let forged = try await harness.http.send(.post, "/api/v1/payments/mpesa/b2c/result/not-the-secret", rawBody: results.first?.body ?? "")

            // Check
            #expect(await harness.simulator.state.payoutCount == 1)
            #expect(paid["status"].string == "paid")
            #expect(duplicate.status == 200)
            #expect(after["mpesa_receipt"] == paid["mpesa_receipt"])
            #expect(after["history"].array.count == paid["history"].array.count)
            #expect(try await harness.notificationKinds().filter { $0 == "refund_paid" }.count == 1)
            #expect(forged.status == 404)
        }
    }

    @Test func aQueueTimeoutIsNotAFailure() async throws {
        try await PaymentHarness.run { harness in
            let (_, parcel) = try await harness.deliveredOrder(method: .cod, quantity: 1)
            let requested = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "damaged")
            _ = try await harness.http.send(
                .post, "/api/v1/admin/refunds/\(requested.json["id"].string ?? "")/approve", json: [:], token: try await harness.adminToken())
            _ = try await harness.runJobsAndRefund(requested)
            let originator = try await harness.originator(of: requested)
            let secret = harness.services.config.mpesa.callbackSecret.revealed

            let timeout = try await harness.http.send(
                .post, "/api/v1/payments/mpesa/b2c/timeout/\(secret)",
                rawBody: #"{"Result":{"ResultType":1,"ResultCode":1,"ResultDesc":"The service request timed out.","OriginatorConversationID":"\#(originator)","ConversationID":"AG_1"}}"#)
            let after = try await harness.refund(requested)

            #expect(timeout.status == 200, "\(timeout.text)")
            #expect(after["status"].string == "paying")
            #expect(after["history"].array.last?["note"].string?.contains("checking again") == true)
            let rows = try await harness.world.database.query(
                "SELECT run_at > \(harness.clock.effects.now()) FROM jobs WHERE kind = 'pay-refund' AND finished_at IS NULL")
            #expect(try rows.map { try $0.decode(Bool.self) } == [true])
        }
    }

    @Test func twoAdminsApprovingAtOnceNeverRefundMoreThanWasPaid() async throws {
        try await PaymentHarness.run { harness in
            // Setup: two requests on one paid parcel, each for 70% of it (as a support tool or an
            // older version could leave them), and one more admin.
            let (_, parcel) = try await harness.deliveredOrder(method: .mpesa, quantity: 1)
            let share = (parcel.totalCents * 7 / 10) / 100 * 100
            let ids = [UUID(), UUID()]
            for id in ids {
                try await harness.world.database.query(
                    """
                    INSERT INTO refunds (id, sub_order_id, order_id, status, reason, amount_cents, automatic, payee_phone)
                    VALUES (\(id), \(parcel.id), \(parcel.orderID), 'requested', 'damaged', \(share), false, '254712345600')
                    """)
            }
            let admins = [try await harness.adminToken(), try await harness.adminToken(email: "second.admin@example.com")]

            let database = harness.world.database
            let logger = database.logger

            // Act: the sub-order is held while both approvals start, so both wait on it and their
            // statements begin before either has approved anything.
            let replies = try await database.withConnection { holder in
                try await holder.exec("BEGIN", logger: logger)
                try await holder.exec("SELECT 1 FROM sub_orders WHERE id = \(parcel.id) FOR UPDATE", logger: logger)
                return try await withThrowingTaskGroup(of: Reply.self) { group in
                    for (id, admin) in zip(ids, admins) {
                        group.addTask {
                            try await harness.http.withOwnConnection { client in
                                try await client.send(.post, "/api/v1/admin/refunds/\(id)/approve", json: [:], token: admin)
                            }
                        }
                    }
                    var waiting = 0
                    for _ in 0..<100_000 where waiting < 2 {
                        waiting = try await database.query(
                            """
                            SELECT count(*)::int FROM pg_stat_activity
                            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%sub_orders%'
                            """)[0].decode(Int.self)
                    }
                    try await holder.exec("COMMIT", logger: logger)
                    return try await group.reduce(into: [Reply]()) { $0.append($1) }
                }
            }
            let sameTwice = try await harness.http.send(.post, "/api/v1/admin/refunds/\(ids[0])/approve", json: [:], token: admins[1])

            // Check
            #expect(replies.map(\.status).sorted() == [200, 409])
            #expect(replies.first { $0.status == 409 }?.json["code"].string == "refund_exceeds_paid")
            #expect(sameTwice.status == 409)
            #expect(try await harness.services.audit.run().isEmpty)
        }
    }

    @Test func customersRefundOnlyTheirOwnDeliveredItemsAndNoMoreThanBought() async throws {
        try await PaymentHarness.run { harness in
            // Setup: a delivered parcel of two units; an undelivered paid one; a stranger.
            let (_, parcel) = try await harness.deliveredOrder(method: .mpesa, quantity: 2)
            try await harness.world.put(harness.world.products[0][1], 1)
            let placed = try await harness.world.checkout(method: .cod).order.subOrders[0]
            let stranger = try await World.makeUser(harness.services, email: "stranger@example.com")
            let strangerToken = try await harness.world.token(stranger)

            // Act
            let tooMany = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 3, reason: "damaged")
            let notYours = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "damaged", token: strangerToken)
            let notDelivered = try await harness.requestRefund(placed, item: placed.items[0], quantity: 1, reason: "damaged")
            let foreignItem = try await harness.requestRefund(parcel, item: placed.items[0], quantity: 1, reason: "damaged")
            let notWhole = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "not_delivered")

            // Check
            #expect(tooMany.status == 422 && tooMany.json["errors"][0]["field"].string == "items.0.quantity")
            #expect(notYours.status == 404)
            #expect(notDelivered.status == 409 && notDelivered.json["code"].string == "refund_not_allowed")
            #expect(foreignItem.status == 422 && foreignItem.json["errors"][0]["field"].string == "items.0.order_item_id")
            #expect(notWhole.status == 422)
            #expect(try await harness.world.count("refunds") == 0)
        }
    }

    @Test func anUndeliveredParcelIsRefundedWholeWithItsFeeShare() async throws {
        try await PaymentHarness.run { harness in
            // Setup: paid, at the destination hub, never delivered.
            let parcel = try await harness.paidParcel(forcedTo: .atDestinationHub)

            let requested = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "not_delivered")

            #expect(requested.status == 201, "\(requested.text)")
            #expect(requested.json["amount_cents"].int == Int(parcel.totalCents))
        }
    }
}

extension RefundHTTPTests {
    /// Found by a compiler warning: the `where` bound only the second status of its case, so a
    /// parcel out for delivery took a refund request for any reason.
    @Test func aParcelOnItsWayIsRefundedOnlyAsNotDelivered() async throws {
        try await PaymentHarness.run { harness in
            // Setup: paid, out for delivery.
            let parcel = try await harness.paidParcel(forcedTo: .outForDelivery)

            // Act
            let damaged = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "damaged")
            let notDelivered = try await harness.requestRefund(parcel, item: parcel.items[0], quantity: 1, reason: "not_delivered")

            // Check
            #expect(damaged.status == 409 && damaged.json["code"].string == "refund_not_allowed")
            #expect(notDelivered.status == 201, "\(notDelivered.text)")
            #expect(notDelivered.json["amount_cents"].int == Int(parcel.totalCents))
        }
    }
}

extension PaymentHarness {
    /// An order of one product of the NBO merchant, paid (by M-Pesa from `phone`, or in cash at
    /// the door) and delivered.
    func deliveredOrder(method: PaymentMethod, quantity: Int, phone: String = "0712345600") async throws -> (Order, SubOrder) {
        try await world.put(world.products[0][0], quantity)
        let order = try await world.checkout(method: method).order
        if method == .mpesa {
            let push = try await push(order, phone: phone)
            await release(push)
        }
        try await world.deliver(order.subOrders[0], paymentMethod: method)
        return (order, order.subOrders[0])
    }

    /// The one parcel of an order paid by M-Pesa, moved straight to `status`.
    func paidParcel(forcedTo status: SubOrderStatus) async throws -> SubOrder {
        let order = try await mpesaOrder()
        await release(try await push(order, phone: "0712345600"))
        try await world.force(order.subOrders[0].id, to: status)
        return order.subOrders[0]
    }

    func requestRefund(_ parcel: SubOrder, item: OrderItem, quantity: Int, reason: String, token: String? = nil) async throws -> Reply {
        let customer = try await world.token(world.customer)
        return try await http.send(
            .post, "/api/v1/refunds",
            json: [
                "sub_order_id": .string(parcel.id.uuidString),
                "items": [["order_item_id": .string(item.id.uuidString), "quantity": .number(Double(quantity))]],
                "reason": .string(reason), "details": "It arrived broken", "evidence_urls": ["https://img.example.com/1.jpg"],
            ], token: token ?? customer)
    }

    func adminToken(email: String = "admin@example.com") async throws -> String {
        let rows = try await world.database.query("SELECT id FROM users WHERE email = \(email)")
        let existing = try rows.first?.decode(UUID.self)
        let id = if let existing { existing } else { try await World.makeUser(services, email: email, role: "admin") }
        return try await world.token(id)
    }

    /// Runs every job due (the payout among them) and returns the refund as it stands then.
    func runJobsAndRefund(_ requested: Reply) async throws -> JSON {
        let runner = BackgroundJobs(services: services, logger: Logger(label: "jobs")).runner
        while try await runner.runNext() {}
        return try await refund(requested)
    }

    func refund(_ requested: Reply) async throws -> JSON {
        try await http.send(.get, "/api/v1/refunds/\(requested.json["id"].string ?? "")", token: try await world.token(world.customer)).json
    }

    func originator(of requested: Reply) async throws -> String {
        let id = requested.json["id"].string ?? ""
        return try await world.database.query("SELECT originator_conversation_id FROM refunds WHERE id = \(id)::uuid")[0].decode(String.self)
    }

    @discardableResult
    func releasePayout(of requested: Reply) async -> [SimulatorDelivery] {
        guard let originator = try? await originator(of: requested) else { return [] }
        return await simulator.release(originatorConversationID: originator).map { SimulatorDelivery(body: $0.body, status: $0.status) }
    }

    func notificationKinds() async throws -> [String] {
        try await http.send(.get, "/api/v1/notifications?limit=100", token: try await world.token(world.customer)).json["items"].array
            .compactMap { $0["kind"].string }
    }
}

struct SimulatorDelivery {
    let body: String
    let status: Int?
}
