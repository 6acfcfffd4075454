import Core
import Foundation
import Orders
import PostgresNIO

/// Automatic refunds (SPEC section 8): money received for a parcel that was cancelled, rejected
/// or returned is owed back in full. They start approved; paying them out by M-Pesa B2C comes
/// with the refunds issue. Never more than was paid for the sub-order: what earlier refunds of
/// the sub-order (other than denied ones) already cover is taken off.
public struct AutomaticRefunds: RefundRecorder {
    public init() {}

    public func recordAutomaticRefund(
        subOrderID: UUID, amountCents: Int64, reason: AutomaticRefundReason, on connection: PostgresConnection
    ) async throws {
        try await connection.exec(
            """
            WITH owed AS (
                SELECT \(amountCents) - coalesce(sum(amount_cents) FILTER (WHERE status <> 'denied'), 0) AS cents
                FROM refunds WHERE sub_order_id = \(subOrderID)
            ), created AS (
                INSERT INTO refunds (sub_order_id, status, reason, amount_cents, automatic)
                SELECT \(subOrderID), 'approved', \(reason.rawValue), cents, true FROM owed WHERE cents > 0
                RETURNING id
            )
            INSERT INTO refund_events (refund_id, from_status, to_status, actor_role, note)
            SELECT id, NULL, 'approved', 'system', \("Automatic refund: \(reason.rawValue)") FROM created
            """, logger: connection.logger)
    }
}
