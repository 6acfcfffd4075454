import Console
import Logging

extension AppRequestContext: ConsoleRequestContext {}

extension Console {
    /// The console over this service's own service values (the ones the API calls).
    init(services: Services, logger: Logger) throws {
        try self.init(
            services: ConsoleServices(
                config: services.config, database: services.database, effects: services.effects, auth: services.auth,
                users: services.users, staff: services.staff, merchantApplications: services.merchantApplications,
                places: services.places, categories: services.categories, orders: services.orders,
                hubOperations: services.hubOperations, cash: services.cash, refunds: services.refunds, payments: services.payments,
                analytics: services.analytics),
            logger: logger)
    }
}
