import Core
import Foundation
import Orders
import PostgresNIO
import Refunds
import TestSupport
import Testing

@Suite struct AutomaticRefundTests {
    @Test func anAutomaticRefundNeverExceedsWhatIsStillOwed() async throws {
        try await World.with { world in
            // Setup: a delivered-then-returned style parcel; we only need a sub-order that exists.
            try await world.put(world.products[0][0], 1)
            let parcel = try await world.checkout(method: .cod).order.subOrders[0]
            let recorder = AutomaticRefunds()
            let database = world.database

            // Act: an admin already refunded 10,000 cents (denied ones do not count); then two
            // automatic refunds for the whole total arrive.
            try await database.query(
                """
                INSERT INTO refunds (sub_order_id, status, reason, amount_cents, automatic)
                VALUES (\(parcel.id), 'paid', 'damaged', 10000, false), (\(parcel.id), 'denied', 'other', 5000, false)
                """)
            for _ in 0..<2 {
                try await database.transaction { connection in
                    try await recorder.recordAutomaticRefund(
                        subOrderID: parcel.id, amountCents: parcel.totalCents, reason: .returned, on: connection)
                }
            }

            // Check: one automatic refund for the rest, approved, with its history.
            let rows = try await database.query(
                "SELECT status, reason, amount_cents FROM refunds WHERE automatic AND sub_order_id = \(parcel.id)")
            #expect(rows.count == 1)
            let (status, reason, amount) = try rows[0].decode((String, String, Int64).self)
            #expect(status == "approved" && reason == "returned" && amount == parcel.totalCents - 10_000)
            let events = try await database.query(
                "SELECT e.to_status, e.actor_role FROM refund_events e JOIN refunds r ON r.id = e.refund_id WHERE r.automatic")
            #expect(try events.map { try $0.decode((String, String).self) }.map { "\($0.0)/\($0.1)" } == ["approved/system"])
        }
    }
}
