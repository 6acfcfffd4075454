import Core
import Foundation
import Logging
import PostgresNIO

/// Analytics (SPEC section 9): readers of the materialized views of migration 0014 and their
/// refresh. Every figure is computed by PostgreSQL, in the views or, over a range of days, by
/// summing the views' day (or month) rows in the reading statement; nothing here adds numbers.
///
/// Every answer is read in one repeatable-read transaction, so its rows, totals and
/// `refreshed_at` come from the same refresh.
public struct Analytics: Sendable {
    /// The rows of one answer.
    public struct Report: Sendable {
        public let range: DateRange
        public let refreshedAt: Date
        public let rows: AnalyticsTable
        /// The range's totals, for the reports that have them (sales, payments).
        public let totals: AnalyticsTable?
        public let nextCursor: String?
    }

    /// A merchant's own analytics: its row of the merchant view and a page of its products.
    public struct MerchantReport: Sendable {
        public let range: DateRange
        public let refreshedAt: Date
        public let merchant: AnalyticsTable
        public let products: AnalyticsTable
        public let nextCursor: String?
    }

    /// Which rows of a list: a page (JSON), or every row of the range (a CSV export).
    public enum Rows: Sendable {
        case page(limit: Int?, cursor: String?)
        case all
    }

    let database: Database
    let effects: Effects
    let calendar: BusinessCalendar
    let maximumRangeDays: Int

    public init(database: Database, effects: Effects, calendar: BusinessCalendar, maximumRangeDays: Int) {
        self.database = database
        self.effects = effects
        self.calendar = calendar
        self.maximumRangeDays = maximumRangeDays
    }

    /// The business days asked for: `from`/`to` as `yyyy-MM-dd`, by default the 30 days to today.
    public func range(from: String?, to: String?) throws(Problem) -> DateRange {
        try DateRange(from: from, to: to, today: effects.now(), calendar: calendar, maximumDays: maximumRangeDays)
    }

    // MARK: Reports

    /// One row per day of the range (days without activity are zeros), and the range's totals.
    public func sales(_ range: DateRange) async throws -> Report {
        try await report(range, views: ["analytics_daily_sales"]) { connection, logger in
            var statement = Statement()
            let days = statement.days(range)
            let rows = try await statement.table(
                ["day"] + Self.salesFigures + ["average_order_value_cents"],
                """
                SELECT to_char(g.day, 'YYYY-MM-DD'), \(Self.salesFigures.map { "coalesce(v.\($0), 0)" }.joined(separator: ", ")),
                       v.average_order_value_cents
                FROM \(days) LEFT JOIN analytics_daily_sales v ON v.day = g.day::date
                ORDER BY g.day
                """, on: connection, logger: logger)
            var sums = Statement()
            let within = sums.within(range, column: "day")
            let totals = try await sums.table(
                Self.salesFigures + ["average_order_value_cents"],
                """
                SELECT \(Self.salesFigures.map { "coalesce(sum(\($0)), 0)::bigint" }.joined(separator: ", ")),
                       CASE WHEN sum(orders) > 0 THEN round(sum(gmv_cents + delivery_fees_cents) / sum(orders))::bigint END
                FROM analytics_daily_sales WHERE \(within)
                """, on: connection, logger: logger)
            return (rows, totals, nil)
        }
    }

    /// One row per merchant with activity in the range, by GMV (highest first).
    public func merchants(_ range: DateRange, rows: Rows) async throws -> Report {
        let page = try rows.page(ordering: Self.byGMV)
        return try await report(range, views: ["analytics_merchant_daily", "analytics_merchant_running"]) { connection, logger in
            try await Self.merchantRows(range, merchantID: nil, page: page, on: connection, logger: logger)
        }
    }

