import Core
import Foundation
import Logging
import Payments
import Refunds
import ServiceLifecycle

/// The job workers of one service instance (`JOB_WORKERS`, 0 for none) and the periodic jobs
/// they keep scheduled. Several instances share the queue safely.
public struct BackgroundJobs: Service {
    public enum Kind {
        public static let expireUnpaidOrders = "expire-unpaid-orders"
        /// Puts back jobs for pending payments and unpaid refunds that have none.
        public static let sweepMoney = "sweep-money"
        /// Refreshes the analytics views (`ANALYTICS_REFRESH_INTERVAL_SECONDS`).
        public static let refreshAnalytics = "refresh-analytics"
    }

    let services: Services
    let logger: Logger

    public init(services: Services, logger: Logger) {
        self.services = services
        self.logger = logger
    }

    public var queue: JobQueue { services.jobs }

    public var runner: JobRunner {
        let orders = services.orders
        let payments = services.payments
        let payouts = services.payouts
        let analytics = services.analytics
        let resendAfter = services.config.mpesa.payoutRecheckDelay * 12
        let logger = self.logger
        return JobRunner(
            queue: queue,
            handlers: [
                Kind.expireUnpaidOrders: { _ in
                    let expired = try await orders.expireUnpaid()
                    if expired > 0 { logger.info("expired unpaid sub-orders", metadata: ["count": "\(expired)"]) }
                },
                Payments.reconcileJob: { job in
                    guard let id = try Self.id("payment_id", in: job) else { return }
                    try await payments.reconcile(paymentID: id)
                },
                RefundPayouts.job: { job in
                    guard let id = try Self.id("refund_id", in: job) else { return }
                    try await payouts.payOut(id)
                },
                Kind.sweepMoney: { _ in
                    let payments = try await payments.sweepPending()
                    let refunds = try await payouts.sweep(resendAfter: resendAfter)
                    if payments + refunds > 0 {
                        logger.notice("put back jobs for money left waiting", metadata: ["payments": "\(payments)", "refunds": "\(refunds)"])
                    }
                },
                Kind.refreshAnalytics: { _ in
                    let refresh = try await analytics.refresh()
                    logger.info(
                        "refreshed analytics",
                        metadata: ["milliseconds": "\(refresh.durations.reduce(0) { $0 + $1.milliseconds })"])
                },
            ], logger: logger)
    }

    private static func id(_ key: String, in job: JobQueue.Job) throws -> UUID? {
        try JSONDecoder().decode([String: String].self, from: Data(job.payload.utf8))[key].flatMap(UUID.init(uuidString:))
    }

    /// Puts the periodic jobs on the queue unless they are there already.
    public func schedulePeriodicJobs() async throws {
        try await queue.enqueue(
            Kind.expireUnpaidOrders, uniqueKey: Kind.expireUnpaidOrders, repeatEvery: services.config.expiryInterval)
        try await queue.enqueue(Kind.sweepMoney, uniqueKey: Kind.sweepMoney, repeatEvery: services.config.moneySweepInterval)
        try await queue.enqueue(
            Kind.refreshAnalytics, uniqueKey: Kind.refreshAnalytics, repeatEvery: services.config.analyticsRefreshInterval)
    }

    /// What this instance runs in the background, for the start-up line.
    public var summary: String {
        let workers = services.config.jobWorkers
        guard workers > 0 else { return "none (JOB_WORKERS=0; other instances may run the jobs)" }
        return "\(workers) job workers: \(runner.kinds.sorted().joined(separator: ", "))"
    }

    /// Schedules the periodic jobs as soon as the database answers, then works the queue until
    /// the service shuts down. A database that is down only delays this; it never ends it.
    public func run() async throws {
        let workers = services.config.jobWorkers
        guard workers > 0 else { return }
        let runner = self.runner
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await schedulePeriodicJobs()
                    break
                } catch {
                    logger.warning("cannot schedule periodic jobs yet", metadata: ["error": .string(DatabaseError.loggable(error))])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            await runner.run(workers: workers, idle: .seconds(1))
        }
    }
}

extension BackgroundJobs: CustomStringConvertible {
    public var description: String { "BackgroundJobs" }
}
