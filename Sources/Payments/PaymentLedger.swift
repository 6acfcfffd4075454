import Core
import Foundation
import Logging
import Orders
import PostgresNIO

/// Where a successful payment's money goes (SPEC section 2), in the transaction that records
/// the success: to the sub-orders it releases from `awaiting_payment`, in the order of their
/// numbers, each up to its total; whatever finds nothing to pay (the order was paid, cancelled
/// or expired meanwhile, or more came than it waits for) becomes an automatic refund of
/// exactly that remainder. So for every payment, received = allocated + refunded remainder.
struct PaymentLedger: Sendable {
    let lifecycle: SubOrderLifecycle
    let refunds: any RefundRecorder
    let effects: Effects
    let logger: Logger

    func allocate(_ payment: PaymentRecord, receivedCents: Int64, receipt: String?, on connection: PostgresConnection) async throws {
        let released = try await lifecycle.markPaid(payment.orderID, receipt: receipt, on: connection)
        var remaining = receivedCents
        var shares: [(subOrderID: UUID, cents: Int64)] = []
        for parcel in released where remaining > 0 {
            let share = min(parcel.totalCents, remaining)
            shares.append((parcel.id, share))
            remaining -= share
        }
        if !shares.isEmpty {
            try await connection.exec(
                """
                INSERT INTO payment_allocations (payment_id, sub_order_id, amount_cents, created_at)
                SELECT \(payment.id), share.sub_order_id, share.cents, \(effects.now())
                FROM unnest(\(shares.map(\.subOrderID))::uuid[], \(shares.map(\.cents))::bigint[]) AS share(sub_order_id, cents)
                """, logger: logger)
        }
        if remaining > 0 {
            try await refunds.refundUnallocated(
                paymentID: payment.id, amountCents: remaining, reason: released.isEmpty ? .latePayment : .unallocatedPayment,
                on: connection)
        }
    }
}
