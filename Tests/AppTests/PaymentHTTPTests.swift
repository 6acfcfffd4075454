import Foundation
import Logging
import Orders
import Payments
import Server
import TestSupport
import Testing

@Suite struct PaymentHTTPTests {
    @Test func aSuccessfulPushPaysAndReleasesTheOrder() async throws {
        try await PaymentHarness.run { harness in
            // Setup
            let order = try await harness.mpesaOrder()

            // Act: the push is answered while M-Pesa still waits for the customer, who then pays.
            let push = try await harness.push(order, phone: "0712345600")
            let waiting = try await harness.order(order)
            let delivered = await harness.release(push)
            let payment = try await harness.payment(push)

            // Check
            #expect(push.status == 202, "\(push.text)")
            #expect(push.json["status"].string == "pending")
            #expect(push.json["checkout_request_id"].string?.isEmpty == false)
            #expect(waiting["status"].string == "awaiting_payment")
            #expect(waiting["payment_state"].string == "pending")
            #expect(delivered.map(\.status) == [200])
            #expect(payment["status"].string == "succeeded")
            #expect(payment["amount_cents"].int == Int(order.totalCents))
            #expect(payment["mpesa_receipt"].string?.isEmpty == false)
            #expect(payment["phone"].string == "254712345600")
            let paid = try await harness.order(order)
            #expect(paid["status"].string == "placed")
            #expect(paid["payment_state"].string == "paid")
            #expect(paid["amount_paid_cents"].int == Int(order.totalCents))
            #expect(paid["payments"].array.map { $0["status"].string } == ["succeeded"])
            #expect(paid["timeline"].array.last?["note"].string?.hasPrefix("Paid by M-Pesa") == true)
            let kinds = try await harness.http.send(.get, "/api/v1/notifications", token: try await harness.world.token(harness.world.customer))
                .json["items"].array.compactMap { $0["kind"].string }
            #expect(kinds.contains("order_paid"))
        }
    }

    @Test(arguments: [("01", "1032"), ("02", "1"), ("03", "2001"), ("06", "1037")])
    func aFailedPushLeavesTheOrderPayable(ending: String, resultCode: String) async throws {
        try await PaymentHarness.run { harness in
            let order = try await harness.mpesaOrder()

            let push = try await harness.push(order, phone: "07123456\(ending)")
            await harness.release(push)
            let payment = try await harness.payment(push)
            let unpaid = try await harness.order(order)
            let again = try await harness.push(order, phone: "0712345600")

            #expect(payment["status"].string == "failed")
            #expect(payment["result_code"].string == resultCode)
            #expect(unpaid["status"].string == "awaiting_payment")
            #expect(unpaid["payment_state"].string == "unpaid")
            #expect(again.status == 202)
        }
    }

    @Test func aDuplicateCallbackCreditsOnce() async throws {
        try await PaymentHarness.run { harness in
            let order = try await harness.mpesaOrder()
            let push = try await harness.push(order, phone: "0712345605")
            let first = await harness.release(push, deliveries: 1)
            let payment = try await harness.payment(push)
            let second = await harness.release(push)  // the same callback again

            #expect(payment["status"].string == "succeeded")
            #expect(first.map(\.status) == [200])
            #expect(second.map(\.status) == [200])
            #expect(first.map(\.body) == second.map(\.body))
            #expect(await harness.simulator.state.deliveredCallbacks.count == 2)
            let succeeded = try await harness.world.database.query("SELECT count(*) FROM payments WHERE status = 'succeeded'")
            #expect(try succeeded[0].decode(Int.self) == 1)
            #expect(try await harness.world.count("sub_order_events WHERE to_status = 'placed'") == 1)
            #expect(try await harness.world.count("refunds") == 0)
        }
    }

