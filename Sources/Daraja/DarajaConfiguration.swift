/// Everything the client needs to talk to one Daraja environment (SPEC sections 6 and 15).
///
/// Reading it from the environment is the application's job; this is only the value.
/// Its descriptions redact every secret, so logging a configuration is harmless.
public struct DarajaConfiguration: Sendable, CustomStringConvertible {
    /// How the customer pays us: to a paybill number or to a till (buy goods).
    public enum TransactionType: String, Sendable, CaseIterable {
        case customerPayBillOnline = "CustomerPayBillOnline"
        case customerBuyGoodsOnline = "CustomerBuyGoodsOnline"
    }

    /// For example `https://sandbox.safaricom.co.ke`; a trailing slash is ignored.
    public var baseURL: String
    public var consumerKey: String
    public var consumerSecret: String
    /// The STK push business shortcode (paybill or till); also `PartyB` of every push.
    public var shortcode: String
    public var passkey: String
    public var transactionType: TransactionType
    /// The shortcode B2C payouts are paid from (`PartyA` of a B2C request).
    public var b2cShortcode: String
    public var initiatorName: String
    /// The initiator password encrypted with the M-Pesa certificate (PKCS#1 v1.5), base64.
    public var securityCredential: String
    /// The limit on every single HTTP exchange with Daraja, the OAuth one included.
    public var requestTimeout: Duration
    /// A cached access token is renewed this long before Daraja says it expires.
    public var tokenRenewalMargin: Duration

    public init(
        baseURL: String,
        consumerKey: String,
        consumerSecret: String,
        shortcode: String,
        passkey: String,
        transactionType: TransactionType = .customerPayBillOnline,
        b2cShortcode: String,
        initiatorName: String,
        securityCredential: String,
        requestTimeout: Duration = .seconds(15),
        tokenRenewalMargin: Duration = .seconds(60)
    ) {
        self.baseURL = baseURL
        self.consumerKey = consumerKey
        self.consumerSecret = consumerSecret
        self.shortcode = shortcode
        self.passkey = passkey
        self.transactionType = transactionType
        self.b2cShortcode = b2cShortcode
        self.initiatorName = initiatorName
        self.securityCredential = securityCredential
        self.requestTimeout = requestTimeout
        self.tokenRenewalMargin = tokenRenewalMargin
    }

    public var description: String {
        "DarajaConfiguration(baseURL: \(baseURL), shortcode: \(shortcode), transactionType: \(transactionType.rawValue), "
            + "b2cShortcode: \(b2cShortcode), initiatorName: \(initiatorName), requestTimeout: \(requestTimeout), "
            + "consumerKey, consumerSecret, passkey and securityCredential redacted)"
    }
}

extension DarajaConfiguration: CustomDebugStringConvertible, CustomReflectable {
    public var debugDescription: String { description }
    // `dump` and debuggers go through the mirror; keep the secrets out of it too.
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}
