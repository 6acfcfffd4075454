import Core
import Foundation
import Orders
import Payments
import TestSupport
import Testing

@Suite struct CallbackRaceTests {
    static func callback(checkout: String, resultCode: Int, amountShillings: Int64, receipt: String) -> Data {
        Data(
            """
            {"Body":{"stkCallback":{"MerchantRequestID":"m-1","CheckoutRequestID":"\(checkout)","ResultCode":\(resultCode),
            "ResultDesc":"done","CallbackMetadata":{"Item":[{"Name":"Amount","Value":\(amountShillings)},
            {"Name":"MpesaReceiptNumber","Value":"\(receipt)"},{"Name":"Balance"}]}}}}
            """.utf8)
    }

    @Test func racingCallbacksForOnePaymentCreditItOnce() async throws {
        try await World.with { world in
            // Setup: an M-Pesa order with a pending push.
            try await world.put(world.products[0][0], 2)
            let order = try await world.checkout(method: .mpesa).order
            try await world.database.query(
                """
                INSERT INTO payments (id, order_id, status, amount_cents, phone, checkout_request_id)
                VALUES (gen_random_uuid(), \(order.id), 'pending', \(order.totalCents), '254712345600', 'ws_CO_race')
                """)
            let success = Self.callback(
                checkout: "ws_CO_race", resultCode: 0, amountShillings: order.totalCents / 100, receipt: "RACE000001")
            let failure = Self.callback(checkout: "ws_CO_race", resultCode: 1032, amountShillings: 0, receipt: "-")

            // Act: eight copies of the success and four failures, all at once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<12 {
                    group.addTask { try await world.services.payments.handleCallback(index % 3 == 0 ? failure : success) }
                }
                try await group.waitForAll()
            }

            // Check: the success won, once.
            let payment = try await world.database.query("SELECT status, mpesa_receipt FROM payments")[0].decode((String, String?).self)
            #expect(payment.0 == "succeeded" && payment.1 == "RACE000001")
            #expect(try await world.count("sub_order_events WHERE to_status = 'placed'") == 1)
            #expect(try await world.count("notifications WHERE kind = 'order_paid'") == 1)
            #expect(try await world.count("refunds") == 0)
            #expect(try await world.services.orders.order(order.id, scope: .admin).paymentState == "paid")
        }
    }
}
