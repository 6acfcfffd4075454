import Analytics
import Catalog
import Core
import Foundation
import Hubs
import Identity
import Logging
import Daraja
import Orders
import Payments
import Refunds
import Reviews
import PostgresNIO

/// The domain services of one running service, built once from configuration.
public struct Services: Sendable {
    public let config: AppConfig
    public let database: Database
    public let effects: Effects
    public let passwords: PasswordHasher
    public let auth: AuthService
    public let users: UserAdministration
    public let staff: HubStaffService
    public let merchantApplications: MerchantApplications
    public let places: Places
    public let products: Products
    public let categories: Categories
    public let reviews: Reviews
    public let carts: Carts
    public let addresses: Addresses
    public let orders: Orders
    public let notifications: Notifications
    public let hubOperations: HubOperations
    public let payments: Payments
    public let refunds: Refunds
    public let payouts: RefundPayouts
    public let audit: MoneyAudit
    public let jobs: JobQueue
    public let callbackURL: CallbackURL
    public let cash: CashRemittances
    public let calendar: BusinessCalendar
    public let migrator: Migrator
    public let analytics: Analytics

    public init(config: AppConfig, database: Database, effects: Effects = .live) async {
        self.config = config
        self.database = database
        self.effects = effects
        self.passwords = PasswordHasher(cost: config.bcryptCost)
        self.auth = AuthService(
            database: database, passwords: passwords,
            accessTokens: await AccessTokens(secret: config.jwtSecret, lifetime: config.accessTokenTTL),
            rateLimiter: RateLimiter(database: database, window: config.authRateLimit.window),
            limits: .init(perIP: config.authRateLimit.perIP, perEmail: config.authRateLimit.perEmail),
            refreshTokenLifetime: config.refreshTokenTTL, effects: effects)
        self.users = UserAdministration(database: database, effects: effects)
        self.staff = HubStaffService(database: database, effects: effects)
        self.merchantApplications = MerchantApplications(
            database: database, effects: effects, defaultCommissionBps: config.defaultCommissionBps)
        self.places = Places(database: database, effects: effects)
        self.products = Products(database: database, effects: effects)
        self.categories = Categories(database: database, effects: effects)
        self.reviews = Reviews(database: database, effects: effects, products: products)
        self.carts = Carts(database: database, effects: effects)
        self.addresses = Addresses(database: database, effects: effects)
        let jobs = JobQueue(database: database, effects: effects)
        self.jobs = jobs
        let automaticRefunds = AutomaticRefunds(effects: effects, jobs: jobs, logger: database.logger)
        self.orders = Orders(database: database, effects: effects, config: config, refunds: automaticRefunds)
        self.notifications = Notifications(database: database)
        self.hubOperations = HubOperations(database: database, orders: orders, effects: effects)
        let mpesa = config.mpesa
        self.callbackURL = CallbackURL(base: mpesa.publicBaseURL, secret: mpesa.callbackSecret)
        let callbackURL = self.callbackURL
        let daraja = DarajaClient(
            configuration: DarajaConfiguration(
                baseURL: mpesa.darajaBaseURL, consumerKey: mpesa.consumerKey.revealed, consumerSecret: mpesa.consumerSecret.revealed,
                shortcode: mpesa.shortcode, passkey: mpesa.passkey.revealed,
                transactionType: DarajaConfiguration.TransactionType(rawValue: mpesa.transactionType) ?? .customerPayBillOnline,
                b2cShortcode: mpesa.b2cShortcode, initiatorName: mpesa.initiatorName,
                securityCredential: mpesa.securityCredential.revealed, requestTimeout: mpesa.requestTimeout),
            effects: effects, logger: database.logger)
        self.payments = Payments(
            database: database, effects: effects, daraja: daraja, lifecycle: orders.lifecycle, refunds: automaticRefunds, jobs: jobs,
            callbackURL: callbackURL, reconciliationDelay: mpesa.reconciliationDelay, pushLimit: mpesa.pushLimit)
        self.payouts = RefundPayouts(
            database: database, effects: effects, daraja: daraja, jobs: jobs,
            callbacks: .init(result: { callbackURL.b2cResult }, timeout: { callbackURL.b2cTimeout }),
            recheckDelay: mpesa.payoutRecheckDelay)
        self.refunds = Refunds(database: database, effects: effects, jobs: jobs, payouts: payouts, window: config.refundWindow)
        self.audit = MoneyAudit(database: database)
        self.cash = CashRemittances(database: database, effects: effects)
        self.calendar = BusinessCalendar(identifier: config.businessTimeZone)
        self.migrator = Migrator()
        self.analytics = Analytics(
            database: database, effects: effects, calendar: calendar, maximumRangeDays: config.analyticsMaxRangeDays)
    }

    /// A connection pool for the configured database; it runs as part of the service group.
    public static func makeDatabase(config: AppConfig, logger: Logger) throws -> Database {
        let configuration = try Database.configuration(
            url: config.databaseURL.revealed, maximumConnections: config.databasePoolSize, statementTimeout: config.databaseTimeout)
        return Database(configuration: configuration, logger: logger, timeout: config.databaseTimeout)
    }
}
