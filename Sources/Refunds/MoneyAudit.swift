import Core
import Foundation
import Logging
import PostgresNIO

/// The ledger's invariants, checked on a live database (`hubroute audit-money`, SPEC section
/// 14): operators run it after an incident, tests at the end of every money scenario.
public struct MoneyAudit: Sendable {
    public struct Discrepancy: Sendable, Equatable, CustomStringConvertible {
        public let check: String
        public let subject: String
        public let detail: String

        public var description: String { "\(check): \(subject): \(detail)" }
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Every discrepancy found; empty when the books balance.
    public func run() async throws -> [Discrepancy] {
        var found: [Discrepancy] = []
        for check in Self.checks {
            let rows = try await database.query(PostgresQuery(unsafeSQL: check.sql))
            found += try rows.map { row in
                let (subject, detail) = try row.decode((String, String).self)
                return Discrepancy(check: check.name, subject: subject, detail: detail)
            }
        }
        return found
    }

    /// Each check selects (subject, detail) for every row that breaks it.
    static let checks: [(name: String, sql: String)] = [
        (
            "payment received = allocated + refunded remainder",
            """
            SELECT 'payment ' || p.id, format('received %s, allocated %s, remainder refunded %s', p.received_cents, a.cents, r.cents)
            FROM payments p
            CROSS JOIN LATERAL (SELECT coalesce(sum(amount_cents), 0) AS cents FROM payment_allocations WHERE payment_id = p.id) a
            CROSS JOIN LATERAL (SELECT coalesce(sum(amount_cents), 0) AS cents FROM refunds
                                WHERE payment_id = p.id AND sub_order_id IS NULL AND status <> 'denied') r
            WHERE (p.status = 'succeeded' OR (p.status = 'flagged' AND p.resolution IS NOT NULL))
              AND coalesce(p.received_cents, 0) <> a.cents + r.cents
            """
        ),
        (
            "money only from settled payments",
            """
            SELECT 'payment ' || p.id, format('%s with %s allocated', p.status, sum(a.amount_cents))
            FROM payments p JOIN payment_allocations a ON a.payment_id = p.id
            WHERE p.status <> 'succeeded'
            GROUP BY p.id, p.status
            """
        ),
        (
            "sub-order: allocations within its total",
            """
            SELECT 'sub-order ' || s.number, format('total %s, allocated %s', s.total_cents, sum(a.amount_cents))
            FROM sub_orders s JOIN payment_allocations a ON a.sub_order_id = s.id
            GROUP BY s.id, s.number, s.total_cents HAVING sum(a.amount_cents) > s.total_cents
            """
        ),
        (
            "sub-order: refunds within what was paid",
            """
            SELECT 'sub-order ' || s.number, format('paid %s, refunds committed %s', m.paid_cents, m.refund_committed_cents)
            FROM sub_order_money m JOIN sub_orders s ON s.id = m.sub_order_id
            WHERE m.refund_committed_cents > m.paid_cents
            """
        ),
        (
            "no money held for a parcel that left",
            """
            SELECT 'sub-order ' || s.number, format('%s yet holds %s not refunded', s.status, m.refundable_cents)
            FROM sub_order_money m JOIN sub_orders s ON s.id = m.sub_order_id
            WHERE s.status IN ('cancelled', 'returned') AND m.refundable_cents > 0
            """
        ),
        (
            "refunds paid carry their receipt",
            """
            SELECT 'refund ' || r.id, 'paid without an M-Pesa receipt'
            FROM refunds r WHERE r.status = 'paid' AND r.mpesa_receipt IS NULL
            """
        ),
        (
            "items refunded within what was bought",
            """
            SELECT 'order item ' || i.id, format('bought %s, refunded %s, restocked %s', i.quantity, i.refunded_quantity, i.restocked_quantity)
            FROM order_items i
            WHERE i.refunded_quantity > i.quantity OR i.restocked_quantity > i.quantity
            """
        ),
        (
            "stock conserved: supplied - sold + restocked",
            """
            SELECT 'product ' || p.id, format('stock %s, supplied %s, sold %s, restocked %s', p.stock, supplied.units, sold.units, sold.back)
            FROM products p
            CROSS JOIN LATERAL (SELECT coalesce(sum(delta), 0) AS units FROM stock_supply WHERE product_id = p.id) supplied
            CROSS JOIN LATERAL (SELECT coalesce(sum(quantity), 0) AS units, coalesce(sum(restocked_quantity), 0) AS back
                                FROM order_items WHERE product_id = p.id) sold
            WHERE p.stock <> supplied.units - sold.units + sold.back
            """
        ),
    ]
}