    @Test func aForgedCallbackIsNotFoundAndChangesNothing() async throws {
        try await PaymentHarness.run { harness in
            let order = try await harness.mpesaOrder()
            let push = try await harness.push(order, phone: "0712345604")  // no callback ever
            let checkout = push.json["checkout_request_id"].string!
            let forged: JSON = ["Body": ["stkCallback": [
                "MerchantRequestID": "x", "CheckoutRequestID": .string(checkout), "ResultCode": 0, "ResultDesc": "ok",
                "CallbackMetadata": ["Item": [["Name": "Amount", "Value": .number(Double(order.totalCents / 100))],
                                              ["Name": "MpesaReceiptNumber", "Value": "FORGED123"]]],
            ]]]

            let reply = try await harness.http.send(.post, "/api/v1/payments/mpesa/callback/not-the-secret", json: forged)

            expectProblem(reply, 404, "not_found")
            #expect(try await harness.order(order)["status"].string == "awaiting_payment")
            #expect(try await harness.world.count("payments WHERE status = 'pending'") == 1)
        }
    }

    @Test func anUnknownCheckoutIsKeptForAdmins() async throws {
        try await PaymentHarness.run { harness in
            let secret = harness.services.config.mpesa.callbackSecret.revealed
            let body: JSON = ["Body": ["stkCallback": [
                "MerchantRequestID": "m-1", "CheckoutRequestID": "ws_CO_unknown", "ResultCode": 0, "ResultDesc": "ok",
                "CallbackMetadata": ["Item": [["Name": "Amount", "Value": 150], ["Name": "MpesaReceiptNumber", "Value": "SIMABC1234"],
                                              ["Name": "Balance"]]],
            ]]]

            let reply = try await harness.http.send(.post, "/api/v1/payments/mpesa/callback/\(secret)", json: body)
            let admin = try await harness.world.token(try await World.makeUser(harness.services, email: "admin@example.com", role: "admin"))
            let list = try await harness.http.send(.get, "/api/v1/admin/payments", token: admin).json

            #expect(reply.status == 200)
            #expect(reply.json == ["ResultCode": 0, "ResultDesc": "Accepted"])
            #expect(list["unmatched"].array.map { $0["checkout_request_id"].string } == ["ws_CO_unknown"])
            #expect(list["unmatched"][0]["amount_cents"].int == 15_000)
            #expect(list["unmatched"][0]["mpesa_receipt"].string == "SIMABC1234")
        }
    }

    @Test func aWrongAmountIsFlaggedUntilAnAdminDecides() async throws {
        try await PaymentHarness.run { harness in
            // Setup: two orders whose payments come one shilling short.
            let first = try await harness.mpesaOrder()
            let second = try await harness.mpesaOrder()
            let admin = try await harness.world.token(try await World.makeUser(harness.services, email: "admin@example.com", role: "admin"))

            // Act
            let firstPush = try await harness.push(first, phone: "0712345607")
            let secondPush = try await harness.push(second, phone: "0712345607")
            await harness.simulator.releaseAll()
            let firstPayment = try await harness.payment(firstPush)
            let secondPayment = try await harness.payment(secondPush)
            let flagged = try await harness.http.send(.get, "/api/v1/admin/payments?status=flagged", token: admin).json
            let accepted = try await harness.http.send(
                .post, "/api/v1/admin/payments/\(firstPayment["id"].string!)/resolve", json: ["action": "accept", "note": "customer confirmed"],
                token: admin)
            let refunded = try await harness.http.send(
                .post, "/api/v1/admin/payments/\(secondPayment["id"].string!)/resolve", json: ["action": "refund"], token: admin)
            let twice = try await harness.http.send(
                .post, "/api/v1/admin/payments/\(secondPayment["id"].string!)/resolve", json: ["action": "accept"], token: admin)

            // Check
            #expect(firstPayment["status"].string == "flagged")
            #expect(firstPayment["received_cents"].int == Int(first.totalCents) - 100)
            #expect(flagged["items"].array.count == 2)
            #expect(accepted.json["status"].string == "succeeded" && accepted.json["resolution"].string == "accepted")
            #expect(try await harness.order(first)["status"].string == "placed")
            #expect(refunded.json["resolution"].string == "refunded")
            #expect(try await harness.order(second)["status"].string == "awaiting_payment")
            let refund = try await harness.world.database.query("SELECT reason, amount_cents, status FROM refunds")
            #expect(refund.count == 1)
            #expect(try refund[0].decode((String, Int64, String).self) == ("flagged_payment", second.totalCents - 100, "approved"))
            expectProblem(twice, 409, "invalid_transition")
        }
    }

