import Analytics
import Foundation
import PostgresNIO
import Server
import TestSupport
import Testing

/// Every column of every analytics view on `KnownWorld`, against figures worked out by hand
/// from its table (amounts in cents; days in Nairobi: D1 2026-03-10 … D4 2026-03-13).
///
/// Sub-orders (items + fee share = total; commission):
/// S1a 12,300 + 25,000 = 37,300 (1,230); S1b 36,900 + 25,000 = 61,900 (4,613);
/// S2 112,300 + 50,000 = 162,300 (11,230); S3 99,900 + 50,000 = 149,900 (0);
/// S4 3,000 + 50,000 = 53,000; S5 12,300 + 50,000 = 62,300 (1,230); S6 36,900 + 50,000;
/// S7 100 + 50,000 = 50,100 (0); S8 1,000 + 50,000 (125); S9 12,300 + 50,000; S10 200 + 50,000.
@Suite struct KnownWorldTests {
    @Test func everyViewHoldsTheFiguresWorkedOutByHand() async throws {
        try await PaymentHarness.run(clock: TestClock(KnownWorld.start)) { harness in
            // Setup
            var known = KnownWorld(harness: harness)
            try await known.build()
            let (m0, m1, m2) = (known.world.merchants[0], known.world.merchants[1], known.world.merchants[2])
            let (a, b, c, d, e, f) = (
                known.products[0][0], known.products[0][1], known.products[1][0], known.products[1][1], known.products[2][0],
                known.products[2][1]
            )
            let (nbo, msa, ksm) = (known.hubs[0], known.hubs[1], known.hubs[2])
            let (d1, d2, d3, d4) = (KnownWorld.days[0], KnownWorld.days[1], KnownWorld.days[2], KnownWorld.days[3])
            // S2's refund of 50,000 shared by A (12,300) and B (50,000): 9,871 and 40,128, the
            // cent left over on the item with the lower id.
            let aFirst = known.refundedOnS2.a.uuidString.lowercased() < known.refundedOnS2.b.uuidString.lowercased()

            // Act
            _ = try await harness.services.analytics.refresh()

            // Check: daily sales. D2 holds O2 (placed 00:10 in Nairobi, 21:10 UTC on D1) and O3,
            // not the unpaid O4; D4 not the unpaid O9.
            #expect(
                try await rows(harness, "SELECT * FROM analytics_daily_sales ORDER BY day") == [
                    sales(d1, orders: 1, subOrders: 2, gmv: 49_200, fees: 50_000, aov: 99_200),
                    sales(d2, orders: 2, subOrders: 2, gmv: 212_200, fees: 100_000, refunds: 149_900, aov: 156_100),
                    sales(
                        d3, orders: 3, subOrders: 3, gmv: 49_300, fees: 150_000, delivered: 3, revenue: 261_900, commission: 13_690,
                        refunds: 53_000, net: 261_900, aov: 66_433),
                    sales(
                        d4, orders: 2, subOrders: 2, gmv: 1_200, fees: 100_000, refunds: 62_300, deliveredRefunds: 62_300, net: -62_300,
                        aov: 50_600),
                ])

            // Merchants per day.
            #expect(
                try await rows(harness, "SELECT * FROM analytics_merchant_daily ORDER BY merchant_id, day")
                    == [
                        merchantDay(m0, d1, subOrders: 1, gmv: 12_300),
                        merchantDay(m0, d2, subOrders: 1, gmv: 112_300),
                        merchantDay(m0, d3, subOrders: 1, gmv: 12_300, delivered: 3, commission: 13_690, payout: 123_210, deliveredRefunded: 2),
                        merchantDay(m0, d4, refunds: 62_300, deliveredRefunds: 62_300, reviews: 2, ratingTotal: 9),
                        merchantDay(m1, d1, subOrders: 1, gmv: 36_900),
                        merchantDay(m1, d2, expired: 1),
                        merchantDay(m1, d3, subOrders: 1, gmv: 36_900, byCustomer: 1, returned: 1),
                        merchantDay(m1, d4, subOrders: 1, gmv: 1_000),
                        merchantDay(m2, d2, subOrders: 1, gmv: 99_900, rejected: 1, refunds: 149_900),
                        merchantDay(m2, d3, subOrders: 1, gmv: 100, byAdmin: 1),
                        merchantDay(m2, d4, subOrders: 1, gmv: 200),
                    ].sorted(by: merchantOrder))
            let months = try await rows(harness, "SELECT * FROM analytics_merchant_monthly ORDER BY merchant_id")
            #expect(months.map { $0["month"] } == ["2026-03-01", "2026-03-01", "2026-03-01"])
            #expect(months.first { $0["merchant_id"] == .string(m0.lowercased) }?["payout_cents"] == 123_210)