    /// One row per product with activity in the range, by sales (highest first).
    public func products(_ range: DateRange, rows: Rows) async throws -> Report {
        let page = try rows.page(ordering: Self.bySales)
        return try await report(range, views: ["analytics_product_daily", "analytics_product_running"]) { connection, logger in
            try await Self.productRows(range, merchantID: nil, page: page, on: connection, logger: logger)
        }
    }

    /// One row per hub and day of the range, by day then hub; optionally one hub's.
    public func hubs(_ range: DateRange, hubID: UUID?, rows: Rows) async throws -> Report {
        let page = try rows.page(ordering: Self.byDay)
        let after = try page?.after.map { after throws(Problem) in
            guard let day = Self.day(ofKey: after.key) else { throw Problem.invalidCursor("is not a cursor this service issued") }
            return (day: day, hub: after.id)
        }
        return try await report(range, views: ["analytics_hub_daily"]) { connection, logger in
            var statement = Statement()
            var conditions = [statement.within(range, column: "v.day")]
            if let hubID { conditions.append("v.hub_id = \(statement.bind(hubID))") }
            if let after { conditions.append("(v.day, v.hub_id) > (\(statement.bind(after.day))::date, \(statement.bind(after.hub)))") }
            // Bound before the call: `statement.table` takes the binds as they are when it is called.
            let limit = statement.limit(page)
            let table = try await statement.table(
                Self.hubColumns,
                """
                SELECT to_char(v.day, 'YYYY-MM-DD'), v.hub_id, h.code, h.name, v.parcels_received, v.parcels_dispatched,
                       v.parcels_delivered, v.failed_attempts, v.median_hours_to_delivery, v.cod_collected_cents,
                       v.cod_remitted_cents, v.cod_declared_cents, v.cod_variance_cents, v.cod_outstanding_cents
                FROM analytics_hub_daily v JOIN hubs h ON h.id = v.hub_id
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY v.day, v.hub_id\(limit)
                """, page: page, on: connection, logger: logger)
            return try Self.paged(table, page) { row in
                let day = table[row, "day"].text.flatMap { Int64($0.replacingOccurrences(of: "-", with: "")) }
                let hub = table[row, "hub_id"].text.flatMap(UUID.init(uuidString:))
                return day.flatMap { day in hub.map { Cursor(ordering: Self.byDay, key: day, id: $0) } }
            }
        }
    }

    /// One row per day and method (cod, mpesa) of the range, and each method's totals.
    public func payments(_ range: DateRange) async throws -> Report {
        try await report(range, views: ["analytics_payment_mix"]) { connection, logger in
            var statement = Statement()
            let days = statement.days(range)
            let rows = try await statement.table(
                ["day", "method"] + Self.paymentFigures + ["success_rate"],
                """
                SELECT to_char(g.day, 'YYYY-MM-DD'), m.method, \(Self.paymentFigures.map { "coalesce(v.\($0), 0)" }.joined(separator: ", ")),
                       v.success_rate
                FROM \(days) CROSS JOIN (VALUES ('cod'), ('mpesa')) AS m(method)
                LEFT JOIN analytics_payment_mix v ON v.day = g.day::date AND v.method = m.method
                ORDER BY g.day, m.method
                """, on: connection, logger: logger)
            var sums = Statement()
            let within = sums.within(range, column: "v.day")
            let totals = try await sums.table(
                ["method"] + Self.paymentFigures + ["success_rate"],
                """
                SELECT m.method, \(Self.paymentFigures.map { "coalesce(sum(v.\($0)), 0)::bigint" }.joined(separator: ", ")),
                       round(sum(v.successes)::numeric / nullif(sum(v.attempts), 0), 4)
                FROM (VALUES ('cod'), ('mpesa')) AS m(method)
                LEFT JOIN analytics_payment_mix v ON v.method = m.method AND \(within)
                GROUP BY m.method ORDER BY m.method
                """, on: connection, logger: logger)
            return (rows, totals, nil)
        }
    }

