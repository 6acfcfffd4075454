import Analytics
import Core
import Foundation
import Hummingbird
import Identity

/// The admin's analytics dashboards (SPEC section 9): daily sales, hub performance, payment mix
/// and refunds by reason over a range of days, each with a chart drawn on the server, the rows
/// and a CSV download. Every figure is the `Analytics` service's, read from the materialized
/// views exactly as the API reads them; this file only puts the rows on a chart.
struct AnalyticsPages: Sendable {
    let console: Console

    enum Dashboard: String, CaseIterable, Sendable {
        case sales, hubs, payments, refunds

        var label: String {
            switch self {
            case .sales: "Daily sales"
            case .hubs: "Hub performance"
            case .payments: "Payment mix"
            case .refunds: "Refunds by reason"
            }
        }

        var path: String { "/console/admin/analytics/\(rawValue)" }

        /// The report as the API's handler asks for it: every row, which the CSV needs too.
        func report(_ analytics: Analytics, _ range: DateRange) async throws -> Analytics.Report {
            switch self {
            case .sales: try await analytics.sales(range)
            case .hubs: try await analytics.hubs(range, hubID: nil, rows: .all)
            case .payments: try await analytics.payments(range)
            case .refunds: try await analytics.refunds(range)
            }
        }
    }

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        let pages = console.pages
        routes.page("admin/analytics", for: [.admin]) { _ in pages.redirect(to: Dashboard.sales.path) }
        for dashboard in Dashboard.allCases {
            routes.page(RouterPath("admin/analytics/\(dashboard.rawValue)"), for: [.admin]) { visit in try await page(dashboard, visit) }
            routes.page(RouterPath("admin/analytics/\(dashboard.rawValue).csv"), for: [.admin]) { visit in try await csv(dashboard, visit) }
        }
    }

    // MARK: Pages

    struct Tab {
        let label: String
        let href: String
        let current: Bool
    }

    struct Fact {
        let label: String
        let value: String
    }

    struct Row {
        let cells: [String]
    }

    struct Table {
        let title: String
        let columns: [String]
        let rows: [Row]
        /// Long tables (a row per day) start folded under the chart.
        let folded: Bool
        /// Stored, not computed: templates read a value's stored properties only.
        let count: Int
    }

    struct Shown {
        let refreshed: String
        let refreshedISO: String
        let interval: String
        let csv: String
        let chart: SVGChart?
        let empty: Bool
        let facts: [Fact]
        let hasFacts: Bool
        let tables: [Table]
    }

    struct Model {
        let dashboards: [Tab]
        let path: String
        /// The range shown, or what was typed when it was refused.
        let from: String
        let to: String
        let report: Shown?
    }

    private func page(_ dashboard: Dashboard, _ visit: Visit) async throws -> Response {
        let analytics = visit.services.analytics
        let from = visit.query.optional("from")
        let to = visit.query.optional("to")
        let tabs = Dashboard.allCases.map { Tab(label: $0.label, href: $0.path, current: $0 == dashboard) }
        let range: DateRange
        do {
            range = try analytics.range(from: from, to: to)
        } catch {
            let failure = Failure(error)
            let model = Model(dashboards: tabs, path: dashboard.path, from: from ?? "", to: to ?? "", report: nil)
            return visit.render("admin-analytics", title: dashboard.label, model, failure: failure, status: failure.status)
        }
        let report = try await dashboard.report(analytics, range)
        let seconds = visit.services.config.analyticsRefreshInterval.components.seconds
        let facts = report.totals.flatMap(Self.facts) ?? []
        let shown = Shown(
            refreshed: console.dates.format(report.refreshedAt), refreshedISO: report.refreshedAt.formatted(.iso8601),
            interval: seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds) s",
            csv: "\(dashboard.path).csv?from=\(range.from)&to=\(range.to)", chart: chart(dashboard, report),
            empty: report.rows.isEmpty, facts: facts, hasFacts: !facts.isEmpty, tables: tables(dashboard, report))
        let model = Model(dashboards: tabs, path: dashboard.path, from: range.from, to: range.to, report: shown)
        return visit.render("admin-analytics", title: dashboard.label, model)
    }

    /// The API's CSV of the same report (`AnalyticsTable.csv`), as a download.
    private func csv(_ dashboard: Dashboard, _ visit: Visit) async throws -> Response {
        let analytics = visit.services.analytics
        let range = try analytics.range(from: visit.query.optional("from"), to: visit.query.optional("to"))
        let report = try await dashboard.report(analytics, range)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"\(dashboard.rawValue)-\(range.from)-to-\(range.to).csv\"",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: report.rows.csv)))
    }

    // MARK: Charts

    private func chart(_ dashboard: Dashboard, _ report: Analytics.Report) -> SVGChart? {
        let rows = report.rows
        guard !rows.isEmpty else { return nil }
        let indices = rows.indices
        switch dashboard {
        case .sales:
            // One row per day of the range, in order.
            return SVGChart.columns(
                title: "GMV per day", slots: indices.map { Self.text(rows[$0, "day"]) }, series: ["GMV"],
                points: indices.map { .init(slot: $0, series: 0, value: Self.integer(rows[$0, "gmv_cents"])) },
                format: Shillings.format)
        case .payments:
            // One row per day and method, every day of the range.
            return columns(
                "Amount received per day, by method", rows, days: Self.distinct(rows, "day"), series: "method", figure: "amount_cents",
                name: { $0 == "cod" ? "Cash on delivery" : $0 == "mpesa" ? "M-Pesa" : $0 }, format: Shillings.format)
        case .hubs:
            // Rows only for the days a hub had activity: the axis is every day of the range.
            let names = Dictionary(indices.map { (Self.text(rows[$0, "hub_code"]), Self.text(rows[$0, "hub_name"])) }) { first, _ in first }
            return columns(
                "Parcels delivered per day, by hub", rows, days: Self.days(of: report.range), series: "hub_code",
                figure: "parcels_delivered", name: { "\($0) \(names[$0] ?? "")" }, format: { String($0) })
        case .refunds:
            return SVGChart.bars(
                title: "Refund amount by reason and status",
                rows: indices.map { row in
                    let label = "\(Failure.label(Self.text(rows[row, "reason"]))), \(Self.text(rows[row, "status"])) (\(Self.text(rows[row, "count"])))"
                    return (label, Self.integer(rows[row, "amount_cents"]))
                }, format: Shillings.format)
        }
    }

    /// A column chart of `figure` per day, one series per value of the `series` column.
    private func columns(
        _ title: String, _ rows: AnalyticsTable, days: [String], series column: String, figure: String, name: (String) -> String,
        format: (Int64) -> String
    ) -> SVGChart {
        let series = Self.distinct(rows, column).sorted()
        let slot = Dictionary(days.enumerated().map { ($1, $0) }) { first, _ in first }
        let seriesIndex = Dictionary(series.enumerated().map { ($1, $0) }) { first, _ in first }
        let points = rows.indices.compactMap { row -> SVGChart.Point? in
            guard let day = slot[Self.text(rows[row, "day"])], let index = seriesIndex[Self.text(rows[row, column])] else { return nil }
            return SVGChart.Point(slot: day, series: index, value: Self.integer(rows[row, figure]))
        }
        return SVGChart.columns(title: title, slots: days, series: series.map(name), points: points, format: format)
    }

    // MARK: Tables

    private func tables(_ dashboard: Dashboard, _ report: Analytics.Report) -> [Table] {
        var tables: [Table] = []
        if let totals = report.totals, totals.count > 1 { tables.append(Self.table("Totals by method", totals, folded: false)) }
        // The hub's id only repeats its code and name.
        let rows = dashboard == .hubs ? report.rows.without("hub_id") : report.rows
        tables.append(Self.table(dashboard == .refunds ? "By reason and status" : "Every row", rows, folded: dashboard != .refunds))
        return tables
    }

    /// A one-row table (a range's totals) as label and value pairs.
    static func facts(_ table: AnalyticsTable) -> [Fact]? {
        guard table.count == 1 else { return nil }
        return table.columns.indices.map { Fact(label: Failure.label(table.columns[$0]), value: display(table.columns[$0], table[0, table.columns[$0]])) }
    }

    static func table(_ title: String, _ table: AnalyticsTable, folded: Bool) -> Table {
        Table(
            title: title, columns: table.columns.map(Failure.label),
            rows: table.rows.map { row in Row(cells: zip(table.columns, row).map { display($0, $1) }) }, folded: folded,
            count: table.count)
    }

    /// A figure as people read it: amounts in shillings, nothing as a dash.
    static func display(_ column: String, _ value: AnalyticsTable.Value) -> String {
        switch value {
        case .integer(let number): column.hasSuffix("_cents") ? Shillings.format(number) : String(number)
        case .decimal(let text), .text(let text): text
        case .null: "—"
        }
    }

    static func text(_ value: AnalyticsTable.Value) -> String {
        if case .text(let text) = value { text } else { display("", value) }
    }

    /// A chart's figure; an empty one (a median without parcels) is drawn as nothing.
    static func integer(_ value: AnalyticsTable.Value) -> Int64 {
        if case .integer(let number) = value { number } else { 0 }
    }

    /// The values of `column` in the order the rows first name them.
    static func distinct(_ table: AnalyticsTable, _ column: String) -> [String] {
        var seen = Set<String>()
        return table.indices.map { text(table[$0, column]) }.filter { seen.insert($0).inserted }
    }

    /// Every day of the range as `yyyy-MM-dd` (the range's days are already valid dates).
    static func days(of range: DateRange) -> [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let date = { (text: String) -> Date? in
            let parts = text.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3 else { return nil }
            return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
        }
        guard let start = date(range.from), let end = date(range.to), let count = calendar.dateComponents([.day], from: start, to: end).day
        else { return [] }
        return (0...max(count, 0)).compactMap { calendar.date(byAdding: .day, value: $0, to: start) }.map { day in
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        }
    }
}

extension AnalyticsTable {
    /// The same rows without `column`.
    func without(_ column: String) -> AnalyticsTable {
        guard let index = columns.firstIndex(of: column) else { return self }
        return AnalyticsTable(
            columns: columns.enumerated().filter { $0.offset != index }.map(\.element),
            rows: rows.map { $0.enumerated().filter { $0.offset != index }.map(\.element) })
    }
}
