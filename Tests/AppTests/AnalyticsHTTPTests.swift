import Core
import Foundation
import Server
import TestSupport
import Testing

/// The analytics endpoints' input and negotiation; their figures are checked by AnalyticsTests.
@Suite struct AnalyticsHTTPTests {
    /// The next 00:30 in Nairobi (21:30 UTC the day before) and the business days around it. The
    /// clock stays near the real time, so the tokens the service issues are still valid.
    static func nextNairobiHalfPastMidnight() -> (instant: Date, day: @Sendable (Int) -> String) {
        let calendar = {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Africa/Nairobi") ?? .gmt
            return calendar
        }()
        let tomorrow = calendar.startOfDay(for: calendar.date(byAdding: .day, value: 1, to: Date()) ?? Date())
        let instant = tomorrow.addingTimeInterval(30 * 60)
        return (instant, { offset in
            let parts = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .day, value: offset, to: tomorrow) ?? tomorrow)
            return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        })
    }

    @Test func datesAreBusinessDaysInARangeOfLimitedLength() async throws {
        let (instant, day) = Self.nextNairobiHalfPastMidnight()
        let clock = TestClock(instant)
        try await TestApp.run(settings: ["ANALYTICS_MAX_RANGE_DAYS": "31"], effects: clock.effects) { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let sales = { (query: String) in try await http.send(.get, "/api/v1/admin/analytics/sales\(query)", token: cast.admin) }

            // Act
            let defaults = try await sales("")
            let onlyFrom = try await sales("?from=\(day(-10))")
            let longest = try await sales("?from=2026-02-14&to=2026-03-16")
            let tooLong = try await sales("?from=2026-02-13&to=2026-03-16")
            let reversed = try await sales("?from=2026-03-10&to=2026-03-09")
            let notADay = try await sales("?from=2026-02-30&to=2026-03-01")
            let yearZero = try await sales("?from=0000-01-01&to=0000-01-02")
            let words = try await sales("?to=yesterday")

            // Check: by default the 30 days to today, today being Nairobi's (its 00:30 is 21:30 in UTC).
            #expect(defaults.status == 200, "\(defaults.text)")
            #expect(defaults.json["from"] == .string(day(-29)) && defaults.json["to"] == .string(day(0)))
            #expect(defaults.json["items"].array.count == 30)
            #expect(onlyFrom.json["from"] == .string(day(-10)) && onlyFrom.json["to"] == .string(day(0)))
            #expect(longest.json["items"].array.count == 31)
            expectProblem(tooLong, 422, "validation_failed")
            #expect(tooLong.json["errors"][0]["field"] == "to")
            expectProblem(reversed, 422, "validation_failed")
            expectProblem(notADay, 422, "validation_failed")
            #expect(notADay.json["errors"][0]["field"] == "from")
            expectProblem(yearZero, 422, "validation_failed")
            expectProblem(words, 422, "validation_failed")
        }
    }

    @Test func listsPageWithTheirOwnCursorsAndCSVIsNegotiated() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let range = "from=2026-03-01&to=2026-03-31"
            let get = { (path: String, accept: String?) in
                try await http.send(.get, "/api/v1/admin/analytics/\(path)", token: cast.admin, headers: accept.map { ["Accept": $0] } ?? [:])
            }
            // Hub rows page by day (yyyyMMdd) and hub; merchants by GMV.
            let hubCursor = Cursor(ordering: "day", key: 2026_03_01, id: UUID()).encoded
            let noDayCursor = Cursor(ordering: "day", key: 2026_02_30, id: UUID()).encoded

            // Act
            let hubPage = try await get("hubs?\(range)&cursor=\(hubCursor)", nil)
            let foreignCursor = try await get("merchants?\(range)&cursor=\(hubCursor)", nil)
            let noDay = try await get("hubs?\(range)&cursor=\(noDayCursor)", nil)
            let forgedCursor = try await get("hubs?\(range)&cursor=bm90LWEtY3Vyc29y", nil)
            let refundsCSV = try await get("refunds?\(range)", "text/csv")
            let jsonPreferred = try await get("refunds?\(range)", "text/csv;q=0.5, application/json")
            let anything = try await get("refunds?\(range)", "*/*")
            let merchantOnAdmin = try await http.send(.get, "/api/v1/merchant/analytics", token: cast.admin)
            let customerOnMerchant = try await http.send(.get, "/api/v1/merchant/analytics", token: cast.customer)
            let merchant = try await http.send(.get, "/api/v1/merchant/analytics?\(range)", token: cast.merchant)

            // Check
            #expect(hubPage.status == 200 && hubPage.json["items"] == [])
            expectProblem(foreignCursor, 422, "invalid_cursor")
            expectProblem(noDay, 422, "invalid_cursor")
            expectProblem(forgedCursor, 422, "invalid_cursor")
            #expect(refundsCSV.status == 200 && refundsCSV.contentType?.hasPrefix("text/csv") == true)
            #expect(refundsCSV.text == "reason,status,count,amount_cents,median_hours_to_decision\r\n")
            #expect(jsonPreferred.contentType?.hasPrefix("application/json") == true && jsonPreferred.json["items"] == [])
            #expect(anything.contentType?.hasPrefix("application/json") == true)
            expectProblem(merchantOnAdmin, 403, "forbidden")
            expectProblem(customerOnMerchant, 403, "forbidden")
            #expect(merchant.status == 200, "\(merchant.text)")
            #expect(merchant.json["merchant"]["merchant_name"] == "Shop" && merchant.json["merchant"]["gmv_cents"] == 0)
            #expect(merchant.json["products"] == [])
        }
    }
}
