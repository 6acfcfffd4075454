import Foundation
import Logging
import Orders
import ServiceLifecycle

/// Expires unpaid M-Pesa orders every `interval` while the service runs. Safe with several
/// instances: each sub-order is expired by whichever run locks it first.
public struct OrderExpiryService: Service {
    let orders: Orders
    let interval: Duration
    let logger: Logger

    public init(services: Services, logger: Logger) {
        self.orders = services.orders
        self.interval = services.config.expiryInterval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let expired = try await orders.expireUnpaid()
                    if expired > 0 { logger.info("expired unpaid sub-orders", metadata: ["count": "\(expired)"]) }
                } catch {
                    logger.warning("order expiry failed; retrying next round", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
