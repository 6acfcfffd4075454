import Core
import Foundation
import Logging
import Orders
import PostgresNIO

/// The refund state machine's one mechanism (SPEC section 8): `requested → approved → paying →
/// paid`, `requested → denied`, `paying → failed → paying`. Every move is a conditional update
/// with its event (actor, note, time) in the caller's transaction.
enum RefundLedger {
    /// Moves the refund from `from` to `to` if it is still there (and still under this
    /// OriginatorConversationID, when given); writes the event. Returns whether it moved.
    @discardableResult
    static func move(
        _ refundID: UUID, from: RefundRecord.Status, to: RefundRecord.Status, actor: Actor, note: String?, now: Date,
        originator: String? = nil, on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        try await !connection.exec(
            """
            WITH moved AS (
                UPDATE refunds SET status = \(to.rawValue), updated_at = \(now),
                    decided_at = CASE WHEN \(to.rawValue) IN ('approved', 'denied') THEN \(now) ELSE decided_at END,
                    paid_at = CASE WHEN \(to.rawValue) = 'paid' THEN \(now) END
                WHERE id = \(refundID) AND status = \(from.rawValue)
                  AND (\(originator)::text IS NULL OR originator_conversation_id = \(originator))
                RETURNING id
            )
            INSERT INTO refund_events (refund_id, from_status, to_status, actor_id, actor_role, note, created_at)
            SELECT id, \(from.rawValue), \(to.rawValue), \(actor.userID), \(actor.role.rawValue), \(note), \(now) FROM moved
            RETURNING refund_id
            """, logger: logger
        ).isEmpty
    }

    /// An event without a change of state (a queue timeout).
    static func record(
        _ refundID: UUID, status: RefundRecord.Status, actor: Actor, note: String, now: Date, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        try await connection.exec(
            """
            INSERT INTO refund_events (refund_id, from_status, to_status, actor_id, actor_role, note, created_at)
            VALUES (\(refundID), \(status.rawValue), \(status.rawValue), \(actor.userID), \(actor.role.rawValue), \(note), \(now))
            """, logger: logger)
    }

    /// Locks a refund and returns its status (404 when there is none).
    static func lock(_ refundID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> RefundRecord.Status {
        let rows = try await connection.exec("SELECT status FROM refunds WHERE id = \(refundID) FOR UPDATE", logger: logger)
        guard let row = rows.first else { throw Problem.notFound("Refund") }
        guard let status = RefundRecord.Status(rawValue: try row.decode(String.self)) else {
            throw StoredValueError(column: "refunds.status")
        }
        return status
    }

    /// Locks a sub-order so refunds of it take turns. The lock is its own statement on purpose:
    /// in READ COMMITTED a statement that waited for a lock still reads the joined tables as they
    /// were when it began, so what the sub-order holds is read by the next statement, after the
    /// lock is held. Returns false when there is no such sub-order (for `customerID`).
    static func lockSubOrder(_ subOrderID: UUID, of customerID: UUID? = nil, on connection: PostgresConnection, logger: Logger)
        async throws -> Bool
    {
        let rows = try await connection.exec(
            """
            SELECT 1 FROM sub_orders s JOIN orders o ON o.id = s.order_id
            WHERE s.id = \(subOrderID) AND (\(customerID)::uuid IS NULL OR o.customer_id = \(customerID))
            FOR UPDATE OF s
            """, logger: logger)
        return !rows.isEmpty
    }

    /// The refund's customer is told, through the notification outbox.
    static func notifyCustomer(
        of refundID: UUID, kind: String, title: String, body: String, now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.exec(
            """
            INSERT INTO notifications (user_id, kind, title, body, order_id, sub_order_id, created_at)
            SELECT o.customer_id, \(kind), \(title) || ' (' || o.number || ')', \(body), o.id, r.sub_order_id, \(now)
            FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.id = \(refundID)
            """, logger: logger)
    }

    static func load(_ refundID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> RefundRecord {
        var binds = PostgresBindings()
        binds.append(refundID)
        guard let refund = try await RefundRecord.load(where: "r.id = $1", binds, on: connection, logger: logger).first else {
            throw Problem.notFound("Refund")
        }
        return refund
    }
}
