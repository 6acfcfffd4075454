import Analytics
@testable import Console
import Foundation
import HTTPTypes
import Identity
import Orders
import Refunds
import Server
import TestSupport
import Testing

/// The web console over real HTTP: sessions, CSRF, roles, and that its forms reach the same
/// service functions as the API (a delivery writes the same COD collection, an approval the
/// same refund decision).
@Suite struct ConsoleTests {
    static let password = "console test password"

    /// A staff member of NBO (the hub serving the world's zone) who can sign in.
    static func staff(_ world: World) async throws -> (id: UUID, email: String) {
        let id = try await world.staff(at: world.hubs[0], "Console Staff")
        try await world.setPassword(id, password)
        return (id, try await world.email(id))
    }

    static func admin(_ world: World) async throws -> (id: UUID, email: String) {
        let id = try await World.makeUser(world.services, email: "console.admin@example.com", role: "admin")
        try await world.setPassword(id, password)
        return (id, "console.admin@example.com")
    }

    /// A cash-on-delivery parcel of NBO's own merchant, accepted by it: next, NBO receives it.
    static func acceptedParcel(_ world: World) async throws -> SubOrder {
        try await world.put(world.products[0][0], 2)
        let parcel = try await world.checkout(method: .cod).order.subOrders[0]
        _ = try await world.services.orders.accept(
            parcel.id, by: Principal(userID: world.merchantUsers[0], role: .merchant, hubID: nil, merchantID: world.merchants[0]))
        return parcel
    }

