import Foundation
import Identity
import Logging
import Orders
import Payments
import PostgresNIO
import Server
import TestSupport
import Testing

/// The sequences of issue 11 that lost or mis-counted customers' money when payments were
/// inferred from states. Each ends with the customer owed exactly what they paid and did not
/// receive, and the audit clean.
@Suite struct MoneyLedgerTests {
    @Test func anAdminCancelsOneParcelWhileThePushIsPendingThenThePushSucceeds() async throws {
        try await PaymentHarness.run { harness in
            // Setup
            let order = try await harness.twoParcelOrder()
            let push = try await harness.push(order, phone: "0712345600")
            let (kept, cancelled) = (order.subOrders[0], order.subOrders[1])

            // Act
            _ = try await harness.services.orders.cancelSubOrder(cancelled.id, note: "Out of stock at the hub", by: try await harness.admin())
            await harness.release(push)

            // Check: the kept parcel is paid, the cancelled one's share came back.
            let view = try await harness.order(order)
            #expect(view["amount_paid_cents"].int == Int(kept.totalCents))
            #expect(view["payment_state"].string == "paid")
            let refunds = view["refunds"].array
            #expect(refunds.count == 1)
            #expect(refunds.first?["amount_cents"].int == Int(cancelled.totalCents))
            #expect(refunds.first?["reason"].string == "unallocated_payment")
            #expect(refunds.first?["status"].string == "approved")
            try await harness.expectOwedExactly(order)
        }
    }

    @Test func expiryAndASuccessRaceAndTheMoneyEndsWhereTheParcelsAre() async throws {
        try await PaymentHarness.run { harness in
            // Setup: a push whose answer timed out (recorded failed) though M-Pesa took it; the
            // order is then past its payment time.
            let order = try await harness.twoParcelOrder()
            let push = try await harness.push(order, phone: "0712345600")
            try await harness.services.database.query(
                "UPDATE payments SET status = 'failed', result_desc = 'no answer' WHERE order_id = \(order.id)")
            harness.clock.advance(by: .seconds(31 * 60))

            // Act: expiry and the late success at once.
            async let expired = harness.services.orders.expireUnpaid()
            async let delivered = harness.release(push)
            let count = try await expired
            _ = await delivered

            // Check: whichever came first, the payment succeeded and its money is either on the
            // placed parcels or refunded from the cancelled ones; never both, never lost.
            let view = try await harness.order(order)
            #expect(view["payments"][0]["status"].string == "succeeded")
            if count > 0 {
                #expect(view["status"].string == "cancelled")
                #expect(view["amount_paid_cents"].int == 0)
                #expect(view["refunds"].array.map { $0["reason"].string } == ["late_payment"])
                #expect(view["refunds"][0]["amount_cents"].int == Int(order.totalCents))
            } else {
                #expect(view["status"].string == "placed")
                #expect(view["amount_paid_cents"].int == Int(order.totalCents))
                #expect(view["refunds"].array.isEmpty)
            }
            try await harness.expectOwedExactly(order)
        }
    }

    @Test func aFailedPushsLateSuccessAfterASecondPushPaidIsRefundedAndNeverCountedTwice() async throws {
        try await PaymentHarness.run { harness in
            // Setup: push 1 recorded failed (no answer in time), push 2 pays.
            let order = try await harness.mpesaOrder()
            let first = try await harness.push(order, phone: "0712345600")
            try await harness.services.database.query(
                "UPDATE payments SET status = 'failed', result_desc = 'no answer' WHERE id = \(first.json["payment_id"].string!)::uuid")
            let second = try await harness.push(order, phone: "0712345600")
            await harness.release(second)

            // Act: push 1's success arrives after all.
            await harness.release(first)

            // Check: both receipts kept; paid once; push 1's money on its way back.
            let view = try await harness.order(order)
            let payments = view["payments"].array
            #expect(payments.map { $0["status"].string } == ["succeeded", "succeeded"])
            #expect(Set(payments.compactMap { $0["mpesa_receipt"].string }).count == 2)
            #expect(view["amount_paid_cents"].int == Int(order.totalCents))
            #expect(view["payment_state"].string == "paid")
            #expect(view["refunds"].array.map { $0["reason"].string } == ["late_payment"])
            #expect(view["refunds"][0]["payment_id"].string == first.json["payment_id"].string)
            #expect(view["refunds"][0]["amount_cents"].int == Int(order.totalCents))
            try await harness.expectOwedExactly(order)
        }
    }

