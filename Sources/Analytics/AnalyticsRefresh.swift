import Core
import Foundation
import PostgresNIO

extension Analytics {
    /// The materialized views in the order they are refreshed: the facts first, then the views
    /// that count them, the month rollups after their days, running totals after their months.
    public static let views = [
        "analytics_sub_order_facts", "analytics_refund_facts", "analytics_daily_sales", "analytics_merchant_daily",
        "analytics_merchant_monthly", "analytics_merchant_running", "analytics_product_daily", "analytics_product_monthly",
        "analytics_product_running", "analytics_hub_daily", "analytics_payment_mix",
    ]

    public struct Refresh: Sendable {
        public let refreshedAt: Date
        /// Each view's refresh, in milliseconds, in refresh order.
        public let durations: [(view: String, milliseconds: Int)]
    }

    /// Refreshes every view (`CONCURRENTLY`: readers keep reading the previous contents) in one
    /// repeatable-read transaction, so all of them count the same snapshot of the tables and
    /// change together at commit. One refresh runs at a time; another waits for it and then
    /// refreshes again from what is current by then.
    public func refresh() async throws -> Refresh {
        let logger = database.logger
        let zone = calendar.timeZone.identifier
        return try await database.transaction(.repeatableRead) { connection in
            // A refresh of a large database runs longer than a request's statement limit.
            try await connection.exec("SET LOCAL statement_timeout = 0", logger: logger)
            try await connection.exec("SET LOCAL lock_timeout = '15min'", logger: logger)
            // Taken before the first read: the snapshot starts once an earlier refresh committed,
            // so this one diffs against the views as that one left them.
            try await connection.exec("LOCK TABLE analytics_refreshes IN EXCLUSIVE MODE", logger: logger)
            try await connection.exec("UPDATE analytics_settings SET time_zone = \(zone)", logger: logger)
            let clock = ContinuousClock()
            var milliseconds: [Int] = []
            for view in Self.views {
                let start = clock.now
                try await connection.exec(PostgresQuery(unsafeSQL: "REFRESH MATERIALIZED VIEW CONCURRENTLY \(view)"), logger: logger)
                let elapsed = (clock.now - start).components
                milliseconds.append(Int(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000))
            }
            let rows = try await connection.exec(
                """
                UPDATE analytics_refreshes r SET refreshed_at = now(), duration_ms = d.ms
                FROM unnest(\(Self.views)::text[], \(milliseconds)::int[]) AS d(name, ms)
                WHERE r.view_name = d.name
                RETURNING r.refreshed_at
                """, logger: logger)
            guard let refreshedAt = try rows.first?.decode(Date.self) else { throw AnalyticsError.neverRefreshed }
            return Refresh(refreshedAt: refreshedAt, durations: Array(zip(Self.views, milliseconds)).map { (view: $0, milliseconds: $1) })
        }
    }
}
