import Analytics
import Core
import Foundation
import OpenAPIRuntime

extension API {
    func getSalesAnalytics(_ input: Operations.GetSalesAnalytics.Input) async throws -> Operations.GetSalesAnalytics.Output {
        let analytics = services.analytics
        let report = try await analytics.sales(try analytics.range(from: input.query.from, to: input.query.to))
        if Self.wantsCSV(input.headers.accept) { return .ok(.init(body: .csv(.init(report.rows.csv)))) }
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: report.range.from, to: report.range.to, refreshedAt: report.refreshedAt, items: try report.rows.decoded(),
                        totals: try report.totals.decodedRow()))))
    }

    func getMerchantAnalytics(_ input: Operations.GetMerchantAnalytics.Input) async throws -> Operations.GetMerchantAnalytics.Output {
        let csv = Self.wantsCSV(input.headers.accept)
        let report = try await services.analytics.merchants(
            try services.analytics.range(from: input.query.from, to: input.query.to),
            rows: .list(csv: csv, limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: csv ? .csv(.init(report.rows.csv)) : .json(try .init(report))))
    }

    func getHubAnalytics(_ input: Operations.GetHubAnalytics.Input) async throws -> Operations.GetHubAnalytics.Output {
        let csv = Self.wantsCSV(input.headers.accept)
        let report = try await services.analytics.hubs(
            try services.analytics.range(from: input.query.from, to: input.query.to),
            hubID: try input.query.hubId.map { try bodyUUID($0, "hub_id") },
            rows: .list(csv: csv, limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: csv ? .csv(.init(report.rows.csv)) : .json(try .init(report))))
    }

    func getProductAnalytics(_ input: Operations.GetProductAnalytics.Input) async throws -> Operations.GetProductAnalytics.Output {
        let csv = Self.wantsCSV(input.headers.accept)
        let report = try await services.analytics.products(
            try services.analytics.range(from: input.query.from, to: input.query.to),
            rows: .list(csv: csv, limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: csv ? .csv(.init(report.rows.csv)) : .json(try .init(report))))
    }

    func getPaymentAnalytics(_ input: Operations.GetPaymentAnalytics.Input) async throws -> Operations.GetPaymentAnalytics.Output {
        let analytics = services.analytics
        let report = try await analytics.payments(try analytics.range(from: input.query.from, to: input.query.to))
        if Self.wantsCSV(input.headers.accept) { return .ok(.init(body: .csv(.init(report.rows.csv)))) }
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: report.range.from, to: report.range.to, refreshedAt: report.refreshedAt, items: try report.rows.decoded(),
                        totals: try report.totals.decoded()))))
    }

    func getRefundAnalytics(_ input: Operations.GetRefundAnalytics.Input) async throws -> Operations.GetRefundAnalytics.Output {
        let analytics = services.analytics
        let report = try await analytics.refunds(try analytics.range(from: input.query.from, to: input.query.to))
        if Self.wantsCSV(input.headers.accept) { return .ok(.init(body: .csv(.init(report.rows.csv)))) }
        return .ok(
            .init(
                body: .json(
                    .init(from: report.range.from, to: report.range.to, refreshedAt: report.refreshedAt, items: try report.rows.decoded()))))
    }

    func getMyMerchantAnalytics(_ input: Operations.GetMyMerchantAnalytics.Input) async throws -> Operations.GetMyMerchantAnalytics.Output {
        guard let merchantID = try principal().merchantID else { throw Problem.forbidden() }
        let analytics = services.analytics
        let report = try await analytics.merchant(
            merchantID, range: try analytics.range(from: input.query.from, to: input.query.to),
            products: .page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: report.range.from, to: report.range.to, refreshedAt: report.refreshedAt,
                        merchant: try report.merchant.decodedRow(), products: try report.products.decoded(), nextCursor: report.nextCursor))))
    }

    /// CSV when the client accepts `text/csv` and prefers it to JSON (a tie is JSON).
    static func wantsCSV<ContentType: AcceptableProtocol>(_ accept: [AcceptHeaderContentType<ContentType>]) -> Bool {
        func quality(_ types: Set<String>) -> Double? {
            accept.filter { types.contains($0.contentType.rawValue.lowercased()) }.map(\.quality.doubleValue).max()
        }
        guard let csv = quality(["text/csv", "text/*"]), csv > 0 else { return false }
        return csv > (quality(["application/json", "application/*"]) ?? 0)
    }
}

extension Analytics.Rows {
    /// A long list: every row as CSV, a page of it as JSON.
    static func list(csv: Bool, limit: Int?, cursor: String?) -> Self {
        csv ? .all : .page(limit: limit, cursor: cursor)
    }
}

/// The ranked lists (merchants, hubs, products) answer alike: the range, when the views were
/// refreshed, a page of rows and the cursor of the next.
protocol AnalyticsListPage {
    associatedtype Item: Decodable
    init(from: String, to: String, refreshedAt: Date, items: [Item], nextCursor: String?)
}

extension AnalyticsListPage {
    init(_ report: Analytics.Report) throws {
        self.init(
            from: report.range.from, to: report.range.to, refreshedAt: report.refreshedAt, items: try report.rows.decoded(),
            nextCursor: report.nextCursor)
    }
}

extension Components.Schemas.MerchantAnalyticsPage: AnalyticsListPage {}
extension Components.Schemas.HubAnalyticsPage: AnalyticsListPage {}
extension Components.Schemas.ProductAnalyticsPage: AnalyticsListPage {}
