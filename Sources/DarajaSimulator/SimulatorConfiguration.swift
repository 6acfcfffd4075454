/// What the simulator accepts and when it answers.
public struct SimulatorConfiguration: Sendable {
    /// When M-Pesa finishes a push or payout: its outcome is decided (the STK query stops saying
    /// "still processing") and its callbacks are sent.
    public enum CallbackTiming: Sendable, Equatable {
        /// This long after the push or payout was accepted, as in the development run.
        case after(Duration)
        /// Only when the test says so, with `DarajaSimulator.release(...)`: nothing a test
        /// checks then depends on how fast the machine is.
        case whenReleased
    }

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
    public var callbackTiming: CallbackTiming
    /// How long an access token really lives, in whole seconds of the simulator's clock. The
    /// OAuth answer always says `"3599"` as Daraja does, so a shorter lifetime (or a clock a
    /// test moves on) makes tokens die while clients still trust them.
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
        callbackTiming: CallbackTiming = .after(.seconds(1)),
        tokenLifetime: Duration = .seconds(3600),
        initiatorCredentials: InitiatorCredentials? = nil,
        host: String = "127.0.0.1",
        port: Int = 8090
    ) {
        self.consumerKey = consumerKey
        self.consumerSecret = consumerSecret
        self.passkeysByShortcode = passkeysByShortcode
        self.b2cShortcode = b2cShortcode
        self.callbackTiming = callbackTiming
        self.tokenLifetime = tokenLifetime
        self.initiatorCredentials = initiatorCredentials
        self.host = host
        self.port = port
    }
}
