import Core
import Foundation
import Logging
import Payments
import ServiceLifecycle

/// The job workers of one service instance (`JOB_WORKERS`, 0 for none) and the periodic jobs
/// they keep scheduled. Several instances share the queue safely.
public struct BackgroundJobs: Service {
    public enum Kind {
        public static let expireUnpaidOrders = "expire-unpaid-orders"
    }

    let services: Services
    let logger: Logger

    public init(services: Services, logger: Logger) {
        self.services = services
        self.logger = logger
    }

    public var queue: JobQueue { JobQueue(database: services.database, effects: services.effects) }

    public var runner: JobRunner {
        let orders = services.orders
        let payments = services.payments
        let logger = self.logger
        return JobRunner(
            queue: queue,
            handlers: [
                Kind.expireUnpaidOrders: { _ in
                    let expired = try await orders.expireUnpaid()
                    if expired > 0 { logger.info("expired unpaid sub-orders", metadata: ["count": "\(expired)"]) }
                },
                Payments.reconcileJob: { job in
                    let payload = try JSONDecoder().decode([String: String].self, from: Data(job.payload.utf8))
                    guard let id = payload["payment_id"].flatMap(UUID.init(uuidString:)) else { return }
                    try await payments.reconcile(paymentID: id)
                },
            ], logger: logger)
    }

    /// Puts the periodic jobs on the queue unless they are there already.
    public func schedulePeriodicJobs() async throws {
        try await queue.enqueue(
            Kind.expireUnpaidOrders, uniqueKey: Kind.expireUnpaidOrders, repeatEvery: services.config.expiryInterval)
    }

    public func run() async throws {
        guard services.config.jobWorkers > 0 else {
            // No workers: stay up until shutdown, since a service that returns stops the whole group.
            try? await gracefulShutdown()
            return
        }
        try await schedulePeriodicJobs()
        let runner = self.runner
        let workers = services.config.jobWorkers
        await cancelWhenGracefulShutdown {
            await runner.run(workers: workers, idle: .seconds(1))
        }
    }
}