    @Test func reconciliationSettlesPushesThatNeverCalledBack() async throws {
        try await PaymentHarness.run { harness in
            // Setup: 04 pays without a callback; 08 is cancelled without a callback. M-Pesa has
            // finished both, so the query knows.
            let paidOrder = try await harness.mpesaOrder()
            let cancelledOrder = try await harness.mpesaOrder()
            let paid = try await harness.push(paidOrder, phone: "0712345604")
            let cancelled = try await harness.push(cancelledOrder, phone: "0712345608")
            let callbacks = await harness.simulator.releaseAll()
            let jobs = BackgroundJobs(services: harness.services, logger: Logger(label: "jobs"))

            // Act: the reconciliation jobs come due once the delay has passed on the services' clock.
            let dueEarly = try await jobs.runner.runNext()
            harness.clock.advance(by: harness.services.config.mpesa.reconciliationDelay)
            while try await jobs.runner.runNext() {}

            // Check
            #expect(callbacks.isEmpty)
            #expect(!dueEarly)
            #expect(try await harness.payment(paid)["status"].string == "succeeded")
            #expect(try await harness.order(paidOrder)["status"].string == "placed")
            let failed = try await harness.payment(cancelled)
            #expect(failed["status"].string == "failed")
            #expect(failed["result_code"].string == "1032")
            #expect(try await harness.world.count("jobs WHERE kind = 'reconcile-payment' AND finished_at IS NOT NULL") == 2)
        }
    }

    @Test func aStillProcessingQueryIsRetriedLater() async throws {
        try await PaymentHarness.run { harness in
            let order = try await harness.mpesaOrder()
            let push = try await harness.push(order, phone: "0712345604")
            let id = UUID(uuidString: push.json["payment_id"].string!)!

            // Not released: M-Pesa is "still processing".
            await #expect(throws: (any Error).self) { try await harness.services.payments.reconcile(paymentID: id) }
            #expect(try await harness.payment(push)["status"].string == "pending")
        }
    }

    @Test func oneOutstandingPushPerOrderAndNoCancellingMeanwhile() async throws {
        try await PaymentHarness.run { harness in
            let order = try await harness.mpesaOrder()
            let first = try await harness.push(order, phone: "0712345604")

            let second = try await harness.push(order, phone: "0712345600")
            let cancel = try await harness.http.send(
                .post, "/api/v1/orders/\(order.id)/cancel", token: try await harness.world.token(harness.world.customer))

            expectProblem(second, 409, "payment_pending")
            #expect(second.json["payment"]["id"] == first.json["payment_id"])
            expectProblem(cancel, 409, "payment_pending")
            #expect(try await harness.order(order)["payment_state"].string == "pending")
        }
    }

