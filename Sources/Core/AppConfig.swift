import Configuration
import Foundation

/// Every setting of the service, read once at start from the environment (and `.env` in
/// development) and validated; `.env.example` documents each one.
public struct AppConfig: Sendable {
    public enum Environment: String, Sendable {
        case development, test, production
    }

    public var environment: Environment
    public var host: String
    public var port: Int
    public var databaseURL: Secret
    public var databasePoolSize: Int
    public var databaseTimeout: Duration
    public var jwtSecret: Secret
    public var accessTokenTTL: Duration
    public var refreshTokenTTL: Duration
    public var bcryptCost: Int
    public var authRateLimit: RateLimit
    /// Proxies whose `X-Forwarded-For` is believed (SPEC section 12); empty believes none.
    public var trustedProxies: TrustedProxies
    public var defaultCommissionBps: Int
    public var logLevel: String
    /// Keys the HMAC of handover codes; changing it invalidates every outstanding code.
    public var handoverCodeKey: Secret
    /// Unpaid M-Pesa orders are cancelled after this long.
    public var paymentExpiry: Duration
    /// How often the expiry job looks for unpaid orders.
    public var expiryInterval: Duration
    /// The largest cash-on-delivery order accepted at checkout.
    public var codMaximumCents: Int64
    /// Business days and order-number years are counted in this time zone.
    public var businessTimeZone: String
    /// Failed delivery attempts after which a parcel goes back to its merchant.
    public var maxDeliveryAttempts: Int
    /// Background job workers in this instance; 0 runs none.
    public var jobWorkers: Int
    /// How long after delivery a customer may ask for a refund.
    public var refundWindow: Duration
    /// How often the money sweeper puts back jobs for pending payments and unpaid refunds.
    public var moneySweepInterval: Duration
    /// How often the analytics views are refreshed by the periodic job.
    public var analyticsRefreshInterval: Duration
    /// The longest range of days an analytics endpoint answers.
    public var analyticsMaxRangeDays: Int
    public var mpesa: Mpesa

    /// Daraja (M-Pesa) and our callbacks (SPEC sections 6 and 15).
    public struct Mpesa: Sendable {
        public var darajaBaseURL: String
        public var consumerKey: Secret
        public var consumerSecret: Secret
        public var shortcode: String
        public var passkey: Secret
        public var transactionType: String
        public var b2cShortcode: String
        public var initiatorName: String
        public var securityCredential: Secret
        public var requestTimeout: Duration
        /// Where Daraja reaches this service, e.g. https://api.example.co.ke.
        public var publicBaseURL: String
        /// The last path segment of the callback URLs; a wrong one is 404.
        public var callbackSecret: Secret
        /// Callers allowed to post callbacks; empty allows any.
        public var callbackAllowlist: [String]
        /// A push still pending this long is queried (STK query), then with backoff.
        public var reconciliationDelay: Duration
        /// Pushes allowed per order, per customer and per paying phone in each window, so nobody
        /// can make a phone ring again and again.
        public var pushLimit: PushLimit
        /// A refund payout M-Pesa timed out in its queue is sent again (same
        /// OriginatorConversationID) after this long; one that never got a result, after this
        /// long times twelve.
        public var payoutRecheckDelay: Duration
    }

    public struct PushLimit: Sendable {
        public var perOrder: Int
        public var perCustomer: Int
        public var perPhone: Int
        public var window: Duration
    }

    /// The Daraja simulator's development settings (`daraja-sim` uses the same defaults).
    public static let developmentDaraja = (
        consumerKey: "sim-consumer-key", consumerSecret: "sim-consumer-secret", shortcode: "174379",
        passkey: "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
        callbackSecret: "development-only-callback-secret")

    public struct RateLimit: Sendable {
        public var perIP: Int
        public var perEmail: Int
        public var window: Duration
        public init(perIP: Int, perEmail: Int, window: Duration) {
            self.perIP = perIP
            self.perEmail = perEmail
            self.window = window
        }
    }

