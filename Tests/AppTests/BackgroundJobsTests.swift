import Foundation
import Logging
import Orders
import Server
import TestSupport
import Testing

@Suite struct BackgroundJobsTests {
    @Test func orderExpiryRunsAsAPeriodicJob() async throws {
        try await World.with { world in
            // Setup: an unpaid M-Pesa order past its expiry.
            try await world.put(world.products[0][0], 3)
            let order = try await world.checkout(method: .mpesa).order
            _ = try await world.database.query(
                "UPDATE orders SET created_at = now() - interval '2 hours' WHERE id = \(order.id)")
            let jobs = BackgroundJobs(services: world.services, logger: Logger(label: "jobs"))

            // Act: schedule the periodic jobs twice (two instances starting) and run what is due.
            try await jobs.schedulePeriodicJobs()
            try await jobs.schedulePeriodicJobs()
            var runs = 0
            while try await jobs.runner.runNext() { runs += 1 }

            // Check: each periodic job ran once (expiry, the money sweep, the analytics refresh) and
            // waits for its next period.
            #expect(runs == 3)
            #expect(try await world.services.orders.order(order.id, scope: .admin).status == "cancelled")
            #expect(try await world.stock(world.products[0][0]) == 20)
            let scheduled = try await world.database.query(
                "SELECT count(*), bool_and(finished_at IS NULL), bool_and(run_at > now()) FROM jobs WHERE kind = 'expire-unpaid-orders'")
            let (count, unfinished, later) = try scheduled[0].decode((Int, Bool, Bool).self)
            #expect(count == 1 && unfinished && later)
        }
    }
}