    @Test func signingInGivesAServerSideSessionThatSigningOutEnds() async throws {
        try await withMarketplace { http, world in
            let staff = try await Self.staff(world)
            var browser = ConsoleBrowser(http)

            let signedIn = try await browser.signIn(staff.email, Self.password)
            let cookie = signedIn.headers[values: .setCookie].first { $0.hasPrefix("hubroute_console=") } ?? ""
            let token = browser.cookies["hubroute_console"] ?? ""
            let page = try await browser.get("/console/hub")
            let stored = try await world.database.query(
                "SELECT count(*) FROM console_sessions WHERE token_hash = sha256(convert_to(\(token), 'UTF8')) AND user_id = \(staff.id)")[0]
                .decode(Int.self)
            let plain = try await world.database.query("SELECT count(*) FROM console_sessions WHERE csrf_token = \(token)")[0].decode(Int.self)

            #expect(signedIn.status == 303 && signedIn.location == "/console")
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/console"))
            #expect(!cookie.contains("Secure"), "no Secure cookie outside production: the test serves plain HTTP")
            #expect(page.status == 200 && page.text.contains("Parcels"), "\(page.text)")
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.hasPrefix("default-src 'self'") == true)
            #expect(stored == 1 && plain == 0, "the session is stored by the token's hash only")

            // Signing out ends the session on the server: the old cookie opens nothing.
            let csrf = browser.csrf
            let signedOut = try await browser.post("/console/sign-out", [:])
            browser.cookies["hubroute_console"] = token
            let afterwards = try await browser.get("/console/hub")
            let replayed = try await browser.post("/console/hub/cash/remit", ["declared": "100", "_csrf": csrf])

            #expect(signedOut.status == 303 && signedOut.location == "/console/sign-in?signed_out=1")
            #expect(afterwards.status == 303 && afterwards.location == "/console/sign-in")
            #expect(replayed.status == 401 && replayed.text.contains("nothing was changed"), "\(replayed.text)")
        }
    }

    @Test func customersAndMerchantsCannotSignIn() async throws {
        try await withMarketplace { http, world in
            try await world.setPassword(world.customer, Self.password)
            try await world.setPassword(world.merchantUsers[0], Self.password)
            var customer = ConsoleBrowser(http)
            var merchant = ConsoleBrowser(http)

            let refused = try await customer.signIn(try await world.email(world.customer), Self.password)
            let alsoRefused = try await merchant.signIn(try await world.email(world.merchantUsers[0]), Self.password)
            let sessions = try await world.count("console_sessions")

            for reply in [refused, alsoRefused] {
                #expect(reply.status == 403)
                #expect(reply.text.contains("The console is for hub staff and admins."), "\(reply.text)")
                #expect(!reply.headers[values: .setCookie].contains { $0.hasPrefix("hubroute_console=") })
            }
            #expect(sessions == 0)
        }
    }

    @Test func deactivationEndsTheSessionAtOnce() async throws {
        try await withMarketplace { http, world in
            let staff = try await Self.staff(world)
            let admin = try await Self.admin(world)
            var browser = ConsoleBrowser(http)
            try await browser.signIn(staff.email, Self.password)
            let before = try await browser.get("/console/hub")

            _ = try await world.services.users.change(
                staff.id, .init(role: nil, isActive: false), by: Principal(userID: admin.id, role: .admin, hubID: nil, merchantID: nil))
            let after = try await browser.get("/console/hub")

            #expect(before.status == 200)
            #expect(after.status == 303 && after.location == "/console/sign-in")
        }
    }

    @Test func aPostWithoutTheSessionsCSRFTokenChangesNothing() async throws {
        try await withMarketplace { http, world in
            let staff = try await Self.staff(world)
            let parcel = try await Self.acceptedParcel(world)
            var browser = ConsoleBrowser(http)
            try await browser.signIn(staff.email, Self.password)
            try await browser.get("/console/hub/parcels/\(parcel.id)")
            let path = "/console/hub/parcels/\(parcel.id)/receive"

            let withoutToken = try await browser.post(path, [:], withCSRF: false)
            let wrongToken = try await browser.post(path, ["_csrf": "not-the-token"])
            let unchanged = try await world.services.orders.subOrders([parcel.id], scope: .admin)[0].status
            let withToken = try await browser.post(path, [:])
            let received = try await world.services.orders.subOrders([parcel.id], scope: .admin)[0].status

            #expect(withoutToken.status == 403 && wrongToken.status == 403)
            #expect(withoutToken.text.contains("nothing was changed"))
            #expect(unchanged == .accepted)
            #expect(withToken.status == 303 && received == .atDestinationHub)
        }
    }

    @Test func aDeliveryThroughTheConsoleWritesTheSameCollectionAsTheAPI() async throws {
        try await withMarketplace { http, world in
            // Setup: NBO's staff takes a COD parcel from its merchant to the door through the console.
            let staff = try await Self.staff(world)
            let parcel = try await Self.acceptedParcel(world)
            let code = try #require(parcel.handoverCode)
            var browser = ConsoleBrowser(http)
            try await browser.signIn(staff.email, Self.password)
            let page = "/console/hub/parcels/\(parcel.id.uuidString.lowercased())"
            try await browser.get("/console/hub?queue=inbound_from_merchants")
            try await browser.post("\(page)/receive", [:])
            let badPhone = try await browser.post("\(page)/out-for-delivery", ["rider_name": "Peter Kamau", "rider_phone": "12"])
            try await browser.post("\(page)/out-for-delivery", ["rider_name": "Peter Kamau", "rider_phone": "0799111222"])
            let total = parcel.totalCents / 100

            // Act: a wrong code, a wrong amount, then the right ones, then once more.
            let wrongCode = try await browser.post("\(page)/deliver", ["handover_code": code == "000000" ? "111111" : "000000", "cash": "\(total)"])
            let wrongCash = try await browser.post("\(page)/deliver", ["handover_code": code, "cash": "\(total - 1)"])
            let delivered = try await browser.post("\(page)/deliver", ["handover_code": code, "cash": "\(total)"])
            let shown = try await browser.get(page)
            let again = try await browser.post("\(page)/deliver", ["handover_code": code, "cash": "\(total)"])

            // Check: refusals are shown on the form with what was typed; the collection is the API's.
            #expect(badPhone.status == 422 && badPhone.text.contains("value=\"Peter Kamau\""), "\(badPhone.text)")
            #expect(wrongCode.status == 422 && wrongCode.text.contains("Wrong handover code"), "\(wrongCode.text)")
            #expect(wrongCode.text.contains("value=\"\(total)\""), "the cash typed is kept")
            #expect(wrongCash.status == 422 && wrongCash.text.contains("Collect exactly KES"), "\(wrongCash.text)")
            #expect(delivered.status == 303 && delivered.location == page)
            #expect(shown.text.contains("Parcel \(parcel.number) delivered.") && shown.text.contains(">Delivered<"), "\(shown.text)")
            #expect(again.status == 409 && again.text.contains("Only a parcel out for delivery can be delivered."), "\(again.text)")
            let collection = try await world.database.query(
                "SELECT staff_id, hub_id, amount_cents FROM cod_collections WHERE sub_order_id = \(parcel.id)")
            #expect(collection.count == 1)
            let (collector, hub, amount) = try collection[0].decode((UUID, UUID, Int64).self)
            #expect(collector == staff.id && hub == world.hubs[0] && amount == parcel.totalCents)

            // The cash goes to the hub through the remittance form.
            let cash = try await browser.get("/console/hub/cash")
            let remitted = try await browser.post("/console/hub/cash/remit", ["declared": "\(total)"])
            let remittance = try await world.database.query(
                "SELECT declared_cents, variance_cents FROM remittances WHERE staff_id = \(staff.id)")
            #expect(cash.text.contains("Hand in the cash"))
            #expect(remitted.status == 303)
            #expect(try remittance.map { try $0.decode((Int64, Int64).self) }.map { "\($0)" } == ["(\(parcel.totalCents), 0)"])
        }
    }

    @Test func anAdminApprovesARequestedRefundFromTheQueue() async throws {
        try await withMarketplace { http, world in
            // Setup: a delivered COD parcel whose customer asks for one item back.
            try await world.put(world.products[0][0], 2)
            let parcel = try await world.checkout(method: .cod).order.subOrders[0]
            try await world.deliver(parcel, paymentMethod: .cod)
            let refund = try await world.services.refunds.request(
                .init(
                    subOrderID: parcel.id, items: [(orderItemID: parcel.items[0].id, quantity: 1)], reason: .damaged,
                    details: "Broken <b>lid</b>", evidenceURLs: ["https://example.com/lid.jpg?a=1&b=2"]),
                by: Principal(userID: world.customer, role: .customer, hubID: nil, merchantID: nil))
            let admin = try await Self.admin(world)
            var browser = ConsoleBrowser(http)
            try await browser.signIn(admin.email, Self.password)

            // Act
            let queue = try await browser.get("/console/admin/refunds")
            let page = try await browser.get("/console/admin/refunds/\(refund.id)")
            let raised = try await browser.post("/console/admin/refunds/\(refund.id)/approve", ["amount": "999999", "approve_note": "kept"])
            let approved = try await browser.post("/console/admin/refunds/\(refund.id)/approve", ["restock": "on", "approve_note": "Sorry"])
            let after = try await world.services.refunds.refund(refund.id, viewer: Principal(userID: admin.id, role: .admin, hubID: nil, merchantID: nil))

            // Check
            #expect(queue.status == 200 && queue.text.contains("/console/admin/refunds/\(refund.id.uuidString.lowercased())"))
            #expect(page.text.contains("Broken &lt;b&gt;lid&lt;/b&gt;") && !page.text.contains("<b>lid"), "user text is escaped")
            #expect(page.text.contains("href=\"https://example.com/lid.jpg?a=1&amp;b=2\""), "the evidence is linked")
            #expect(raised.status == 422 && raised.text.contains("may lower") && raised.text.contains(">kept</textarea>"), "\(raised.text)")
            #expect(approved.status == 303)
            #expect(after.status == .approved && after.restock && after.history.last?.note == "Sorry")
        }
    }

    @Test func signInKeepsTheLoginLimits() async throws {
        // The test's clock: on the wall clock the three sign-ins could straddle the limit's
        // one-minute window (a CI run did) and the third would start a fresh count.
        try await TestApp.run(settings: ["AUTH_RATE_LIMIT_PER_EMAIL": "2"], effects: TestClock().effects) { http, services in
            let world = try await World.make(services)
            let staff = try await Self.staff(world)
            var browser = ConsoleBrowser(http)

            let first = try await browser.signIn(staff.email, "wrong password 1")
            let second = try await browser.signIn(staff.email, "wrong password 2")
            let third = try await browser.signIn(staff.email, Self.password)

            #expect(first.status == 401 && first.text.contains("The email or password is wrong."))
            #expect(first.text.contains("value=\"\(staff.email)\""), "the email is kept, the password is not")
            #expect(second.status == 401)
            #expect(third.status == 429 && third.headers[HTTPField.Name("Retry-After")!] != nil, "\(third.text)")
        }
    }

    @Test func aSignInFormFromElsewhereIsRefused() async throws {
        try await withMarketplace { http, world in
            let staff = try await Self.staff(world)
            var browser = ConsoleBrowser(http)

            // No sign-in cookie: the form was not the console's.
            let forged = try await browser.post("/console/sign-in", ["email": staff.email, "password": Self.password, "_csrf": "guess"])

            #expect(forged.status == 403 && forged.text.contains("Sign-in form expired"))
            #expect(try await world.count("console_sessions") == 0)
        }
    }

    @Test func unknownPagesAndOtherRolesGetHTMLNotStackTraces() async throws {
        try await withMarketplace { http, world in
            let staff = try await Self.staff(world)
            var browser = ConsoleBrowser(http)
            let signedOut = try await browser.get("/console/admin/refunds")
            try await browser.signIn(staff.email, Self.password)

            let adminPage = try await browser.get("/console/admin/refunds")
            let unknown = try await browser.get("/console/no/such/page")
            let notAParcel = try await browser.get("/console/hub/parcels/not-a-uuid")
            let someoneElses = try await browser.get("/console/hub/parcels/\(UUID())")

            #expect(signedOut.status == 303 && signedOut.location == "/console/sign-in")
            #expect(adminPage.status == 403 && adminPage.text.contains("belongs to another role"))
            for reply in [unknown, notAParcel, someoneElses] {
                #expect(reply.status == 404 && reply.contentType == "text/html; charset=utf-8", "\(reply.text)")
            }
        }
    }

    @Test func anAdminReadsEachAnalyticsDashboardWithItsCSV() async throws {
        try await withMarketplace { http, world in
            // Setup: a delivered COD parcel with a refund asked for, counted by a refresh.
            try await world.put(world.products[0][0], 2)
            let parcel = try await world.checkout(method: .cod).order.subOrders[0]
            try await world.deliver(parcel, paymentMethod: .cod)
            _ = try await world.services.refunds.request(
                .init(subOrderID: parcel.id, items: [(orderItemID: parcel.items[0].id, quantity: 1)], reason: .damaged, details: "Cracked", evidenceURLs: []),
                by: Principal(userID: world.customer, role: .customer, hubID: nil, merchantID: nil))
            let refreshed = try await world.services.analytics.refresh().refreshedAt
            let admin = try await Self.admin(world)
            let staff = try await Self.staff(world)
            var browser = ConsoleBrowser(http)
            var staffBrowser = ConsoleBrowser(http)
            var signedOut = ConsoleBrowser(http)
            try await browser.signIn(admin.email, Self.password)
            try await staffBrowser.signIn(staff.email, Self.password)
            let analytics = world.services.analytics
            let range = try analytics.range(from: nil, to: nil)
            let reports = [
                "sales": try await analytics.sales(range), "hubs": try await analytics.hubs(range, hubID: nil, rows: .all),
                "payments": try await analytics.payments(range), "refunds": try await analytics.refunds(range),
            ]

            for (dashboard, report) in reports {
                let path = "/console/admin/analytics/\(dashboard)"
                // Act
                let page = try await browser.get(path)
                let link = try #require(page.text.firstMatch(of: /id="csv" href="([^"]+)"/)?.1).replacingOccurrences(of: "&amp;", with: "&")
                let csv = try await browser.get(link)
                let staffPage = try await staffBrowser.get(path)
                let staffCSV = try await staffBrowser.get("\(path).csv")
                let outside = try await signedOut.get("\(path).csv")

                // Check: a chart, when it was counted, the range form; the CSV is the API's.
                #expect(page.status == 200 && page.text.contains("<svg") && page.text.contains("viewBox="), "\(dashboard): \(page.text)")
                #expect(page.text.contains("datetime=\"\(refreshed.formatted(.iso8601))\""), "\(dashboard)")
                #expect(page.text.contains("name=\"from\" value=\"\(range.from)\"") && page.text.contains("name=\"to\" value=\"\(range.to)\""))
                #expect(page.text.contains("href=\"/console/admin/analytics/\(dashboard)\" class=\"current\""))
                #expect(page.text.contains("class=\"legend\"") == (dashboard != "refunds"), "\(dashboard): which bar is which")
                #expect(dashboard == "refunds" || page.text.contains("Show \(report.rows.rows.count) rows"), "\(dashboard)")
                #expect(page.text.contains("id=\"totals\"") == (dashboard == "sales"), "\(dashboard): a one-row total reads as facts")
                #expect(csv.status == 200 && csv.contentType?.hasPrefix("text/csv") == true, "\(dashboard): \(csv.text)")
                #expect(csv.text.hasPrefix(report.rows.columns.joined(separator: ",") + "\r\n") && csv.text == String(decoding: report.rows.csv, as: UTF8.self), "\(dashboard)")
                #expect(staffPage.status == 403 && staffCSV.status == 403 && staffCSV.text.contains("belongs to another role"))
                #expect(outside.status == 303 && outside.location == "/console/sign-in")
            }
            #expect(reports["refunds"]?.rows.rows.isEmpty == false && reports["sales"]?.totals?.rows.count == 1, "the dashboards have figures")
        }
    }

    @Test func badDatesOnADashboardAreExplainedNotFailed() async throws {
        try await withMarketplace { http, world in
            let admin = try await Self.admin(world)
            var browser = ConsoleBrowser(http)
            try await browser.signIn(admin.email, Self.password)

            let notADay = try await browser.get("/console/admin/analytics/sales?from=2026-02-30&to=2026-03-01")
            let reversed = try await browser.get("/console/admin/analytics/payments?from=2026-03-10&to=2026-03-09")
            let csv = try await browser.get("/console/admin/analytics/hubs.csv?from=yesterday")

            #expect(notADay.status == 422 && notADay.text.contains("From: must be a date like"), "\(notADay.text)")
            #expect(notADay.text.contains("name=\"from\" value=\"2026-02-30\"") && !notADay.text.contains("<svg"))
            #expect(reversed.status == 422 && reversed.text.contains("id=\"failure\""), "\(reversed.text)")
            #expect(csv.status == 422 && csv.contentType == "text/html; charset=utf-8", "\(csv.text)")
        }
    }

    @Test func chartsPlaceAnyFigureWithoutTrapping() {
        let extremes: [Int64] = [.max, .min, 0, -1, 1]
        let columns = SVGChart.columns(
            title: "t", slots: ["a", "b", "c", "d", "e"], series: ["x"],
            points: extremes.enumerated().map { SVGChart.Point(slot: $0, series: 0, value: $1) }, format: Shillings.format)
        let bars = SVGChart.bars(title: "t", rows: extremes.map { ("\($0)", $0) }, format: { String($0) })
        let zeros = SVGChart.columns(title: "t", slots: [], series: [], points: [.init(slot: 0, series: 0, value: 0)], format: { String($0) })

        let numbers = (columns.bars + bars.bars).flatMap { [$0.x, $0.y, $0.width, $0.height] }.compactMap(Double.init)
        #expect(numbers.count == 40 && numbers.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 360 })
        #expect(columns.labels.first?.text == Shillings.format(.max) && columns.labels.contains { $0.text == Shillings.format(.min) })
        #expect(zeros.bars.isEmpty)
    }
}
