@testable import Analytics
import Core
import Orders
import Foundation
import PostgresNIO
import Server
import TestSupport
import Testing

/// After a refresh, every view holds exactly what a direct recomputation from the base tables
/// gives, on a generated world of every kind of order (`VolumeSeeder`). The recomputations are
/// written apart from the views: straight from the tables, one correlated count per key.
@Suite struct RecomputationTests {
    static let end = ISO8601DateFormatter().date(from: "2026-03-01T00:00:00+03:00") ?? Date.distantPast

    /// The admin's status search derives only what a page needs; what it finds must be exactly
    /// the orders in that status by SPEC 13.1, recomputed here from the sub-orders on the
    /// rule's own terms (not with `order_status`, which the search and the view share).
    @Test func anAdminsStatusSearchFindsExactlyTheOrdersInThatStatus() async throws {
        try await World.with { world in
            // Setup: a generated world of every kind of order.
            let services = world.services
            _ = try await VolumeSeeder(database: services.database, timeZone: services.calendar.timeZone)
                .seed(.init(orders: 300, seed: 11, days: 20, end: Self.end))

            for status in Orders.orderStatuses {
                // Act: every page of the search.
                var found: [UUID] = []
                var cursor: String?
                repeat {
                    let page = try await services.orders.search(
                        .init(number: nil, customerID: nil, merchantID: nil, status: status, from: nil, to: nil),
                        page: try PageRequest(limit: 100, cursor: cursor))
                    found += page.items.map(\.id)
                    cursor = page.nextCursor
                } while cursor != nil

                // Check
                let expected = try await services.database.query(
                    """
                    SELECT s.order_id FROM sub_orders s JOIN orders o ON o.id = s.order_id GROUP BY s.order_id, o.created_at
                    HAVING CASE
                        WHEN bool_and(s.status = 'cancelled') THEN 'cancelled'
                        WHEN bool_or(s.status = 'awaiting_payment') THEN 'awaiting_payment'
                        WHEN bool_and(s.status = 'delivered') FILTER (WHERE s.status <> 'cancelled') THEN 'delivered'
                        WHEN bool_and(s.status = 'returned') FILTER (WHERE s.status <> 'cancelled') THEN 'returned'
                        WHEN bool_and(s.status IN ('delivered', 'returned')) FILTER (WHERE s.status <> 'cancelled') THEN 'completed'
                        WHEN bool_and(s.status = 'placed') FILTER (WHERE s.status <> 'cancelled') THEN 'placed'
                        ELSE 'in_progress'
                    END = \(status)
                    ORDER BY o.created_at DESC, s.order_id DESC
                    """
                ).map { try $0.decode(UUID.self) }
                #expect(found == expected, "\(status): every one once, newest first across pages")
            }
            let inSomeStatus = try await services.database.query(
                "SELECT count(DISTINCT status) FROM order_states")[0].decode(Int.self)
            #expect(inSomeStatus >= 4)
        }
    }