    /// Only for development and tests; production refuses to start with it.
    public static let developmentJWTSecret = "development-only-jwt-secret-do-not-use-in-production"
    public static let minimumJWTSecretBytes = 32
    public static let developmentHandoverCodeKey = "development-only-handover-code-key-do-not-use"

    /// Reads and validates the settings; throws a `ConfigurationError` naming the first bad one.
    public static func load(from reader: ConfigReader) throws -> AppConfig {
        let settings = Settings(reader: reader)
        let environmentName = settings.string("APP_ENV") ?? "development"
        guard let environment = Environment(rawValue: environmentName) else {
            throw ConfigurationError(setting: "APP_ENV", message: "must be development, test or production, not \"\(environmentName)\"")
        }
        guard let databaseURL = settings.string("DATABASE_URL") else {
            throw ConfigurationError(setting: "DATABASE_URL", message: "is required (postgres://user@host:port/database)")
        }
        let jwtSecret = settings.string("JWT_SECRET") ?? (environment == .production ? "" : developmentJWTSecret)
        if environment == .production {
            guard !jwtSecret.isEmpty else {
                throw ConfigurationError(setting: "JWT_SECRET", message: "is required in production")
            }
            guard jwtSecret != developmentJWTSecret, !jwtSecret.lowercased().contains("change") else {
                throw ConfigurationError(setting: "JWT_SECRET", message: "is the development default; set a random secret")
            }
        }
        guard jwtSecret.utf8.count >= minimumJWTSecretBytes else {
            throw ConfigurationError(setting: "JWT_SECRET", message: "must be at least \(minimumJWTSecretBytes) bytes")
        }
        let handoverCodeKey = settings.string("HANDOVER_CODE_KEY") ?? (environment == .production ? "" : developmentHandoverCodeKey)
        if environment == .production {
            guard !handoverCodeKey.isEmpty, handoverCodeKey != developmentHandoverCodeKey else {
                throw ConfigurationError(setting: "HANDOVER_CODE_KEY", message: "is required in production; set a random key")
            }
        }
        guard handoverCodeKey.utf8.count >= 32 else {
            throw ConfigurationError(setting: "HANDOVER_CODE_KEY", message: "must be at least 32 bytes")
        }
        let mpesa = try mpesaSettings(settings, environment: environment)
        let bcryptCost = try settings.int("BCRYPT_COST", default: 12, in: 4...31)
        if environment == .production && bcryptCost < 10 {
            throw ConfigurationError(setting: "BCRYPT_COST", message: "must be at least 10 in production")
        }
        return AppConfig(
            environment: environment,
            host: settings.string("HOST") ?? "127.0.0.1",
            port: try settings.int("PORT", default: 8080, in: 0...65535),
            databaseURL: Secret(databaseURL),
            databasePoolSize: try settings.int("DATABASE_POOL_SIZE", default: 8, in: 1...200),
            databaseTimeout: .seconds(try settings.int("DATABASE_TIMEOUT_SECONDS", default: 5, in: 1...300)),
            jwtSecret: Secret(jwtSecret),
            accessTokenTTL: .seconds(try settings.int("ACCESS_TOKEN_TTL_SECONDS", default: 900, in: 60...86_400)),
            refreshTokenTTL: .seconds(86_400 * (try settings.int("REFRESH_TOKEN_TTL_DAYS", default: 30, in: 1...365))),
            bcryptCost: bcryptCost,
            // Kenyan mobile customers share carrier NAT addresses: the per-address limit is generous
            // and the per-account one stops password guessing.
            authRateLimit: RateLimit(
                perIP: try settings.int("AUTH_RATE_LIMIT_PER_IP", default: 300, in: 1...100_000),
                perEmail: try settings.int("AUTH_RATE_LIMIT_PER_EMAIL", default: 10, in: 1...100_000),
                window: .seconds(try settings.int("AUTH_RATE_LIMIT_WINDOW_SECONDS", default: 60, in: 1...86_400))),
            trustedProxies: try settings.trustedProxies("TRUSTED_PROXIES"),
            defaultCommissionBps: try settings.int("DEFAULT_COMMISSION_BPS", default: 1000, in: 0...10_000),
            logLevel: settings.string("LOG_LEVEL") ?? "info",
            handoverCodeKey: Secret(handoverCodeKey),
            paymentExpiry: .seconds(60 * (try settings.int("PAYMENT_EXPIRY_MINUTES", default: 30, in: 1...10_080))),
            expiryInterval: .seconds(try settings.int("ORDER_EXPIRY_INTERVAL_SECONDS", default: 30, in: 1...3_600)),
            codMaximumCents: Int64(try settings.int("COD_MAX_SHILLINGS", default: 100_000, in: 1...250_000)) * Money.centsPerShilling,
            businessTimeZone: try settings.timeZone("BUSINESS_TIME_ZONE", default: "Africa/Nairobi"),
            maxDeliveryAttempts: try settings.int("MAX_DELIVERY_ATTEMPTS", default: 3, in: 1...10),
            jobWorkers: try settings.int("JOB_WORKERS", default: 2, in: 0...64),
            refundWindow: .seconds(86_400 * (try settings.int("REFUND_WINDOW_DAYS", default: 14, in: 1...365))),
            moneySweepInterval: .seconds(try settings.int("MONEY_SWEEP_INTERVAL_SECONDS", default: 300, in: 5...86_400)),
            analyticsRefreshInterval: .seconds(try settings.int("ANALYTICS_REFRESH_INTERVAL_SECONDS", default: 300, in: 10...86_400)),
            analyticsMaxRangeDays: try settings.int("ANALYTICS_MAX_RANGE_DAYS", default: 400, in: 1...3_660),
            mpesa: mpesa)
    }
}

