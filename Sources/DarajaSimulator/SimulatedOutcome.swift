/// How a simulated STK push ends. The default comes from the phone's last two digits
/// (SPEC section 6); tests may override it per phone or per push through `SimulatorState`.
public struct SimulatedOutcome: Sendable, Equatable {
    /// Daraja's `ResultCode`: 0 is success.
    public var resultCode: Int
    public var resultDescription: String
    /// How many times the callback is delivered: 0 means Daraja never calls back (only the
    /// query knows the outcome), 2 imitates Daraja's duplicate deliveries.
    public var callbackCount: Int
    /// On success, how many shillings less than asked the callback reports.
    public var amountShortfallShillings: Int64

    public init(resultCode: Int, resultDescription: String, callbackCount: Int = 1, amountShortfallShillings: Int64 = 0) {
        self.resultCode = resultCode
        self.resultDescription = resultDescription
        self.callbackCount = callbackCount
        self.amountShortfallShillings = amountShortfallShillings
    }

    public var isSuccess: Bool { resultCode == 0 }

    public static let success = SimulatedOutcome(resultCode: 0, resultDescription: "The service request is processed successfully.")
    public static let cancelledByUser = SimulatedOutcome(resultCode: 1032, resultDescription: "Request cancelled by user")
    public static let insufficientFunds = SimulatedOutcome(
        resultCode: 1, resultDescription: "The balance is insufficient for the transaction.")
    public static let wrongPIN = SimulatedOutcome(resultCode: 2001, resultDescription: "The initiator information is invalid.")
    public static let phoneUnreachable = SimulatedOutcome(resultCode: 1037, resultDescription: "DS timeout user cannot be reached")
    public static let expired = SimulatedOutcome(resultCode: 1019, resultDescription: "Transaction has expired")

    /// The outcome SPEC section 6's table gives a phone number.
    public static func forPhone(_ phone: String) -> SimulatedOutcome {
        switch phone.suffix(2) {
        case "01": .cancelledByUser
        case "02": .insufficientFunds
        case "03": .wrongPIN
        case "04": SimulatedOutcome(resultCode: 0, resultDescription: success.resultDescription, callbackCount: 0)
        case "05": SimulatedOutcome(resultCode: 0, resultDescription: success.resultDescription, callbackCount: 2)
        case "06": .phoneUnreachable
        case "07": SimulatedOutcome(resultCode: 0, resultDescription: success.resultDescription, amountShortfallShillings: 1)
        case "08": SimulatedOutcome(resultCode: 1032, resultDescription: cancelledByUser.resultDescription, callbackCount: 0)
        default: .success
        }
    }

    /// SPEC section 6: B2C payouts to a phone ending `09` fail with 2001.
    static func b2cResult(forPhone phone: String) -> (code: Int, description: String) {
        phone.hasSuffix("09") ? (wrongPIN.resultCode, wrongPIN.resultDescription) : (success.resultCode, success.resultDescription)
    }
}
