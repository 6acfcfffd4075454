import Foundation
import PostgresNIO
import Server
import TestSupport
import Testing

@Suite struct DemoSeederTests {
    static let counts = """
        SELECT (SELECT count(*) FROM hubs) AS hubs, (SELECT count(*) FROM zones) AS zones,
               (SELECT count(*) FROM merchants) AS merchants, (SELECT count(DISTINCT home_hub_id) FROM merchants) AS home_hubs,
               (SELECT count(*) FROM products) AS products, (SELECT count(DISTINCT hub_id) FROM hub_staff) AS staffed_hubs,
               (SELECT count(*) FROM users WHERE role = 'customer') AS customers, (SELECT count(*) FROM orders) AS orders,
               (SELECT count(DISTINCT status) FROM sub_orders) AS statuses, (SELECT count(*) FROM sub_order_events) AS events
        """

    @Test func seedingTwiceLoadsTheDemoOnce() async throws {
        try await TestApp.run { http, services in
            // Act
            let report = try await DemoSeeder(services: services).seed()
            let first = try await services.database.query(PostgresQuery(unsafeSQL: Self.counts))[0]
                .decode((Int, Int, Int, Int, Int, Int, Int, Int, Int, Int).self)
            _ = try await DemoSeeder(services: services).seed()
            let second = try await services.database.query(PostgresQuery(unsafeSQL: Self.counts))[0]
                .decode((Int, Int, Int, Int, Int, Int, Int, Int, Int, Int).self)

            // Check: at least 3 hubs, 6 zones, 4 merchants on different home hubs, 40 products,
            // staff for every hub, a few customers, and orders in six states.
            #expect(first.0 >= 3 && first.1 >= 6 && first.2 == 4 && first.3 == 4 && first.4 == 40 && first.5 == first.0 && first.6 >= 3)
            #expect(first.7 == 5 && first.8 == 6)
            #expect("\(second)" == "\(first)")
            #expect(report.contains("admin@hubroute.test") && report.contains(DemoSeeder.password))
            // A refund request waits in the console's queue, once.
            let requested = try await services.database.query("SELECT count(*) FROM refunds WHERE status = 'requested'")[0].decode(Int.self)
            #expect(requested == 1)
            let login = try await http.login("admin@hubroute.test", DemoSeeder.password)
            #expect(login.json["user"]["role"].string == "admin")
        }
    }
}
