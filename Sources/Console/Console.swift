import Analytics
import Catalog
import Core
import Foundation
import Hubs
import Hummingbird
import Identity
import Logging
import NIOCore
import Orders
import Payments
import Refunds

/// The services the console's pages call: the same values the API's handlers call, so every
/// rule lives once, in its service.
public struct ConsoleServices: Sendable {
    public var config: AppConfig
    public var database: Database
    public var effects: Effects
    public var auth: AuthService
    public var users: UserAdministration
    public var staff: HubStaffService
    public var merchantApplications: MerchantApplications
    public var places: Places
    public var categories: Categories
    public var orders: Orders
    public var hubOperations: HubOperations
    public var cash: CashRemittances
    public var refunds: Refunds
    public var payments: Payments
    public var analytics: Analytics

    public init(
        config: AppConfig, database: Database, effects: Effects, auth: AuthService, users: UserAdministration, staff: HubStaffService,
        merchantApplications: MerchantApplications, places: Places, categories: Categories, orders: Orders,
        hubOperations: HubOperations, cash: CashRemittances, refunds: Refunds, payments: Payments, analytics: Analytics
    ) {
        self.config = config
        self.database = database
        self.effects = effects
        self.auth = auth
        self.users = users
        self.staff = staff
        self.merchantApplications = merchantApplications
        self.places = places
        self.categories = categories
        self.orders = orders
        self.hubOperations = hubOperations
        self.cash = cash
        self.refunds = refunds
        self.payments = payments
        self.analytics = analytics
    }
}

/// The request context the console's routes run in: the application's, which knows its peer.
public protocol ConsoleRequestContext: RequestContext {
    var remoteAddress: SocketAddress? { get }
}

/// The web console for hub staff and admins under `/console`: server-rendered pages with plain
/// forms, signed in with a server-side session cookie. Every action calls a service function
/// the API also calls.
public struct Console: Sendable {
    let services: ConsoleServices
    let pages: Pages
    let sessions: ConsoleSessions
    let dates: DateText
    let logger: Logger

    public init(services: ConsoleServices, logger: Logger) throws {
        self.services = services
        self.pages = try Pages()
        self.sessions = ConsoleSessions(
            database: services.database, effects: services.effects, auth: services.auth,
            secureCookies: services.config.environment == .production)
        self.dates = DateText(timeZone: services.config.businessTimeZone)
        self.logger = logger
    }

    /// Adds the console's routes under `/console`, each behind the console's own session, CSRF
    /// and error handling (`ConsoleRoutes`).
    public func register<Context: ConsoleRequestContext>(on router: Router<Context>) {
        let group = router.group("console").add(middleware: ConsoleResponseMiddleware<Context>(pages: pages, logger: logger))
        let routes = ConsoleRoutes(group: group, console: self)
        SignInPages(console: self).register(routes)
        HubParcelPages(console: self).register(routes)
        HubCashPages(console: self).register(routes)
        RefundPages(console: self).register(routes)
        PaymentPages(console: self).register(routes)
        MerchantApplicationPages(console: self).register(routes)
        HubPages(console: self).register(routes)
        ZonePages(console: self).register(routes)
        CategoryPages(console: self).register(routes)
        AnalyticsPages(console: self).register(routes)
        routes.notFound()
    }
}
