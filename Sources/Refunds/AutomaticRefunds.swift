import Core
import Foundation
import Logging
import Orders
import PostgresNIO

/// Automatic refunds (SPEC section 8), in the caller's transaction: what a cancelled, rejected
/// or returned parcel holds, and a payment's money that found nothing to pay. They start
/// approved and their payout is queued in the same transaction. Amounts come from the ledger
/// (`sub_order_money`), so a refund never exceeds what was paid and what earlier refunds of the
/// sub-order committed is taken off.
public struct AutomaticRefunds: RefundRecorder {
    let effects: Effects
    let jobs: JobQueue
    let logger: Logger

    public init(effects: Effects, jobs: JobQueue, logger: Logger) {
        self.effects = effects
        self.jobs = jobs
        self.logger = logger
    }

    public func refundHeldMoney(of subOrderIDs: [UUID], reason: AutomaticRefundReason, on connection: PostgresConnection)
        async throws
    {
        let now = effects.now()
        let created = try await connection.exec(
            """
            WITH held AS (
                SELECT m.sub_order_id, m.order_id, m.refundable_cents,
                       (SELECT a.payment_id FROM payment_allocations a WHERE a.sub_order_id = m.sub_order_id
                        ORDER BY a.created_at DESC LIMIT 1) AS payment_id
                FROM sub_order_money m
                WHERE m.sub_order_id = ANY(\(subOrderIDs)) AND m.refundable_cents > 0
            ), created AS (
                INSERT INTO refunds (sub_order_id, order_id, payment_id, status, reason, amount_cents, automatic, payee_phone,
                                     created_at, updated_at, decided_at)
                SELECT h.sub_order_id, h.order_id, h.payment_id, 'approved', \(reason.rawValue), h.refundable_cents, true,
                       coalesce(p.phone, o.address_phone), \(now), \(now), \(now)
                FROM held h JOIN orders o ON o.id = h.order_id LEFT JOIN payments p ON p.id = h.payment_id
                RETURNING id
            ), events AS (
                INSERT INTO refund_events (refund_id, from_status, to_status, actor_role, note, created_at)
                SELECT id, NULL, 'approved', 'system', \(Self.note(reason)), \(now) FROM created
            )
            SELECT id FROM created
            """, logger: logger)
        try await queuePayouts(created.map { try $0.decode(UUID.self) }, on: connection)
    }

    public func refundUnallocated(
        paymentID: UUID, amountCents: Int64, reason: AutomaticRefundReason, on connection: PostgresConnection
    ) async throws {
        guard amountCents > 0 else { return }
        let now = effects.now()
        let created = try await connection.exec(
            """
            WITH created AS (
                INSERT INTO refunds (order_id, payment_id, status, reason, amount_cents, automatic, payee_phone, created_at,
                                     updated_at, decided_at)
                SELECT p.order_id, p.id, 'approved', \(reason.rawValue), \(amountCents), true, p.phone, \(now), \(now), \(now)
                FROM payments p WHERE p.id = \(paymentID)
                RETURNING id
            ), events AS (
                INSERT INTO refund_events (refund_id, from_status, to_status, actor_role, note, created_at)
                SELECT id, NULL, 'approved', 'system', \(Self.note(reason)), \(now) FROM created
            )
            SELECT id FROM created
            """, logger: logger)
        try await queuePayouts(created.map { try $0.decode(UUID.self) }, on: connection)
    }

    func queuePayouts(_ refundIDs: [UUID], on connection: PostgresConnection) async throws {
        for id in refundIDs {
            try await jobs.enqueue(
                RefundPayouts.job, payload: ["refund_id": id.uuidString], uniqueKey: RefundPayouts.uniqueKey(id),
                maxAttempts: RefundPayouts.maxAttempts, on: connection)
        }
    }

    static func note(_ reason: AutomaticRefundReason) -> String {
        switch reason {
        case .cancelled: "Automatic refund: the parcel was cancelled"
        case .merchantRejected: "Automatic refund: the merchant rejected the parcel"
        case .returned: "Automatic refund: the parcel went back to its merchant"
        case .latePayment: "Automatic refund: the payment arrived when nothing of the order was waiting for it"
        case .unallocatedPayment: "Automatic refund: what was left of the payment after it paid the order"
        case .flaggedPayment: "Automatic refund: an admin gave a flagged payment back"
        }
    }
}