    /// One row per reason and status of the refunds created in the range.
    public func refunds(_ range: DateRange) async throws -> Report {
        try await report(range, views: ["analytics_refund_facts"]) { connection, logger in
            var statement = Statement()
            let within = statement.within(range, column: "created_day")
            let table = try await statement.table(
                ["reason", "status", "count", "amount_cents", "median_hours_to_decision"],
                """
                SELECT reason, status, count(*), sum(amount_cents)::bigint,
                       round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY time_to_decision)) / 3600, 2)
                FROM analytics_refund_facts WHERE \(within)
                GROUP BY reason, status ORDER BY reason, status
                """, on: connection, logger: logger)
            return (table, nil, nil)
        }
    }

    /// The merchant's own row (zeros without activity) and a page of its products.
    public func merchant(_ merchantID: UUID, range: DateRange, products rows: Rows) async throws -> MerchantReport {
        let page = try rows.page(ordering: Self.bySales)
        let views = ["analytics_merchant_daily", "analytics_merchant_running", "analytics_product_daily", "analytics_product_running"]
        let (refreshedAt, (merchant, products)) = try await answer(views: views) { connection, logger in
            (try await Self.merchantRows(range, merchantID: merchantID, page: nil, on: connection, logger: logger),
             try await Self.productRows(range, merchantID: merchantID, page: page, on: connection, logger: logger))
        }
        return MerchantReport(
            range: range, refreshedAt: refreshedAt, merchant: merchant.rows, products: products.rows, nextCursor: products.next)
    }

    // MARK: Merchants and products over a range

    static func merchantRows(_ range: DateRange, merchantID: UUID?, page: PageRequest?, on connection: PostgresConnection, logger: Logger)
        async throws -> Answer
    {
        var statement = Statement()
        let totals = statement.rollup(
            daily: "analytics_merchant_daily", running: "analytics_merchant_running", key: "merchant_id", figures: merchantFigures,
            range: range, merchantID: merchantID)
        // A merchant asking for its own row gets it with zeros when it sold nothing in the range.
        var conditions = [merchantID.map { "m.id = \(statement.bind($0))" } ?? "t.merchant_id IS NOT NULL"]
        if let after = page?.after {
            conditions.append("(coalesce(t.gmv_cents, 0), m.id) < (\(statement.bind(after.key)), \(statement.bind(after.id)))")
        }
        let figure = { (name: String) in "coalesce(t.\(name), 0)" }
        let limit = statement.limit(page)
        let table = try await statement.table(
            merchantColumns,
            """
            WITH totals AS (\(totals))
            SELECT m.id, m.business_name, \(["sub_orders", "delivered", "cancelled_customer", "cancelled_merchant_rejected",
                "cancelled_payment_expired", "cancelled_admin", "returned", "gmv_cents", "commission_cents", "payout_cents",
                "refunds_paid_cents", "delivered_refunds_paid_cents"].map(figure).joined(separator: ", ")),
                   \(figure("payout_cents")) - \(figure("delivered_refunds_paid_cents")), \(figure("delivered_refunded")),
                   CASE WHEN t.delivered > 0 THEN round(t.delivered_refunded::numeric / t.delivered, 4) END,
                   \(figure("review_count")),
                   CASE WHEN t.review_count > 0 THEN round(t.rating_total::numeric / t.review_count, 2) END
            FROM merchants m LEFT JOIN totals t ON t.merchant_id = m.id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(figure("gmv_cents")) DESC, m.id DESC\(limit)
            """, page: page, on: connection, logger: logger)
        return try paged(table, page) { row in
            guard let gmv = table[row, "gmv_cents"].integer, let id = table[row, "merchant_id"].text.flatMap(UUID.init(uuidString:)) else {
                return nil
            }
            return Cursor(ordering: byGMV, key: gmv, id: id)
        }
    }

