import Core
import Foundation
import Orders
import PostgresNIO
import Refunds
import TestSupport
import Testing

@Suite struct AutomaticRefundTests {
    @Test func anAutomaticRefundNeverExceedsWhatIsStillHeld() async throws {
        try await World.with { world in
            // Setup: a cash parcel whose cash was collected (so the business holds its total),
            // 10,000 cents of it refunded already, and a denied request that holds nothing.
            try await world.put(world.products[0][0], 1)
            let parcel = try await world.checkout(method: .cod).order.subOrders[0]
            let staff = try await world.staff(at: world.hubs[0], "Cash Keeper")
            let database = world.database
            try await database.query(
                """
                INSERT INTO cod_collections (sub_order_id, hub_id, staff_id, amount_cents)
                VALUES (\(parcel.id), \(world.hubs[0]), \(staff), \(parcel.totalCents))
                """)
            try await database.query(
                """
                INSERT INTO refunds (sub_order_id, order_id, status, reason, amount_cents, automatic, payee_phone, paid_at, mpesa_receipt)
                VALUES (\(parcel.id), \(parcel.orderID), 'paid', 'damaged', 10000, false, '254712345678', now(), 'RCPT1'),
                       (\(parcel.id), \(parcel.orderID), 'denied', 'other', 5000, false, '254712345678', NULL, NULL)
                """)
            let recorder = AutomaticRefunds(effects: .live, jobs: JobQueue(database: database, effects: .live), logger: database.logger)

            // Act: the parcel comes back, twice over (a retried transition).
            for _ in 0..<2 {
                try await database.transaction { connection in
                    try await recorder.refundHeldMoney(of: [parcel.id], reason: .returned, on: connection)
                }
            }

            // Check: one automatic refund for the rest, approved, with its history and its payout queued.
            let rows = try await database.query(
                "SELECT status, reason, amount_cents, payee_phone FROM refunds WHERE automatic AND sub_order_id = \(parcel.id)")
            #expect(rows.count == 1)
            let (status, reason, amount, payee) = try rows[0].decode((String, String, Int64, String).self)
            #expect(status == "approved" && reason == "returned" && amount == parcel.totalCents - 10_000)
            #expect(payee == "254712345678")
            let events = try await database.query(
                "SELECT e.to_status, e.actor_role FROM refund_events e JOIN refunds r ON r.id = e.refund_id WHERE r.automatic")
            #expect(try events.map { try $0.decode((String, String).self) }.map { "\($0.0)/\($0.1)" } == ["approved/system"])
            #expect(try await world.count("jobs WHERE kind = 'pay-refund'") == 1)
        }
    }
}