private func mpesaSettings(_ settings: Settings, environment: AppConfig.Environment) throws -> AppConfig.Mpesa {
    let development = AppConfig.developmentDaraja
    /// A secret or credential: required in production, a development default elsewhere.
    func credential(_ name: String, _ fallback: String) throws -> String {
        if let value = settings.string(name) { return value }
        guard environment != .production else {
            throw ConfigurationError(setting: name, message: "is required in production")
        }
        return fallback
    }
    let callbackSecret = try credential("MPESA_CALLBACK_SECRET", development.callbackSecret)
    if environment == .production {
        guard callbackSecret != development.callbackSecret, callbackSecret.utf8.count >= 24 else {
            throw ConfigurationError(setting: "MPESA_CALLBACK_SECRET", message: "must be a random value of at least 24 characters")
        }
    }
    let darajaBaseURL = settings.string("DARAJA_BASE_URL") ?? "http://127.0.0.1:8090"
    let publicBaseURL = settings.string("PUBLIC_BASE_URL") ?? "http://127.0.0.1:8080"
    if environment == .production {
        for (name, url) in [("DARAJA_BASE_URL", darajaBaseURL), ("PUBLIC_BASE_URL", publicBaseURL)] {
            try requirePublicHTTPS(name, url)
        }
    }
    let transactionType = settings.string("DARAJA_TRANSACTION_TYPE") ?? "CustomerPayBillOnline"
    guard ["CustomerPayBillOnline", "CustomerBuyGoodsOnline"].contains(transactionType) else {
        throw ConfigurationError(setting: "DARAJA_TRANSACTION_TYPE", message: "must be CustomerPayBillOnline or CustomerBuyGoodsOnline")
    }
    return AppConfig.Mpesa(
        darajaBaseURL: darajaBaseURL,
        consumerKey: Secret(try credential("DARAJA_CONSUMER_KEY", development.consumerKey)),
        consumerSecret: Secret(try credential("DARAJA_CONSUMER_SECRET", development.consumerSecret)),
        shortcode: try credential("DARAJA_SHORTCODE", development.shortcode),
        passkey: Secret(try credential("DARAJA_PASSKEY", development.passkey)),
        transactionType: transactionType,
        b2cShortcode: try credential("DARAJA_B2C_SHORTCODE", "600000"),
        initiatorName: try credential("DARAJA_INITIATOR_NAME", "hubroute"),
        securityCredential: Secret(try credential("DARAJA_SECURITY_CREDENTIAL", "development-security-credential")),
        requestTimeout: .seconds(try settings.int("DARAJA_TIMEOUT_SECONDS", default: 15, in: 1...120)),
        publicBaseURL: publicBaseURL,
        callbackSecret: Secret(callbackSecret),
        callbackAllowlist: (settings.string("MPESA_CALLBACK_IP_ALLOWLIST") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
        reconciliationDelay: .seconds(try settings.int("RECONCILIATION_DELAY_SECONDS", default: 60, in: 1...86_400)),
        pushLimit: AppConfig.PushLimit(
            perOrder: try settings.int("STK_PUSH_LIMIT_PER_ORDER", default: 5, in: 1...1_000),
            perCustomer: try settings.int("STK_PUSH_LIMIT_PER_CUSTOMER", default: 20, in: 1...10_000),
            perPhone: try settings.int("STK_PUSH_LIMIT_PER_PHONE", default: 5, in: 1...1_000),
            window: .seconds(try settings.int("STK_PUSH_LIMIT_WINDOW_SECONDS", default: 3_600, in: 1...86_400))),
        payoutRecheckDelay: .seconds(try settings.int("PAYOUT_RECHECK_SECONDS", default: 300, in: 1...86_400)))
}

/// Production talks to Safaricom and is reached by it over the internet: a plain-http or
/// loopback address there is a development setting left behind.
private func requirePublicHTTPS(_ name: String, _ url: String) throws {
    guard let components = URLComponents(string: url), components.scheme?.lowercased() == "https",
        let host = components.host?.lowercased(), !host.isEmpty
    else {
        throw ConfigurationError(setting: name, message: "must be an https:// URL in production")
    }
    let bracketless = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    let loopback = ["localhost", "0.0.0.0", "::", "::1"].contains(bracketless) || bracketless.hasSuffix(".localhost")
        || bracketless.hasPrefix("127.")
    if loopback {
        throw ConfigurationError(setting: name, message: "must not point at this machine (\(host)) in production")
    }
}

public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let setting: String
    public let message: String

    public init(setting: String, message: String) {
        self.setting = setting
        self.message = message
    }

    public var description: String { "configuration error: \(setting) \(message)" }
}

/// Reads settings by their environment-variable names.
private struct Settings {
    let reader: ConfigReader

    func string(_ name: String) -> String? {
        let key = name.lowercased().replacingOccurrences(of: "_", with: ".")
        guard let value = reader.string(forKey: ConfigKey(key), isSecret: name.contains("SECRET") || name == "DATABASE_URL")
        else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    func trustedProxies(_ name: String) throws -> TrustedProxies {
        let entries = (string(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let proxies = TrustedProxies(entries) else {
            throw ConfigurationError(setting: name, message: "must be comma-separated IP addresses or CIDR ranges such as 10.0.0.0/8")
        }
        return proxies
    }

    func timeZone(_ name: String, default defaultValue: String) throws -> String {
        let identifier = string(name) ?? defaultValue
        guard TimeZone(identifier: identifier) != nil else {
            throw ConfigurationError(setting: name, message: "must be a time zone such as Africa/Nairobi, not \"\(identifier)\"")
        }
        return identifier
    }

    func int(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = string(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(setting: name, message: "must be a whole number in \(range.lowerBound)...\(range.upperBound), not \"\(text)\"")
        }
        return value
    }
}
