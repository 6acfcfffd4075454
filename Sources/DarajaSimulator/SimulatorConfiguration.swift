/// What the simulator accepts and how fast it answers.
public struct SimulatorConfiguration: Sendable {
    /// Daraja sandbox's public test shortcode and passkey: the defaults, so the sandbox's
    /// documented examples work against the simulator too.
    public static let sandboxShortcode = "174379"
    public static let sandboxPasskey = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"

    public var consumerKey: String
    public var consumerSecret: String
    /// The STK shortcodes it knows, each with its passkey.
    public var passkeysByShortcode: [String: String]
    /// The shortcode B2C payouts must come from.
    public var b2cShortcode: String
    /// How long after a push or payout its callback is sent (and the STK query stops saying
    /// "still processing").
    public var callbackDelay: Duration
    /// How long an access token really lives. The OAuth answer always says `"3599"` as Daraja
    /// does, so a shorter lifetime makes tokens die while clients still trust them.
    public var tokenLifetime: Duration
    /// When set, a B2C `SecurityCredential` must decrypt to the initiator password with this
    /// key pair, as Daraja checks it; when nil, any non-empty credential is accepted.
    public var initiatorCredentials: InitiatorCredentials?
    public var host: String
    public var port: Int

    public init(
        consumerKey: String = "sim-consumer-key",
        consumerSecret: String = "sim-consumer-secret",
        passkeysByShortcode: [String: String] = [sandboxShortcode: sandboxPasskey],
        b2cShortcode: String = "600000",
        callbackDelay: Duration = .seconds(1),
        tokenLifetime: Duration = .seconds(3600),
        initiatorCredentials: InitiatorCredentials? = nil,
        host: String = "127.0.0.1",
        port: Int = 8090
    ) {
        self.consumerKey = consumerKey
        self.consumerSecret = consumerSecret
        self.passkeysByShortcode = passkeysByShortcode
        self.b2cShortcode = b2cShortcode
        self.callbackDelay = callbackDelay
        self.tokenLifetime = tokenLifetime
        self.initiatorCredentials = initiatorCredentials
        self.host = host
        self.port = port
    }
}