    @Test func afterARefreshEveryViewEqualsItsRecomputation() async throws {
        try await World.with { world in
            // Setup: a generated world, analytics refreshed.
            let services = world.services
            _ = try await VolumeSeeder(database: services.database, timeZone: services.calendar.timeZone)
                .seed(.init(orders: 600, seed: 7, days: 45, end: Self.end))
            _ = try await services.analytics.refresh()

            // Check: each view equals its recomputation, row for row (both ways).
            for (view, recomputed) in Self.recomputations {
                let rows = try await services.database.transaction { connection in
                    // One count per key is slow by design (and not worth compiling): no request's
                    // statement limit, no JIT; the recomputation is made once and compared both ways.
                    let logger = services.database.logger
                    try await connection.exec("SET LOCAL statement_timeout = 0", logger: logger)
                    try await connection.exec("SET LOCAL jit = off", logger: logger)
                    try await connection.exec(
                        PostgresQuery(unsafeSQL: "CREATE TEMP TABLE recomputed (LIKE \(view)) ON COMMIT DROP"), logger: logger)
                    try await connection.exec(PostgresQuery(unsafeSQL: "INSERT INTO recomputed \(recomputed)"), logger: logger)
                    return try await connection.exec(
                        PostgresQuery(
                            unsafeSQL: """
                                SELECT (SELECT count(*) FROM \(view)),
                                       (SELECT count(*) FROM (SELECT * FROM \(view) EXCEPT ALL SELECT * FROM recomputed) extra),
                                       (SELECT count(*) FROM (SELECT * FROM recomputed EXCEPT ALL SELECT * FROM \(view)) missing)
                                """), logger: logger)
                }
                let (count, extra, missing) = try rows[0].decode((Int, Int, Int).self)
                #expect(count > 0, "\(view) is empty")
                #expect(extra == 0 && missing == 0, "\(view): \(extra) rows not in the recomputation, \(missing) missing")
            }
            // The month rollups are their days summed.
            for (monthly, daily, key, column) in [
                ("analytics_merchant_monthly", "analytics_merchant_daily", "merchant_id", "gmv_cents"),
                ("analytics_product_monthly", "analytics_product_daily", "product_id", "sales_cents"),
            ] {
                let differing = try await services.database.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT count(*) FROM \(monthly) m
                            WHERE m.\(column) IS DISTINCT FROM (SELECT sum(d.\(column)) FROM \(daily) d
                                WHERE d.\(key) = m.\(key) AND date_trunc('month', d.day::timestamp)::date = m.month)
                            """))
                #expect(try differing[0].decode(Int.self) == 0, "\(monthly)")
            }
        }
    }

    /// Merchants and products over a range read whole months from running totals and the rest
    /// from days; whatever the range (whole months, parts of months, before or after the data),
    /// each row must be its days summed.
    @Test func rankingsOverAnyRangeAreTheirDaysSummed() async throws {
        try await World.with { world in
            // Setup: a generated world from mid-January to the end of February 2026.
            let services = world.services
            _ = try await VolumeSeeder(database: services.database, timeZone: services.calendar.timeZone)
                .seed(.init(orders: 300, seed: 5, days: 45, end: Self.end))
            _ = try await services.analytics.refresh()
            let ranges = [
                ("2026-01-01", "2026-02-28"), ("2026-01-20", "2026-02-10"), ("2026-01-20", "2026-03-31"), ("2026-02-01", "2026-02-28"),
                ("2025-12-01", "2026-01-31"), ("2026-02-03", "2026-02-03"), ("2025-11-01", "2025-12-31"), ("2026-04-01", "2026-05-31"),
                ("2025-06-15", "2026-06-14"),
            ]
            for (from, to) in ranges {
                let range = try DateRange(
                    from: from, to: to, today: Self.end, calendar: services.calendar, maximumDays: 366)

                // Act
                let products = try await services.analytics.products(range, rows: .all).rows
                let merchants = try await services.analytics.merchants(range, rows: .all).rows

                // Check
                #expect(
                    try await Self.figures(products, key: "product_id", Self.productSums)
                        == Self.summedDays(services, "analytics_product_daily", key: "product_id", Self.productSums, from, to),
                    "products \(from)...\(to)")
                #expect(
                    try await Self.figures(merchants, key: "merchant_id", Self.merchantSums)
                        == Self.summedDays(services, "analytics_merchant_daily", key: "merchant_id", Self.merchantSums, from, to),
                    "merchants \(from)...\(to)")
            }
        }
    }

    static let productSums = ["units_sold", "sales_cents", "units_delivered", "revenue_cents", "refunded_units", "refunds_cents", "review_count"]
    static let merchantSums = [
        "sub_orders", "gmv_cents", "delivered", "commission_cents", "payout_cents", "delivered_refunded", "cancelled_customer",
        "cancelled_merchant_rejected", "cancelled_payment_expired", "cancelled_admin", "returned", "refunds_paid_cents",
        "delivered_refunds_paid_cents", "review_count",
    ]

    static func figures(_ table: AnalyticsTable, key: String, _ columns: [String]) -> [String: [Int64]] {
        Dictionary(uniqueKeysWithValues: table.rows.indices.map { row in
            (table[row, key].text ?? "", columns.map { table[row, $0].integer ?? -1 })
        })
    }

    static func summedDays(_ services: Services, _ view: String, key: String, _ columns: [String], _ from: String, _ to: String)
        async throws -> [String: [Int64]]
    {
        let rows = try await services.database.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(key)::text, ARRAY[\(columns.map { "sum(\($0))::bigint" }.joined(separator: ", "))]
                    FROM \(view) WHERE day BETWEEN $1::date AND $2::date GROUP BY \(key)
                    """, binds: PostgresBindings { $0.append(from); $0.append(to) }))
        return Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, [Int64]).self) })
    }

    @Test func theGeneratedWorldBalancesItsBooksAndRepeatsFromItsSeed() async throws {
        let first = try await seededFingerprint(seed: 11)
        let again = try await seededFingerprint(seed: 11)
        let other = try await seededFingerprint(seed: 12)

        #expect(first.discrepancies.isEmpty, "\(first.discrepancies)")
        #expect(first.fingerprint == again.fingerprint)
        #expect(first.fingerprint != other.fingerprint)
        // Every final state and payment outcome is there.
        #expect(first.statuses.isSuperset(of: ["delivered", "cancelled", "returned"]))
        #expect(first.payments.isSuperset(of: ["succeeded", "failed", "flagged"]))
        #expect(first.refunds.isSuperset(of: ["paid", "denied", "requested", "failed"]))
    }

    struct Seeded: Sendable {
        let fingerprint: String
        let discrepancies: [String]
        let statuses: Set<String>
        let payments: Set<String>
        let refunds: Set<String>
    }

    func seededFingerprint(seed: UInt64) async throws -> Seeded {
        try await TestDatabase.with { database, url in
            let services = await Services(config: try TestApp.config(databaseURL: url), database: database)
            _ = try await VolumeSeeder(database: database, timeZone: services.calendar.timeZone)
                .seed(.init(orders: 800, seed: seed, days: 60, end: Self.end))
            let fingerprint = try await database.query(
                """
                SELECT md5(string_agg(row, '|' ORDER BY row)) FROM (
                    SELECT o.number || s.number || s.status || s.total_cents || coalesce(s.cancel_reason, '') ||
                           (SELECT string_agg(e.to_status || e.created_at::text, ',' ORDER BY e.id) FROM sub_order_events e WHERE e.sub_order_id = s.id) AS row
                    FROM orders o JOIN sub_orders s ON s.order_id = o.id
                    UNION ALL SELECT p.status || p.amount_cents || coalesce(p.settled_at::text, '') FROM payments p
                    UNION ALL SELECT r.reason || r.status || r.amount_cents FROM refunds r
                    UNION ALL SELECT m.expected_cents || ':' || m.declared_cents FROM remittances m
                    UNION ALL SELECT v.rating || coalesce(v.hidden_note, '') FROM reviews v
                ) rows
                """)[0].decode(String.self)
            let set = { (sql: String) in
                Set(try await database.query(PostgresQuery(unsafeSQL: sql)).map { try $0.decode(String.self) })
            }
            return Seeded(
                fingerprint: fingerprint, discrepancies: try await services.audit.run().map(\.description),
                statuses: try await set("SELECT DISTINCT status FROM sub_orders"), payments: try await set("SELECT DISTINCT status FROM payments"),
                refunds: try await set("SELECT DISTINCT status FROM refunds"))
        }
    }

    /// A business day of a time, in the world's zone.
    static func day(_ column: String) -> String { "(\(column) AT TIME ZONE 'Africa/Nairobi')::date" }

    /// The first time a sub-order's events reached `condition`, as a business day.
    static func eventDay(_ condition: String, of subOrder: String = "s.id") -> String {
        "(SELECT \(day("min(e.created_at)")) FROM sub_order_events e WHERE e.sub_order_id = \(subOrder) AND \(condition))"
    }

    static let placed = "EXISTS (SELECT 1 FROM sub_order_events e WHERE e.sub_order_id = s.id AND e.to_status = 'placed')"

    static let recomputations: [(String, String)] = [
        (
            "analytics_daily_sales",
            """
            WITH placed AS (
                SELECT s.*, \(day("o.created_at")) AS d FROM sub_orders s JOIN orders o ON o.id = s.order_id WHERE \(placed)
            ), delivered AS (
                SELECT s.*, \(eventDay("e.to_status = 'delivered'")) AS d FROM sub_orders s WHERE s.status = 'delivered'
            ), paid AS (
                SELECT r.amount_cents, \(day("r.paid_at")) AS d, coalesce(s.status = 'delivered', false) AS of_delivered
                FROM refunds r LEFT JOIN sub_orders s ON s.id = r.sub_order_id WHERE r.status = 'paid'
            ), days AS (SELECT d FROM placed UNION SELECT d FROM delivered UNION SELECT d FROM paid)
            SELECT days.d,
                (SELECT count(DISTINCT order_id) FROM placed WHERE placed.d = days.d),
                (SELECT count(*) FROM placed WHERE placed.d = days.d),
                (SELECT coalesce(sum(items_total_cents), 0)::bigint FROM placed WHERE placed.d = days.d),
                (SELECT coalesce(sum(delivery_fee_cents), 0)::bigint FROM placed WHERE placed.d = days.d),
                (SELECT count(*) FROM delivered WHERE delivered.d = days.d),
                (SELECT coalesce(sum(total_cents), 0)::bigint FROM delivered WHERE delivered.d = days.d),
                (SELECT coalesce(sum(commission_cents), 0)::bigint FROM delivered WHERE delivered.d = days.d),
                (SELECT coalesce(sum(amount_cents), 0)::bigint FROM paid WHERE paid.d = days.d),
                (SELECT coalesce(sum(amount_cents), 0)::bigint FROM paid WHERE paid.d = days.d AND of_delivered),
                ((SELECT coalesce(sum(total_cents), 0) FROM delivered WHERE delivered.d = days.d)
                  - (SELECT coalesce(sum(amount_cents), 0) FROM paid WHERE paid.d = days.d AND of_delivered))::bigint,
                (SELECT round(sum(items_total_cents + delivery_fee_cents) / count(DISTINCT order_id))::bigint FROM placed WHERE placed.d = days.d)
            FROM days
            """
        ),
        (
            "analytics_merchant_daily",
            """
            WITH facts AS (
                SELECT s.*, \(placed) AS was_placed, \(day("o.created_at")) AS placed_day,
                       \(eventDay("e.to_status = 'delivered'")) AS delivered_day, \(eventDay("e.to_status = 'cancelled'")) AS cancelled_day,
                       \(eventDay("e.to_status = 'returned'")) AS returned_day,
                       EXISTS (SELECT 1 FROM refunds r WHERE r.sub_order_id = s.id AND r.status IN ('approved', 'paying', 'paid', 'failed')) AS granted
                FROM sub_orders s JOIN orders o ON o.id = s.order_id
            ), paid AS (
                SELECT s.merchant_id, r.amount_cents, \(day("r.paid_at")) AS d, s.status = 'delivered' AS of_delivered
                FROM refunds r JOIN sub_orders s ON s.id = r.sub_order_id WHERE r.status = 'paid'
            ), rated AS (
                SELECT merchant_id, rating, \(day("created_at")) AS d FROM reviews WHERE hidden_at IS NULL
            ), keys AS (
                SELECT merchant_id, placed_day AS d FROM facts WHERE was_placed
                UNION SELECT merchant_id, delivered_day FROM facts WHERE delivered_day IS NOT NULL
                UNION SELECT merchant_id, cancelled_day FROM facts WHERE cancelled_day IS NOT NULL
                UNION SELECT merchant_id, returned_day FROM facts WHERE returned_day IS NOT NULL
                UNION SELECT merchant_id, d FROM paid UNION SELECT merchant_id, d FROM rated
            )
            SELECT k.merchant_id, k.d,
                (SELECT count(*) FROM facts f WHERE f.merchant_id = k.merchant_id AND f.was_placed AND f.placed_day = k.d),
                (SELECT coalesce(sum(items_total_cents), 0)::bigint FROM facts f WHERE f.merchant_id = k.merchant_id AND f.was_placed AND f.placed_day = k.d),
                (SELECT count(*) FROM facts f WHERE f.merchant_id = k.merchant_id AND f.delivered_day = k.d),
                (SELECT coalesce(sum(commission_cents), 0)::bigint FROM facts f WHERE f.merchant_id = k.merchant_id AND f.delivered_day = k.d),
                (SELECT coalesce(sum(merchant_payout_cents), 0)::bigint FROM facts f WHERE f.merchant_id = k.merchant_id AND f.delivered_day = k.d),
                (SELECT count(*) FROM facts f WHERE f.merchant_id = k.merchant_id AND f.delivered_day = k.d AND f.granted),
                (SELECT count(*) FROM facts f WHERE f.merchant_id = k.merchant_id AND f.cancelled_day = k.d AND f.cancel_reason = 'customer'),
                (SELECT count(*) FROM facts f WHERE f.merchant_id = k.merchant_id AND f.cancelled_day = k.d AND f.cancel_reason = 'merchant_rejected'),
                (SELECT count(*) FROM facts f WHERE f.merchant_id = k.merchant_id AND f.cancelled_day = k.d AND f.cancel_reason = 'payment_expired'),
                (SELECT count(*) FROM facts f WHERE f.merchant_id = k.merchant_id AND f.cancelled_day = k.d AND f.cancel_reason = 'admin'),
                (SELECT count(*) FROM facts f WHERE f.merchant_id = k.merchant_id AND f.returned_day = k.d),
                (SELECT coalesce(sum(amount_cents), 0)::bigint FROM paid p WHERE p.merchant_id = k.merchant_id AND p.d = k.d),
                (SELECT coalesce(sum(amount_cents), 0)::bigint FROM paid p WHERE p.merchant_id = k.merchant_id AND p.d = k.d AND p.of_delivered),
                (SELECT count(*) FROM rated v WHERE v.merchant_id = k.merchant_id AND v.d = k.d),
                (SELECT coalesce(sum(rating), 0)::bigint FROM rated v WHERE v.merchant_id = k.merchant_id AND v.d = k.d)
            FROM keys k
            """
        ),
        (
            "analytics_product_daily",
            """
            WITH lines AS (
                SELECT i.*, \(placed.replacingOccurrences(of: "s.id", with: "i.sub_order_id")) AS was_placed,
                       (SELECT \(day("o.created_at")) FROM sub_orders s JOIN orders o ON o.id = s.order_id WHERE s.id = i.sub_order_id) AS placed_day,
                       \(eventDay("e.to_status = 'delivered'", of: "i.sub_order_id")) AS delivered_day
                FROM order_items i
            ), shares AS (
                -- Each paid refund's items: the amount (at most their value) in proportion to value,
                -- in whole cents, what the division leaves on the item with the lowest id.
                SELECT i.product_id, ri.quantity, \(day("r.paid_at")) AS d,
                       least(r.amount_cents, v.total) * (i.unit_price_cents * ri.quantity) / v.total
                       + CASE WHEN ri.order_item_id = v.first
                              THEN least(r.amount_cents, v.total) - (SELECT sum(least(r.amount_cents, v.total) * (i2.unit_price_cents * r2.quantity) / v.total)
                                                                    FROM refund_items r2 JOIN order_items i2 ON i2.id = r2.order_item_id WHERE r2.refund_id = r.id)
                              ELSE 0 END AS cents
                FROM refunds r
                JOIN refund_items ri ON ri.refund_id = r.id
                JOIN order_items i ON i.id = ri.order_item_id
                CROSS JOIN LATERAL (
                    SELECT sum(i3.unit_price_cents * r3.quantity)::bigint AS total, min(r3.order_item_id::text)::uuid AS first
                    FROM refund_items r3 JOIN order_items i3 ON i3.id = r3.order_item_id WHERE r3.refund_id = r.id
                ) v
                WHERE r.status = 'paid'
            ), rated AS (
                SELECT product_id, rating, \(day("created_at")) AS d FROM reviews WHERE hidden_at IS NULL
            ), keys AS (
                SELECT product_id, placed_day AS d FROM lines WHERE was_placed
                UNION SELECT product_id, delivered_day FROM lines WHERE delivered_day IS NOT NULL
                UNION SELECT product_id, d FROM shares UNION SELECT product_id, d FROM rated
            )
            SELECT k.product_id, (SELECT merchant_id FROM products p WHERE p.id = k.product_id), k.d,
                (SELECT coalesce(sum(quantity), 0)::bigint FROM lines l WHERE l.product_id = k.product_id AND l.was_placed AND l.placed_day = k.d),
                (SELECT coalesce(sum(line_total_cents), 0)::bigint FROM lines l WHERE l.product_id = k.product_id AND l.was_placed AND l.placed_day = k.d),
                (SELECT coalesce(sum(quantity), 0)::bigint FROM lines l WHERE l.product_id = k.product_id AND l.delivered_day = k.d),
                (SELECT coalesce(sum(line_total_cents), 0)::bigint FROM lines l WHERE l.product_id = k.product_id AND l.delivered_day = k.d),
                (SELECT coalesce(sum(quantity), 0)::bigint FROM shares x WHERE x.product_id = k.product_id AND x.d = k.d),
                (SELECT coalesce(sum(cents), 0)::bigint FROM shares x WHERE x.product_id = k.product_id AND x.d = k.d),
                (SELECT count(*) FROM rated v WHERE v.product_id = k.product_id AND v.d = k.d),
                (SELECT coalesce(sum(rating), 0)::bigint FROM rated v WHERE v.product_id = k.product_id AND v.d = k.d)
            FROM keys k
            """
        ),
        (
            "analytics_hub_daily",
            """
            WITH activity AS (
                SELECT \(day("created_at")) AS d FROM sub_order_events WHERE hub_id IS NOT NULL
                UNION SELECT \(day("created_at")) FROM delivery_attempts
                UNION SELECT \(day("collected_at")) FROM cod_collections
                UNION SELECT \(day("created_at")) FROM remittances
            ), grid AS (
                SELECT h.id AS hub_id, g::date AS d
                FROM hubs h, generate_series((SELECT min(d) FROM activity)::timestamp, (SELECT max(d) FROM activity)::timestamp, '1 day') g
            ), deliveries AS (
                SELECT s.destination_hub_id AS hub_id, \(eventDay("e.to_status = 'delivered'")) AS d,
                       (SELECT min(e.created_at) FROM sub_order_events e WHERE e.sub_order_id = s.id AND e.to_status = 'delivered')
                       - (SELECT min(e.created_at) FROM sub_order_events e WHERE e.sub_order_id = s.id AND e.from_status = 'accepted'
                          AND e.to_status IN ('at_origin_hub', 'at_destination_hub')) AS took
                FROM sub_orders s WHERE s.status = 'delivered'
            )
            SELECT g.d, g.hub_id,
                (SELECT count(*) FROM sub_order_events e WHERE e.hub_id = g.hub_id AND \(day("e.created_at")) = g.d
                   AND e.from_status IN ('accepted', 'in_transit') AND e.to_status IN ('at_origin_hub', 'at_destination_hub')),
                (SELECT count(*) FROM sub_order_events e WHERE e.hub_id = g.hub_id AND \(day("e.created_at")) = g.d AND e.to_status = 'in_transit'),
                (SELECT count(*) FROM sub_order_events e WHERE e.hub_id = g.hub_id AND \(day("e.created_at")) = g.d AND e.to_status = 'delivered'),
                (SELECT count(*) FROM delivery_attempts a WHERE a.hub_id = g.hub_id AND \(day("a.created_at")) = g.d),
                (SELECT round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY took)) / 3600, 2)
                 FROM deliveries x WHERE x.hub_id = g.hub_id AND x.d = g.d),
                (SELECT coalesce(sum(amount_cents), 0)::bigint FROM cod_collections c WHERE c.hub_id = g.hub_id AND \(day("c.collected_at")) = g.d),
                (SELECT coalesce(sum(expected_cents), 0)::bigint FROM remittances m WHERE m.hub_id = g.hub_id AND \(day("m.created_at")) = g.d),
                (SELECT coalesce(sum(declared_cents), 0)::bigint FROM remittances m WHERE m.hub_id = g.hub_id AND \(day("m.created_at")) = g.d),
                (SELECT coalesce(sum(variance_cents), 0)::bigint FROM remittances m WHERE m.hub_id = g.hub_id AND \(day("m.created_at")) = g.d),
                ((SELECT coalesce(sum(amount_cents), 0) FROM cod_collections c WHERE c.hub_id = g.hub_id AND \(day("c.collected_at")) <= g.d)
                 - (SELECT coalesce(sum(expected_cents), 0) FROM remittances m WHERE m.hub_id = g.hub_id AND \(day("m.created_at")) <= g.d))::bigint
            FROM grid g
            """
        ),
        (
            "analytics_payment_mix",
            """
            WITH tries AS (
                SELECT \(day("settled_at")) AS d, 'mpesa' AS method, status,
                       CASE WHEN status = 'succeeded' THEN received_cents ELSE 0 END AS cents
                FROM payments WHERE settled_at IS NOT NULL
                UNION ALL SELECT \(day("collected_at")), 'cod', 'succeeded', amount_cents FROM cod_collections
                UNION ALL SELECT \(day("a.created_at")), 'cod', 'failed', 0
                FROM delivery_attempts a JOIN sub_orders s ON s.id = a.sub_order_id JOIN orders o ON o.id = s.order_id
                WHERE o.payment_method = 'cod'
            ), keys AS (SELECT DISTINCT d, method FROM tries)
            SELECT k.d, k.method,
                (SELECT count(*) FROM tries t WHERE t.d = k.d AND t.method = k.method),
                (SELECT count(*) FROM tries t WHERE t.d = k.d AND t.method = k.method AND t.status = 'succeeded'),
                (SELECT count(*) FROM tries t WHERE t.d = k.d AND t.method = k.method AND t.status = 'failed'),
                (SELECT count(*) FROM tries t WHERE t.d = k.d AND t.method = k.method AND t.status = 'flagged'),
                round((SELECT count(*) FROM tries t WHERE t.d = k.d AND t.method = k.method AND t.status = 'succeeded')::numeric
                      / (SELECT count(*) FROM tries t WHERE t.d = k.d AND t.method = k.method), 4),
                (SELECT sum(cents)::bigint FROM tries t WHERE t.d = k.d AND t.method = k.method)
            FROM keys k
            """
        ),
        (
            "analytics_refund_facts",
            """
            SELECT r.id, r.sub_order_id, r.order_id, s.merchant_id, r.reason, r.status, r.automatic, r.amount_cents,
                   s.status IS NOT DISTINCT FROM 'delivered', \(day("r.created_at")), \(day("r.paid_at")), r.decided_at - r.created_at
            FROM refunds r LEFT JOIN sub_orders s ON s.id = r.sub_order_id
            """
        ),
    ]
}