    static func productRows(_ range: DateRange, merchantID: UUID?, page: PageRequest?, on connection: PostgresConnection, logger: Logger)
        async throws -> Answer
    {
        var statement = Statement()
        let totals = statement.rollup(
            daily: "analytics_product_daily", running: "analytics_product_running", key: "product_id", figures: productFigures,
            range: range, merchantID: merchantID)
        var conditions = ["true"]
        if let after = page?.after {
            conditions.append("(t.sales_cents, t.product_id) < (\(statement.bind(after.key)), \(statement.bind(after.id)))")
        }
        let order = "ORDER BY t.sales_cents DESC, t.product_id DESC"
        // A page is cut before the names are joined: thousands of products rank, a page shows.
        // An export joins every row, sorted once.
        let cut = page.map { " \(order)\(statement.limit($0))" } ?? ""
        let table = try await statement.table(
            productColumns,
            """
            WITH totals AS (\(totals)),
            ranked AS (SELECT * FROM totals t WHERE \(conditions.joined(separator: " AND "))\(cut))
            SELECT p.id, p.name, m.id, m.business_name, t.units_sold, t.sales_cents, t.units_delivered, t.revenue_cents,
                   t.refunded_units, t.refunds_cents, t.review_count,
                   CASE WHEN t.review_count > 0 THEN round(t.rating_total::numeric / t.review_count, 2) END
            FROM ranked t JOIN products p ON p.id = t.product_id JOIN merchants m ON m.id = p.merchant_id
            \(order)
            """, page: page, on: connection, logger: logger)
        return try paged(table, page) { row in
            guard let sales = table[row, "sales_cents"].integer, let id = table[row, "product_id"].text.flatMap(UUID.init(uuidString:))
            else { return nil }
            return Cursor(ordering: bySales, key: sales, id: id)
        }
    }

    // MARK: Columns

    static let salesFigures = [
        "orders", "sub_orders", "gmv_cents", "delivery_fees_cents", "delivered_sub_orders", "delivered_revenue_cents",
        "commission_cents", "refunds_paid_cents", "delivered_refunds_paid_cents", "net_revenue_cents",
    ]
    static let paymentFigures = ["attempts", "successes", "failures", "flagged", "amount_cents"]
    static let hubColumns = [
        "day", "hub_id", "hub_code", "hub_name", "parcels_received", "parcels_dispatched", "parcels_delivered", "failed_attempts",
        "median_hours_to_delivery", "cod_collected_cents", "cod_remitted_cents", "cod_declared_cents", "cod_variance_cents",
        "cod_outstanding_cents",
    ]
    /// What the merchant views sum over a range.
    static let merchantFigures = [
        "sub_orders", "gmv_cents", "delivered", "commission_cents", "payout_cents", "delivered_refunded", "cancelled_customer",
        "cancelled_merchant_rejected", "cancelled_payment_expired", "cancelled_admin", "returned", "refunds_paid_cents",
        "delivered_refunds_paid_cents", "review_count", "rating_total",
    ]
    static let merchantColumns = [
        "merchant_id", "merchant_name", "sub_orders", "delivered", "cancelled_customer", "cancelled_merchant_rejected",
        "cancelled_payment_expired", "cancelled_admin", "returned", "gmv_cents", "commission_cents", "payout_cents", "refunds_paid_cents",
        "delivered_refunds_paid_cents", "payout_due_cents", "delivered_refunded", "refund_rate", "review_count", "average_rating",
    ]
    static let productFigures = [
        "units_sold", "sales_cents", "units_delivered", "revenue_cents", "refunded_units", "refunds_cents", "review_count",
        "rating_total",
    ]
    static let productColumns = [
        "product_id", "product_name", "merchant_id", "merchant_name", "units_sold", "sales_cents", "units_delivered",
        "revenue_cents", "refunded_units", "refunds_cents", "review_count", "average_rating",
    ]

    // MARK: Paging

    /// Cursor orderings: merchants by GMV, products by sales, hub rows by day (`yyyyMMdd`) then hub.
    static let byGMV = "gmv"
    static let bySales = "sales"
    static let byDay = "day"