            // Products per day.
            #expect(
                try await rows(harness, "SELECT * FROM analytics_product_daily ORDER BY product_id, day")
                    == [
                        productDay(a, m0, d1, sold: 1, sales: 12_300),
                        productDay(a, m0, d2, sold: 1, sales: 12_300),
                        productDay(a, m0, d3, sold: 1, sales: 12_300, delivered: 3, revenue: 36_900),
                        productDay(a, m0, d4, refunded: 2, refunds: 12_300 + 9_871 + (aFirst ? 1 : 0), reviews: 1, ratingTotal: 5),
                        productDay(b, m0, d2, sold: 2, sales: 100_000),
                        productDay(b, m0, d3, delivered: 2, revenue: 100_000),
                        productDay(b, m0, d4, refunded: 1, refunds: 40_128 + (aFirst ? 0 : 1), reviews: 1, ratingTotal: 4),
                        productDay(c, m1, d1, sold: 1, sales: 36_900),
                        productDay(c, m1, d3, sold: 1, sales: 36_900),
                        productDay(d, m1, d4, sold: 1, sales: 1_000),
                        productDay(e, m2, d2, sold: 1, sales: 99_900),
                        productDay(f, m2, d3, sold: 1, sales: 100),
                        productDay(f, m2, d4, sold: 2, sales: 200),
                    ].sorted(by: productOrder))

            // Hubs: every hub from D2 (the first receipt) to D4. NBO's median: S2 20 h, S1a 21.5 h,
            // S5 3.5 h from origin receipt to delivery. Its staff remitted S1a's 37,300 as 37,000
            // before S5's 62,300 came in.
            #expect(
                try await rows(harness, "SELECT * FROM analytics_hub_daily ORDER BY day, hub_id")
                    == [
                        hubDay(d2, nbo, received: 3),
                        hubDay(d2, msa, received: 1, dispatched: 1),
                        hubDay(d2, ksm),
                        hubDay(
                            d3, nbo, received: 1, delivered: 3, attempts: 2, median: 20, collected: 99_600, remitted: 37_300, declared: 37_000,
                            variance: -300, outstanding: 62_300),
                        hubDay(d3, msa),
                        hubDay(d3, ksm, received: 1),
                        hubDay(d4, nbo, outstanding: 62_300),
                        hubDay(d4, msa, received: 1, dispatched: 1),
                        hubDay(d4, ksm),
                    ].sorted(by: hubOrder))

            // Payments: D2 M-Pesa is O2's failed and good pushes, O3, and O4's late success (its
            // failure was replaced by the success); cash on D3 is two collections and two failed
            // doorstep attempts.
            #expect(
                try await rows(harness, "SELECT * FROM analytics_payment_mix ORDER BY day, method") == [
                    payment(d2, "mpesa", attempts: 4, successes: 3, failures: 1, rate: 0.75, amount: 365_200),
                    payment(d3, "cod", attempts: 4, successes: 2, failures: 2, rate: 0.5, amount: 99_600),
                    payment(d3, "mpesa", attempts: 1, successes: 1, failures: 0, rate: 1, amount: 50_100),
                ])

            // Refunds: automatic ones decided at creation; R2 after an hour, R1 after three, R5
            // denied after an hour; R2 lowered to 50,000.
            let refunds = try await rows(
                harness,
                """
                SELECT reason, status, automatic, amount_cents, merchant_id, of_delivered_parcel, created_day, paid_day,
                       time_to_decision::text AS time_to_decision
                FROM analytics_refund_facts ORDER BY created_day, reason, amount_cents
                """)
            #expect(
                refunds == [
                    refund("late_payment", "paid", auto: true, 53_000, merchant: nil, delivered: false, d2, paid: d3, "00:00:00"),
                    refund("merchant_rejected", "paid", auto: true, 149_900, merchant: m2, delivered: false, d2, paid: d2, "00:00:00"),
                    refund("cancelled", "approved", auto: true, 50_100, merchant: m2, delivered: false, d3, paid: nil, "00:00:00"),
                    refund("damaged", "paid", auto: false, 12_300, merchant: m0, delivered: true, d4, paid: d4, "03:00:00"),
                    refund("damaged", "paid", auto: false, 50_000, merchant: m0, delivered: true, d4, paid: d4, "01:00:00"),
                    refund("wrong_item", "denied", auto: false, 12_300, merchant: m0, delivered: true, d4, paid: nil, "01:00:00"),
                ])

            // The facts every view counts from: placed or not, and the days.
            let facts = try await rows(
                harness,
                """
                SELECT s.number, f.placed, f.placed_day, f.delivered_day, f.cancelled_day, f.returned_day, f.refund_granted,
                       extract(epoch FROM f.origin_to_delivery) / 3600 AS hours
                FROM analytics_sub_order_facts f JOIN sub_orders s ON s.id = f.sub_order_id
                """)
            let byNumber = Dictionary(uniqueKeysWithValues: facts.map { ($0["number"].string ?? "", $0) })
            let expected: [(String, JSON)] = [
                ("S1a", fact(true, d1, delivered: d3, granted: true, hours: 21.5)),
                ("S1b", fact(true, d1, returned: d3)),
                ("S2", fact(true, d2, delivered: d3, granted: true, hours: 20)),
                ("S3", fact(true, d2, cancelled: d2, granted: true)),
                ("S4", fact(false, d2, cancelled: d2)),
                ("S5", fact(true, d3, delivered: d3, hours: 3.5)),
                ("S6", fact(true, d3, cancelled: d3)),
                ("S7", fact(true, d3, cancelled: d3, granted: true)),
                ("S8", fact(true, d4)),
                ("S9", fact(false, d4)),
                ("S10", fact(true, d4)),
            ]
            #expect(facts.count == expected.count)
            for (name, fact) in expected {
                var found = byNumber[try known.parcel(name).number] ?? .null
                if case .object(var fields) = found {
                    fields["number"] = nil
                    found = .object(fields)
                }
                #expect(found == fact, "\(name)")
            }
        }
    }

    @Test func theEndpointsAnswerARangeFromTheViews() async throws {
        try await PaymentHarness.run(clock: TestClock(KnownWorld.start)) { harness in
            // Setup
            var known = KnownWorld(harness: harness)
            try await known.build()
            let (m0, m1, m2) = (known.world.merchants[0], known.world.merchants[1], known.world.merchants[2])
            let (a, b) = (known.products[0][0], known.products[0][1])
            // A name a spreadsheet would split, to see it quoted.
            _ = try await harness.services.database.query("UPDATE merchants SET business_name = 'Duka \"Bora\", Ltd' WHERE id = \(m2)")
            let refresh = try await harness.services.analytics.refresh()
            let admin = try await known.world.token(known.admin)
            let get = { (path: String, headers: [String: String]) in
                try await harness.http.send(.get, "/api/v1/admin/analytics/\(path)", token: admin, headers: headers)
            }

            // Act
            let sales = try await get("sales?from=2026-03-09&to=2026-03-13", [:])
            let salesCSV = try await get("sales?from=2026-03-10&to=2026-03-11", ["Accept": "text/csv"])
            let wholeMonth = try await get("merchants?from=2026-03-01&to=2026-03-31", [:])
            let fourDays = try await get("merchants?from=2026-03-10&to=2026-03-13", [:])
            var pages: [JSON] = []
            var cursor: String?
            repeat {
                let page = try await get("merchants?from=2026-03-10&to=2026-03-13&limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), [:]).json
                pages.append(page)
                cursor = page["next_cursor"].string
            } while cursor != nil && pages.count < 5
            let merchantsCSV = try await get("merchants?from=2026-03-10&to=2026-03-13", ["Accept": "text/csv;q=0.9, application/json;q=0.5"])
            let products = try await get("products?from=2026-03-01&to=2026-03-31", [:])
            let productsCSV = try await get("products?from=2026-03-01&to=2026-03-31", ["Accept": "text/csv"])
            let weekOfHubs = try await get("hubs?from=2026-03-09&to=2026-03-13&limit=100", [:])
            let weekOfHubsCSV = try await get("hubs?from=2026-03-09&to=2026-03-13", ["Accept": "text/csv"])
            let quietYearCSV = try await get("products?from=2025-01-01&to=2025-12-31", ["Accept": "text/csv"])
            let hubs = try await get("hubs?from=2026-03-12&to=2026-03-12&hub_id=\(known.hubs[0])", [:])
            let payments = try await get("payments?from=2026-03-10&to=2026-03-13", [:])
            let refunds = try await get("refunds?from=2026-03-10&to=2026-03-13", [:])
            let mine = try await harness.http.send(
                .get, "/api/v1/merchant/analytics?from=2026-03-01&to=2026-03-31", token: try await known.world.token(known.world.merchantUsers[0]))

            // Check: sales, one row per day (D0 has nothing), and the range's totals.
            #expect(sales.status == 200, "\(sales.text)")
            #expect(sales.json["from"] == "2026-03-09" && sales.json["to"] == "2026-03-13")
            #expect(sales.json["refreshed_at"].string == ISO8601DateFormatter().string(from: refresh.refreshedAt))
            #expect(sales.json["items"].array.map { $0["day"] } == ["2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"])
            #expect(sales.json["items"][0]["orders"] == 0 && sales.json["items"][0]["average_order_value_cents"].isNull)
            #expect(sales.json["items"][3]["average_order_value_cents"] == 66_433)
            #expect(
                sales.json["totals"] == [
                    "orders": 8, "sub_orders": 9, "gmv_cents": 311_900, "delivery_fees_cents": 400_000, "delivered_sub_orders": 3,
                    "delivered_revenue_cents": 261_900, "commission_cents": 13_690, "refunds_paid_cents": 265_200,
                    "delivered_refunds_paid_cents": 62_300, "net_revenue_cents": 199_600, "average_order_value_cents": 88_988,
                ])
            #expect(salesCSV.status == 200 && salesCSV.contentType?.hasPrefix("text/csv") == true)
            #expect(
                salesCSV.text == "day,orders,sub_orders,gmv_cents,delivery_fees_cents,delivered_sub_orders,delivered_revenue_cents,"
                    + "commission_cents,refunds_paid_cents,delivered_refunds_paid_cents,net_revenue_cents,average_order_value_cents\r\n"
                    + "2026-03-10,1,2,49200,50000,0,0,0,0,0,0,99200\r\n"
                    + "2026-03-11,2,2,212200,100000,0,0,0,149900,0,0,156100\r\n")

            // Merchants: the same sums whether whole months or days are read, by GMV.
            #expect(wholeMonth.status == 200, "\(wholeMonth.text)")
            #expect(wholeMonth.json["items"] == fourDays.json["items"])
            #expect(
                fourDays.json["items"] == [
                    merchant(m0, "Merchant 0", subOrders: 3, delivered: 3, gmv: 136_900, commission: 13_690, payout: 123_210,
                             refunds: 62_300, deliveredRefunds: 62_300, payoutDue: 60_910, deliveredRefunded: 2, rate: 0.6667, reviews: 2,
                             rating: 4.5),
                    merchant(m2, "Duka \"Bora\", Ltd", subOrders: 3, rejected: 1, byAdmin: 1, gmv: 100_200, refunds: 149_900),
                    merchant(m1, "Merchant 1", subOrders: 3, byCustomer: 1, expired: 1, returned: 1, gmv: 74_800),
                ])
            #expect(pages.map { $0["items"].array.map { $0["merchant_id"] } } == [[.string(m0.lowercased)], [.string(m2.lowercased)], [.string(m1.lowercased)]])
            let csvLines = merchantsCSV.text.components(separatedBy: "\r\n")
            #expect(csvLines.count == 5 && csvLines.last == "")
            #expect(csvLines[0].hasPrefix("merchant_id,merchant_name,sub_orders,delivered,"))
            #expect(csvLines[2] == "\(m2.lowercased),\"Duka \"\"Bora\"\", Ltd\",3,0,0,1,0,1,0,100200,0,0,149900,0,0,0,,0,")

            // Products, by sales; A and B share S2's refund of 50,000 by their value.
            #expect(
                products.json["items"].array.map { $0["product_name"] }
                    == ["Product 0-1", "Product 2-0", "Product 1-0", "Product 0-0", "Product 1-1", "Product 2-1"])
            let productA = products.json["items"].array.first { $0["product_id"] == .string(a.lowercased) }
            let productB = products.json["items"].array.first { $0["product_id"] == .string(b.lowercased) }
            #expect(productA?["refunds_cents"].int.map { $0 + (productB?["refunds_cents"].int ?? 0) } == 12_300 + 50_000)
            #expect(productA?["average_rating"] == 5 && productA?["review_count"] == 1 && productA?["units_delivered"] == 3)

            // An export is every row of the list, in its order, as the JSON pages show them.
            #expect(productsCSV.status == 200 && productsCSV.text == csv(products.json["items"], productsCSV.text))
            #expect(weekOfHubs.json["items"].array.count > 1 && weekOfHubs.json["next_cursor"].isNull)
            #expect(weekOfHubsCSV.status == 200 && weekOfHubsCSV.text == csv(weekOfHubs.json["items"], weekOfHubsCSV.text))
            #expect(quietYearCSV.status == 200 && quietYearCSV.text == productsCSV.text.prefix { $0 != "\r\n" } + "\r\n")

            // Hubs: NBO's D3.
            #expect(hubs.json["items"].array.count == 1)
            #expect(hubs.json["items"][0]["hub_code"] == "NBO" && hubs.json["items"][0]["median_hours_to_delivery"] == 20)
            #expect(hubs.json["items"][0]["cod_outstanding_cents"] == 62_300 && hubs.json["items"][0]["cod_variance_cents"] == -300)

            // Payments: every day and method, and per method.
            #expect(payments.json["items"].array.count == 8)
            #expect(
                payments.json["totals"] == [
                    ["method": "cod", "attempts": 4, "successes": 2, "failures": 2, "flagged": 0, "success_rate": .number(0.5), "amount_cents": 99_600],
                    ["method": "mpesa", "attempts": 5, "successes": 4, "failures": 1, "flagged": 0, "success_rate": .number(0.8), "amount_cents": 415_300],
                ])

            // Refunds by reason and status.
            #expect(
                refunds.json["items"] == [
                    ["reason": "cancelled", "status": "approved", "count": 1, "amount_cents": 50_100, "median_hours_to_decision": 0],
                    ["reason": "damaged", "status": "paid", "count": 2, "amount_cents": 62_300, "median_hours_to_decision": 2],
                    ["reason": "late_payment", "status": "paid", "count": 1, "amount_cents": 53_000, "median_hours_to_decision": 0],
                    ["reason": "merchant_rejected", "status": "paid", "count": 1, "amount_cents": 149_900, "median_hours_to_decision": 0],
                    ["reason": "wrong_item", "status": "denied", "count": 1, "amount_cents": 12_300, "median_hours_to_decision": 1],
                ])

            // The merchant sees its own row and its own products only.
            #expect(mine.status == 200, "\(mine.text)")
            #expect(mine.json["merchant"]["merchant_id"] == .string(m0.lowercased) && mine.json["merchant"]["payout_due_cents"] == 60_910)
            #expect(Set(mine.json["products"].array.compactMap { $0["product_id"].string }) == [a.lowercased, b.lowercased])
        }
    }

    func merchant(
        _ id: UUID, _ name: String, subOrders: Int, delivered: Int = 0, byCustomer: Int = 0, rejected: Int = 0, expired: Int = 0,
        byAdmin: Int = 0, returned: Int = 0, gmv: Int, commission: Int = 0, payout: Int = 0, refunds: Int = 0, deliveredRefunds: Int = 0,
        payoutDue: Int = 0, deliveredRefunded: Int = 0, rate: Double? = nil, reviews: Int = 0, rating: Double? = nil
    ) -> JSON {
        var fields: [String: JSON] = [
            "merchant_id": .string(id.lowercased), "merchant_name": .string(name), "sub_orders": number(subOrders),
            "delivered": number(delivered), "cancelled_customer": number(byCustomer), "cancelled_merchant_rejected": number(rejected),
            "cancelled_payment_expired": number(expired), "cancelled_admin": number(byAdmin), "returned": number(returned),
            "gmv_cents": number(gmv), "commission_cents": number(commission), "payout_cents": number(payout),
            "refunds_paid_cents": number(refunds), "delivered_refunds_paid_cents": number(deliveredRefunds),
            "payout_due_cents": number(payoutDue), "delivered_refunded": number(deliveredRefunded), "review_count": number(reviews),
        ]
        fields["refund_rate"] = rate.map(JSON.number)
        fields["average_rating"] = rating.map(JSON.number)
        return .object(fields)
    }

    /// `items` as CSV under the header line of `export`: the export a client should get for them.
    func csv(_ items: JSON, _ export: String) -> String {
        let header = String(export.prefix { $0 != "\r\n" })
        let columns = header.split(separator: ",").map(String.init)
        let field = { (value: JSON) -> String in
            switch value {
            case .string(let text) where text.contains(where: { ",\"\r\n".contains($0) }):
                "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            case .string(let text): text
            case .number(let number): number == number.rounded() ? String(Int64(number)) : String(number)
            default: ""
            }
        }
        let lines = items.array.map { item in
            #expect(item.keys.isSubset(of: columns), "a field the export has no column for")
            return columns.map { field(item[$0]) }.joined(separator: ",")
        }
        return ([header] + lines).map { $0 + "\r\n" }.joined()
    }

    // MARK: Rows

    func rows(_ harness: PaymentHarness, _ sql: String) async throws -> [JSON] {
        try await harness.services.database.query(PostgresQuery(unsafeSQL: "SELECT to_jsonb(v)::text FROM (\(sql)) v"))
            .map { try JSON(data: Data(try $0.decode(String.self).utf8)) }
    }

    func sales(
        _ day: String, orders: Int, subOrders: Int, gmv: Int, fees: Int, delivered: Int = 0, revenue: Int = 0, commission: Int = 0,
        refunds: Int = 0, deliveredRefunds: Int = 0, net: Int = 0, aov: Int?
    ) -> JSON {
        [
            "day": .string(day), "orders": number(orders), "sub_orders": number(subOrders), "gmv_cents": number(gmv),
            "delivery_fees_cents": number(fees), "delivered_sub_orders": number(delivered), "delivered_revenue_cents": number(revenue),
            "commission_cents": number(commission), "refunds_paid_cents": number(refunds),
            "delivered_refunds_paid_cents": number(deliveredRefunds), "net_revenue_cents": number(net),
            "average_order_value_cents": aov.map(number) ?? .null,
        ]
    }

    func merchantDay(
        _ merchant: UUID, _ day: String, subOrders: Int = 0, gmv: Int = 0, delivered: Int = 0, commission: Int = 0, payout: Int = 0,
        deliveredRefunded: Int = 0, byCustomer: Int = 0, rejected: Int = 0, expired: Int = 0, byAdmin: Int = 0, returned: Int = 0,
        refunds: Int = 0, deliveredRefunds: Int = 0, reviews: Int = 0, ratingTotal: Int = 0
    ) -> JSON {
        [
            "merchant_id": .string(merchant.lowercased), "day": .string(day), "sub_orders": number(subOrders), "gmv_cents": number(gmv),
            "delivered": number(delivered), "commission_cents": number(commission), "payout_cents": number(payout),
            "delivered_refunded": number(deliveredRefunded), "cancelled_customer": number(byCustomer),
            "cancelled_merchant_rejected": number(rejected), "cancelled_payment_expired": number(expired),
            "cancelled_admin": number(byAdmin), "returned": number(returned), "refunds_paid_cents": number(refunds),
            "delivered_refunds_paid_cents": number(deliveredRefunds), "review_count": number(reviews),
            "rating_total": number(ratingTotal),
        ]
    }

    func productDay(
        _ product: UUID, _ merchant: UUID, _ day: String, sold: Int = 0, sales: Int = 0, delivered: Int = 0, revenue: Int = 0,
        refunded: Int = 0, refunds: Int = 0, reviews: Int = 0, ratingTotal: Int = 0
    ) -> JSON {
        [
            "product_id": .string(product.lowercased), "merchant_id": .string(merchant.lowercased), "day": .string(day),
            "units_sold": number(sold), "sales_cents": number(sales), "units_delivered": number(delivered),
            "revenue_cents": number(revenue), "refunded_units": number(refunded), "refunds_cents": number(refunds),
            "review_count": number(reviews), "rating_total": number(ratingTotal),
        ]
    }

    func hubDay(
        _ day: String, _ hub: UUID, received: Int = 0, dispatched: Int = 0, delivered: Int = 0, attempts: Int = 0, median: Double? = nil,
        collected: Int = 0, remitted: Int = 0, declared: Int = 0, variance: Int = 0, outstanding: Int = 0
    ) -> JSON {
        [
            "day": .string(day), "hub_id": .string(hub.lowercased), "parcels_received": number(received),
            "parcels_dispatched": number(dispatched), "parcels_delivered": number(delivered), "failed_attempts": number(attempts),
            "median_hours_to_delivery": median.map(JSON.number) ?? .null, "cod_collected_cents": number(collected),
            "cod_remitted_cents": number(remitted), "cod_declared_cents": number(declared), "cod_variance_cents": number(variance),
            "cod_outstanding_cents": number(outstanding),
        ]
    }

    func payment(_ day: String, _ method: String, attempts: Int, successes: Int, failures: Int, rate: Double, amount: Int) -> JSON {
        [
            "day": .string(day), "method": .string(method), "attempts": number(attempts), "successes": number(successes),
            "failures": number(failures), "flagged": 0, "success_rate": .number(rate), "amount_cents": number(amount),
        ]
    }

    func refund(
        _ reason: String, _ status: String, auto: Bool, _ amount: Int, merchant: UUID?, delivered: Bool, _ created: String, paid: String?,
        _ decision: String
    ) -> JSON {
        [
            "reason": .string(reason), "status": .string(status), "automatic": .bool(auto), "amount_cents": number(amount),
            "merchant_id": merchant.map { .string($0.lowercased) } ?? .null, "of_delivered_parcel": .bool(delivered),
            "created_day": .string(created), "paid_day": paid.map(JSON.string) ?? .null, "time_to_decision": .string(decision),
        ]
    }

    func fact(
        _ placed: Bool, _ day: String, delivered: String? = nil, cancelled: String? = nil, returned: String? = nil, granted: Bool = false,
        hours: Double? = nil
    ) -> JSON {
        [
            "placed": .bool(placed), "placed_day": .string(day), "delivered_day": delivered.map(JSON.string) ?? .null,
            "cancelled_day": cancelled.map(JSON.string) ?? .null, "returned_day": returned.map(JSON.string) ?? .null,
            "refund_granted": .bool(granted), "hours": hours.map(JSON.number) ?? .null,
        ]
    }

    func number(_ value: Int) -> JSON { .number(Double(value)) }

    func merchantOrder(_ x: JSON, _ y: JSON) -> Bool {
        (x["merchant_id"].string ?? "", x["day"].string ?? "") < (y["merchant_id"].string ?? "", y["day"].string ?? "")
    }

    func productOrder(_ x: JSON, _ y: JSON) -> Bool {
        (x["product_id"].string ?? "", x["day"].string ?? "") < (y["product_id"].string ?? "", y["day"].string ?? "")
    }

    func hubOrder(_ x: JSON, _ y: JSON) -> Bool {
        (x["day"].string ?? "", x["hub_id"].string ?? "") < (y["day"].string ?? "", y["hub_id"].string ?? "")
    }
}

extension UUID {
    var lowercased: String { uuidString.lowercased() }
}