    @Test func moneyArrivingAfterExpiryIsKeptAndRefunded() async throws {
        try await PaymentHarness.run { harness in
            // Setup: a push that got no answer was marked failed; the order then expired.
            let order = try await harness.mpesaOrder()
            let push = try await harness.push(order, phone: "0712345604")
            let checkout = push.json["checkout_request_id"].string!
            let database = harness.world.database
            try await database.query("UPDATE payments SET status = 'failed', result_desc = 'no answer'")
            try await database.query("UPDATE orders SET created_at = now() - interval '2 hours'")
            #expect(try await harness.services.orders.expireUnpaid() == 1)

            // Act: the money arrives after all.
            let secret = harness.services.config.mpesa.callbackSecret.revealed
            let late: JSON = ["Body": ["stkCallback": [
                "MerchantRequestID": "m", "CheckoutRequestID": .string(checkout), "ResultCode": 0, "ResultDesc": "ok",
                "CallbackMetadata": ["Item": [["Name": "Amount", "Value": .number(Double(order.totalCents / 100))],
                                              ["Name": "MpesaReceiptNumber", "Value": "LATE123456"]]],
            ]]]
            let reply = try await harness.http.send(.post, "/api/v1/payments/mpesa/callback/\(secret)", json: late)

            // Check: the success wins over the stored failure, the order stays cancelled, the money is owed back.
            #expect(reply.status == 200)
            let payment = try await harness.payment(push)
            #expect(payment["status"].string == "succeeded")
            #expect(payment["mpesa_receipt"].string == "LATE123456")
            #expect(try await harness.order(order)["status"].string == "cancelled")
            let refund = try await database.query("SELECT reason, amount_cents, status FROM refunds")
            #expect(try refund.map { try $0.decode((String, Int64, String).self) }.map { "\($0.0)/\($0.1)/\($0.2)" }
                == ["late_payment/\(order.totalCents)/approved"])
        }
    }

    @Test func aDarajaRefusalIs502AndNoAnswerIs504() async throws {
        // A wrong passkey: Daraja answers with an error.
        try await PaymentHarness.run(settings: ["DARAJA_PASSKEY": "not-the-passkey"]) { harness in
            let order = try await harness.mpesaOrder()
            let refused = try await harness.push(order, phone: "0712345600")
            expectProblem(refused, 502, "daraja_error")
            let payment = try await harness.world.database.query("SELECT status, result_desc FROM payments")[0]
                .decode((String, String?).self)
            #expect(payment.0 == "failed" && payment.1?.isEmpty == false)
            #expect(try await harness.order(order)["status"].string == "awaiting_payment")
        }
        // Nothing listening: no answer within the timeout. The client retries connecting until
        // its timeout runs out, so that is the shortest allowed (1 s); nothing checks how long.
        let nothingListening = ["DARAJA_BASE_URL": "http://127.0.0.1:9", "DARAJA_TIMEOUT_SECONDS": "1"]
        try await PaymentHarness.run(settings: nothingListening) { harness in
            let order = try await harness.mpesaOrder()
            let silent = try await harness.push(order, phone: "0712345600")
            expectProblem(silent, 504, "daraja_timeout")
            let payment = try await harness.world.database.query("SELECT status, result_desc FROM payments")[0]
                .decode((String, String?).self)
            #expect(payment.0 == "failed" && payment.1 == "no answer")
            #expect(try await harness.order(order)["payment_state"].string == "unpaid")
        }
    }
}

@Suite struct PushLimitTests {
    @Test func pushesAreLimitedPerOrderSoNoPhoneRingsOnAndOn() async throws {
        try await PaymentHarness.run(settings: ["STK_PUSH_LIMIT_PER_ORDER": "3", "STK_PUSH_LIMIT_PER_PHONE": "5"]) { harness in
            // Setup
            let order = try await harness.mpesaOrder()
            let other = try await harness.mpesaOrder()

            // Act: the customer cancels each push on the phone and pushes again.
            var statuses: [Int] = []
            for _ in 0..<3 {
                let push = try await harness.push(order, phone: "0712345601")
                statuses.append(push.status)
                await harness.release(push)
            }
            let fourth = try await harness.push(order, phone: "0712345601")
            let otherOrder = try await harness.push(other, phone: "0712345601")
            if otherOrder.status == 202 { await harness.release(otherOrder) }
            let phoneSpent = try await harness.push(other, phone: "0712345601")

            // Check
            #expect(statuses == [202, 202, 202])
            #expect(fourth.status == 429, "\(fourth.text)")
            #expect(fourth.json["code"].string == "rate_limited")
            #expect(fourth.headers[.retryAfter] != nil)
            #expect(otherOrder.status == 202, "\(otherOrder.text)")
            // Every attempt counts against the phone, the refused fourth too: the sixth is one too many.
            #expect(phoneSpent.status == 429, "the sixth push to one phone: \(phoneSpent.text)")
            #expect(try await harness.world.count("payments") == 4)
        }
    }
}