    /// The `yyyy-MM-dd` day of a hub cursor's `yyyyMMdd` key, when it is one.
    static func day(ofKey key: Int64) -> String? {
        guard (1_01_01...9999_12_31).contains(key) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let parts = DateComponents(year: Int(key / 10_000), month: Int(key / 100 % 100), day: Int(key % 100))
        guard let date = calendar.date(from: parts) else { return nil }
        let text = DateRange.text(of: date, calendar)
        return text.replacingOccurrences(of: "-", with: "") == String(format: "%08d", key) ? text : nil
    }

    /// A page built from `limit + 1` fetched rows: the extra row only says another page exists.
    static func paged(_ table: AnalyticsTable, _ page: PageRequest?, position: (Int) -> Cursor?) throws -> Answer {
        guard let page, table.count > page.limit else { return (table, nil, nil) }
        guard let cursor = position(page.limit - 1) else { throw AnalyticsError.unpageable }
        return (table.prefix(page.limit), nil, cursor.encoded)
    }

    // MARK: Reading

    /// Runs `body` in a read-only repeatable-read transaction with the time the views were
    /// refreshed: all views refresh in one transaction, so what `body` reads is of that moment.
    private func answer<Result: Sendable>(
        views: [String], _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> Result
    ) async throws -> (refreshedAt: Date, result: Result) {
        let logger = database.logger
        return try await database.transaction(.repeatableReadOnly) { connection in
            let refreshed = try await connection.exec(
                "SELECT min(refreshed_at) FROM analytics_refreshes WHERE view_name = ANY(\(views))", logger: logger)
            guard let refreshedAt = try refreshed.first?.decode(Date?.self) else { throw AnalyticsError.neverRefreshed }
            return (refreshedAt, try await body(connection, logger))
        }
    }

    /// A report of `views` over `range`.
    private func report(_ range: DateRange, views: [String], _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> Answer)
        async throws -> Report
    {
        let (refreshedAt, page) = try await answer(views: views, body)
        return Report(range: range, refreshedAt: refreshedAt, rows: page.rows, totals: page.totals, nextCursor: page.next)
    }

    /// Rows as read: the page's rows, the range's totals where the report has them, the cursor of
    /// the next page.
    typealias Answer = (rows: AnalyticsTable, totals: AnalyticsTable?, next: String?)
}

extension Analytics.Rows {
    func page(ordering: String) throws(Problem) -> PageRequest? {
        switch self {
        case .all: nil
        case .page(let limit, let cursor): try PageRequest(limit: limit, cursor: cursor, ordering: ordering)
        }
    }
}

/// A statement assembled from fixed SQL and bound values: every value a client sent is a
/// parameter, only the report's own column names and expressions are text.
struct Statement {
    private var binds = PostgresBindings()

    mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// `column` within the range, both days included.
    mutating func within(_ range: DateRange, column: String) -> String {
        "\(column) BETWEEN \(bind(range.from))::date AND \(bind(range.to))::date"
    }

    /// Every day of the range as `g(day)`.
    mutating func days(_ range: DateRange) -> String {
        "generate_series(\(bind(range.from))::date::timestamp, \(bind(range.to))::date::timestamp, interval '1 day') AS g(day)"
    }

    mutating func limit(_ page: PageRequest?) -> String {
        page.map { " LIMIT \(bind($0.limit + 1))" } ?? ""
    }