    @Test func aFlaggedPaymentRefundedThenPaidAgainThenAParcelRejected() async throws {
        try await PaymentHarness.run { harness in
            // Setup: one shilling short: flagged; an admin gives it back.
            let order = try await harness.twoParcelOrder()
            let short = try await harness.push(order, phone: "0712345607")
            await harness.release(short)
            let shortID = try #require(UUID(uuidString: short.json["payment_id"].string ?? ""))
            _ = try await harness.services.payments.resolve(shortID, .refund, note: "Wrong amount", by: try await harness.admin())

            // Act: the customer pays again in full; then a merchant rejects its parcel.
            let full = try await harness.push(order, phone: "0712345600")
            await harness.release(full)
            let rejected = order.subOrders[1]
            let merchant = try harness.merchantPrincipal(of: rejected)
            _ = try await harness.services.orders.reject(rejected.id, reason: "Sold out", by: merchant)

            // Check
            let view = try await harness.order(order)
            let refunds = view["refunds"].array
            #expect(refunds.compactMap { $0["reason"].string }.sorted() == ["flagged_payment", "merchant_rejected"])
            #expect(refunds.first { $0["reason"].string == "flagged_payment" }?["amount_cents"].int == Int(order.totalCents - 100))
            #expect(refunds.first { $0["reason"].string == "merchant_rejected" }?["amount_cents"].int == Int(rejected.totalCents))
            #expect(view["amount_paid_cents"].int == Int(order.totalCents))
            try await harness.expectOwedExactly(order)
        }
    }

    @Test func theCustomerCancelsWhileAPaymentIsFlaggedThenAnAdminAcceptsIt() async throws {
        try await PaymentHarness.run { harness in
            // Setup
            let order = try await harness.mpesaOrder()
            let short = try await harness.push(order, phone: "0712345607")
            await harness.release(short)
            let shortID = try #require(UUID(uuidString: short.json["payment_id"].string ?? ""))

            // Act
            _ = try await harness.services.orders.cancel(order.id, by: harness.world.principal(harness.world.customer, .customer))
            let accepted = try await harness.services.payments.resolve(shortID, .accept, note: "Close enough", by: try await harness.admin())

            // Check: accepted, but nothing left to pay for: all of it goes back.
            #expect(accepted.status == .succeeded)
            let view = try await harness.order(order)
            #expect(view["status"].string == "cancelled")
            #expect(view["amount_paid_cents"].int == 0)
            #expect(view["refunds"].array.map { $0["reason"].string } == ["late_payment"])
            #expect(view["refunds"][0]["amount_cents"].int == Int(order.totalCents - 100))
            try await harness.expectOwedExactly(order)
        }
    }

    @Test func anAcceptedShortPaymentThenACancelledParcelRefundsNoMoreThanCameIn() async throws {
        try await PaymentHarness.run { harness in
            // Setup: one shilling short, accepted: the second parcel is paid one shilling short.
            let order = try await harness.twoParcelOrder()
            let short = try await harness.push(order, phone: "0712345607")
            await harness.release(short)
            let shortID = try #require(UUID(uuidString: short.json["payment_id"].string ?? ""))
            _ = try await harness.services.payments.resolve(shortID, .accept, note: nil, by: try await harness.admin())

            // Act
            let cancelled = order.subOrders[1]
            _ = try await harness.services.orders.cancelSubOrder(cancelled.id, note: "Damaged at the hub", by: try await harness.admin())

            // Check
            let view = try await harness.order(order)
            #expect(view["refunds"].array.count == 1)
            #expect(view["refunds"][0]["amount_cents"].int == Int(cancelled.totalCents - 100))
            #expect(view["amount_paid_cents"].int == Int(order.totalCents - 100))
            try await harness.expectOwedExactly(order)
        }
    }
}

extension PaymentHarness {
    /// An M-Pesa order of two parcels: the NBO merchant's product and the MSA merchant's.
    func twoParcelOrder() async throws -> Order {
        try await world.put(world.products[0][0], 1)
        try await world.put(world.products[1][0], 1)
        return try await world.checkout(method: .mpesa).order
    }

    func admin() async throws -> Principal {
        let rows = try await world.database.query("SELECT id FROM users WHERE email = 'admin@example.com'")
        let existing = try rows.first?.decode(UUID.self)
        let id = if let existing { existing } else { try await World.makeUser(services, email: "admin@example.com", role: "admin") }
        return Principal(userID: id, role: .admin, hubID: nil, merchantID: nil)
    }

    func merchantPrincipal(of parcel: SubOrder) throws -> Principal {
        guard let index = world.merchants.firstIndex(of: parcel.merchantID) else { throw World.WorldError.unknownParcel }
        return world.principal(world.merchantUsers[index], .merchant, merchant: parcel.merchantID)
    }

    /// What came in for the order (M-Pesa, or cash at the door), less what pays for parcels still
    /// on their way or delivered, is exactly what the refunds of the rest give back (refunds the
    /// customer asked for on delivered parcels come on top, within what was paid: the audit
    /// checks those); and the whole ledger balances.
    func expectOwedExactly(_ order: Order, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let rows = try await world.database.query(
            """
            SELECT
                (SELECT coalesce(sum(received_cents), 0)::bigint FROM payments
                 WHERE order_id = \(order.id) AND (status = 'succeeded' OR (status = 'flagged' AND resolution IS NOT NULL)))
                + (SELECT coalesce(sum(c.amount_cents), 0)::bigint FROM cod_collections c JOIN sub_orders s ON s.id = c.sub_order_id
                   WHERE s.order_id = \(order.id)),
                (SELECT coalesce(sum(m.paid_cents), 0)::bigint FROM sub_order_money m JOIN sub_orders s ON s.id = m.sub_order_id
                 WHERE s.order_id = \(order.id) AND s.status NOT IN ('cancelled', 'returned')),
                (SELECT coalesce(sum(r.amount_cents), 0)::bigint FROM refunds r LEFT JOIN sub_orders s ON s.id = r.sub_order_id
                 WHERE r.order_id = \(order.id) AND r.status IN ('approved', 'paying', 'paid', 'failed')
                   AND (s.id IS NULL OR s.status IN ('cancelled', 'returned')))
            """)
        let (received, kept, refunded) = try rows[0].decode((Int64, Int64, Int64).self)
        #expect(received - kept == refunded, "received \(received), kept \(kept), refunded \(refunded)", sourceLocation: sourceLocation)
        let discrepancies = try await services.audit.run()
        #expect(discrepancies.isEmpty, "\(discrepancies)", sourceLocation: sourceLocation)
    }
}