    /// The figures of each merchant (product) with activity in the range, as `key` and the
    /// `figures`: the whole months of the range from the running totals (the total at its last
    /// month less the total before its first: two rows each however long the range), the days
    /// before and after them from the daily view.
    mutating func rollup(daily: String, running: String, key: String, figures: [String], range: DateRange, merchantID: UUID?) -> String {
        let from = bind(range.from)
        let to = bind(range.to)
        let merchant = merchantID.map { bind($0) }
        let ofMerchant = { (table: String) in merchant.map { " AND \(table)merchant_id = \($0)" } ?? "" }
        // The first day of the first month wholly inside the range, and of the month after the
        // last one; when no month is whole, the first is not before the second.
        let wholeFrom = "(date_trunc('month', (\(from)::date - 1)::timestamp) + interval '1 month')::date"
        let wholeTo = "date_trunc('month', (\(to)::date + 1)::timestamp)::date"
        // The running total as it stood at the end of the month before `month`; a month after the
        // last with any activity stands where the last one does.
        let monthBefore = { (month: String) in "least((\(month) - interval '1 month')::date, (SELECT max(month) FROM \(running)))" }
        // One row per key from each side, joined rather than summed: grouping thousands of
        // products to add nothing to most of them was most of a year's ranking.
        return """
            SELECT \(key), \(figures.map { "coalesce(w.\($0), 0) + coalesce(d.\($0), 0) AS \($0)" }.joined(separator: ", "))
            FROM (
                SELECT e.\(key), \(figures.map { "e.\($0) - coalesce(s.\($0), 0) AS \($0)" }.joined(separator: ", "))
                FROM \(running) e
                LEFT JOIN \(running) s ON s.\(key) = e.\(key) AND s.month = \(monthBefore(wholeFrom))
                WHERE \(wholeFrom) < \(wholeTo) AND e.month = \(monthBefore(wholeTo))
                    AND e.active_months > coalesce(s.active_months, 0)\(ofMerchant("e."))
            ) w
            FULL JOIN (
                SELECT \(key), \(figures.map { "sum(\($0))::bigint AS \($0)" }.joined(separator: ", ")) FROM \(daily)
                WHERE day BETWEEN \(from)::date AND \(to)::date AND NOT (day >= \(wholeFrom) AND day < \(wholeTo))\(ofMerchant(""))
                GROUP BY \(key)
            ) d USING (\(key))
            """
    }

    func table(_ columns: [String], _ sql: String, on connection: PostgresConnection, logger: Logger) async throws -> AnalyticsTable {
        try AnalyticsTable(columns: columns, reading: try await connection.exec(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
    }

    /// The rows of a list: a page as rows; every row (an export) read as one row holding an
    /// array per column, kept as those arrays (`ColumnArrays`).
    ///
    /// PostgresNIO handles each row it receives as a message through its state machines, and
    /// each cell as a slice: for a year's product export (4,000 rows of 12 columns) that was over
    /// half of the service's time. One row of twelve arrays carries the same values.
    ///
    /// Each array's element `i` is row `i`: one plain aggregate takes every array's values from
    /// the same rows in the same order. That order is `sql`'s `ORDER BY`: the aggregate reads the
    /// sorted subquery alone, with nothing between (the plan is an Aggregate over the Sort).
    /// PostgreSQL's manual (4.2.7) gives this form for ordered input and says it "will usually
    /// work"; what can disturb the order is an outer query that joins or groups the rows before
    /// aggregating them, which this one never does. Ordering each aggregate itself
    /// (`array_agg(x ORDER BY ...)`) sorted once per column on PostgreSQL 15: 5 ms more for a
    /// year's products.
    func table(_ columns: [String], _ sql: String, page: PageRequest?, on connection: PostgresConnection, logger: Logger) async throws
        -> AnalyticsTable
    {
        guard page == nil else { return try await table(columns, sql, on: connection, logger: logger) }
        let names = columns.indices.map { "c\($0)" }
        let arrays = "SELECT \(names.map { "array_agg(x.\($0))" }.joined(separator: ", ")) FROM (\(sql)) AS x(\(names.joined(separator: ", ")))"
        let rows = try await connection.exec(PostgresQuery(unsafeSQL: arrays, binds: binds), logger: logger)
        guard let row = rows.first else { throw AnalyticsError.columnsDiffer(expected: columns.count, got: 0) }
        return try AnalyticsTable(columns: columns, readingArrays: row)
    }
}