/// No payment stays pending forever, and the audit finds what does not balance.
@Suite struct MoneyKeepingTests {
    @Test func aPendingPaymentThatLostItsJobIsPutBackAndSettled() async throws {
        try await PaymentHarness.run { harness in
            // Setup: a push M-Pesa never calls back on (ending 04: only the query knows), whose
            // reconciliation job is gone (given up, or written by an older version).
            let order = try await harness.mpesaOrder()
            let push = try await harness.push(order, phone: "0712345604")
            await harness.release(push)
            try await harness.world.database.query("DELETE FROM jobs WHERE kind = 'reconcile-payment'")

            // Act: the sweep runs after the reconciliation delay, then the jobs.
            harness.clock.advance(by: harness.services.config.mpesa.reconciliationDelay + .seconds(1))
            let added = try await harness.services.payments.sweepPending()
            let again = try await harness.services.payments.sweepPending()
            let runner = BackgroundJobs(services: harness.services, logger: Logger(label: "jobs")).runner
            while try await runner.runNext() {}

            // Check
            #expect(added == 1 && again == 0)
            #expect(try await harness.payment(push)["status"].string == "succeeded")
            #expect(try await harness.order(order)["status"].string == "placed")
            try await harness.expectOwedExactly(order)
        }
    }

    @Test func reconcilePaymentsSettlesEveryPendingPaymentNow() async throws {
        try await PaymentHarness.run { harness in
            // Setup: two pushes M-Pesa decided without calling back; one still processing.
            let paid = try await harness.mpesaOrder()
            let paidPush = try await harness.push(paid, phone: "0712345604")
            await harness.release(paidPush)
            let cancelled = try await harness.mpesaOrder()
            let cancelledPush = try await harness.push(cancelled, phone: "0712345608")
            await harness.release(cancelledPush)
            let processing = try await harness.mpesaOrder()
            let processingPush = try await harness.push(processing, phone: "0712345600")

            // Act: no clock moves; an operator asks now.
            let outcome = try await harness.services.payments.reconcileAll()

            // Check
            #expect(outcome.pending == 3 && outcome.stillProcessing == 1)
            #expect(try await harness.payment(paidPush)["status"].string == "succeeded")
            #expect(try await harness.payment(cancelledPush)["status"].string == "failed")
            #expect(try await harness.payment(processingPush)["status"].string == "pending")
        }
    }

    @Test func anOrderWhoseFlaggedPaymentWasRefundedExpiresAgain() async throws {
        try await PaymentHarness.run { harness in
            // Setup: flagged (a shilling short): expiry leaves the order alone while it waits for an admin.
            let order = try await harness.mpesaOrder()
            let short = try await harness.push(order, phone: "0712345607")
            await harness.release(short)
            harness.clock.advance(by: harness.services.config.paymentExpiry + .seconds(60))
            let whileFlagged = try await harness.services.orders.expireUnpaid()

            // Act
            let shortID = try #require(UUID(uuidString: short.json["payment_id"].string ?? ""))
            _ = try await harness.services.payments.resolve(shortID, .refund, note: nil, by: try await harness.admin())
            let afterResolution = try await harness.services.orders.expireUnpaid()

            // Check
            #expect(whileFlagged == 0)
            #expect(afterResolution == 1)
            #expect(try await harness.order(order)["status"].string == "cancelled")
            try await harness.expectOwedExactly(order)
        }
    }

    @Test func theAuditFindsMoneyThatDoesNotBalance() async throws {
        try await PaymentHarness.run { harness in
            // Setup: a paid parcel, then cancelled with its refund "lost", and stock changed behind
            // the ledger's back.
            let order = try await harness.mpesaOrder()
            try await harness.world.payByMpesa(order)
            try await harness.services.database.query("UPDATE sub_orders SET status = 'cancelled', cancel_reason = 'admin' WHERE order_id = \(order.id)")
            try await harness.services.database.query("UPDATE products SET stock = stock + 5 WHERE id = \(harness.world.products[2][1])")

            // Act
            let found = try await harness.services.audit.run()

            // Check
            #expect(Set(found.map(\.check)) == ["no money held for a parcel that left", "stock conserved: supplied - sold + restocked"])
            #expect(found.allSatisfy { !$0.subject.isEmpty && !$0.detail.isEmpty })
        }
    }
}
