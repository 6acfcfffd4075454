import Foundation

/// Everything the simulator decided and received, for tests to inspect and steer.
public actor SimulatorState {
    /// A request as it arrived, with the status it got.
    public struct RecordedRequest: Sendable, Equatable {
        public let method: String
        public let path: String
        public let body: String
        public let status: Int
    }

    /// An accepted STK push.
    public struct STKPush: Sendable, Equatable {
        public let merchantRequestID: String
        public let checkoutRequestID: String
        public let phone: String
        public let amountShillings: Int64
        public let callbackURL: String
        /// The receipt a success carries, chosen up front so duplicate callbacks repeat it.
        public let receipt: String
        /// Set when the push is released; until then the query says "still processing".
        public fileprivate(set) var decidedOutcome: SimulatedOutcome?
    }

    /// A callback the simulator POSTed, with the status the receiver answered (nil: no answer).
    public struct DeliveredCallback: Sendable, Equatable {
        public let url: String
        public let body: String
        public let status: Int?
    }

    /// A callback decided but not sent yet, and what it belongs to.
    struct HeldCallback: Sendable {
        enum Subject: Equatable, Sendable {
            case push(checkoutRequestID: String)
            case payout(originatorConversationID: String)
        }

        let subject: Subject
        let url: String
        let body: Data
    }

    public private(set) var requests: [RecordedRequest] = []
    public private(set) var deliveredCallbacks: [DeliveredCallback] = []
    private var pushes: [String: STKPush] = [:]
    /// Pushes not released yet, oldest first.
    private var processing: [String] = []
    /// Oldest first, so releasing keeps the order in which they were decided.
    private var heldCallbacks: [HeldCallback] = []
    private var outcomesByPhone: [String: SimulatedOutcome] = [:]
    private var payoutOutcomesByPhone: [String: SimulatedOutcome] = [:]
    /// Payouts by OriginatorConversationID: a request repeating one is answered as the first
    /// was and pays nothing more (the ID is the caller's idempotency key).
    private var payouts: [String: (conversationID: String, result: Data, resultURL: String)] = [:]
    private var outcomesByCheckoutRequestID: [String: SimulatedOutcome] = [:]
    /// Daraja keeps one valid token per app: issuing one invalidates the previous.
    private var currentToken: (value: String, expiresAt: Date)?
    private var issuedReceipts: Set<String> = []
    private var sequence = 0
    /// The simulator's clock: token expiry, timestamps in identifiers and callbacks.
    nonisolated let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    // MARK: Inspecting

    public func requests(to path: String) -> [RecordedRequest] {
        requests.filter { $0.path == path }
    }

    /// How many access tokens were asked for.
    public var oauthRequestCount: Int {
        requests(to: DarajaSimulator.Path.oauth).count
    }

    public func push(checkoutRequestID: String) -> STKPush? {
        pushes[checkoutRequestID]
    }

    // MARK: Steering

    /// Overrides the phone table for pushes to `phone` (`2547XXXXXXXX`) accepted from now on.
    public func setOutcome(_ outcome: SimulatedOutcome, forPhone phone: String) {
        outcomesByPhone[phone] = outcome
    }

    /// Overrides the outcome of one push; effective until it is released.
    public func setOutcome(_ outcome: SimulatedOutcome, forCheckoutRequestID checkoutRequestID: String) {
        outcomesByCheckoutRequestID[checkoutRequestID] = outcome
    }

    /// Overrides the B2C outcome for payouts to `phone` (`2547XXXXXXXX`) requested from now on.
    public func setPayoutOutcome(_ outcome: SimulatedOutcome, forPhone phone: String) {
        payoutOutcomesByPhone[phone] = outcome
    }

    /// How many distinct payouts were requested (repeats of an OriginatorConversationID not counted).
    public var payoutCount: Int { payouts.count }

    /// Kills the current access token, as when Daraja expires it early.
    public func expireTokens() {
        currentToken = nil
    }

    // MARK: The simulator's side

    func record(_ request: RecordedRequest) {
        requests.append(request)
    }

    func record(_ callback: DeliveredCallback) {
        deliveredCallbacks.append(callback)
    }

    func issueToken(lifetime: Duration) -> String {
        let token = SimulatorIDs.token()
        currentToken = (token, now().addingTimeInterval(TimeInterval(lifetime.components.seconds)))
        return token
    }

    func isValid(token: String) -> Bool {
        guard let currentToken else { return false }
        return currentToken.value == token && now() < currentToken.expiresAt
    }

    func nextSequence() -> Int {
        sequence += 1
        return sequence
    }

    func acceptPush(phone: String, amountShillings: Int64, callbackURL: String) -> STKPush {
        let sequence = nextSequence()
        let receipt = uniqueReceipt()
        let push = STKPush(
            merchantRequestID: SimulatorIDs.merchantRequestID(sequence: sequence),
            checkoutRequestID: SimulatorIDs.checkoutRequestID(sequence: sequence, at: now()),
            phone: phone, amountShillings: amountShillings, callbackURL: callbackURL, receipt: receipt)
        pushes[push.checkoutRequestID] = push
        processing.append(push.checkoutRequestID)
        if let outcome = outcomesByPhone[phone] {
            outcomesByCheckoutRequestID[push.checkoutRequestID] = outcome
        }
        return push
    }

    func hold(_ body: Data, to url: String, for subject: HeldCallback.Subject) {
        heldCallbacks.append(HeldCallback(subject: subject, url: url, body: body))
    }

    /// Decides a push still processing, then hands out up to `limit` of its held callbacks (or
    /// of a payout's) for delivery.
    func release(_ subject: HeldCallback.Subject, limit: Int) -> [HeldCallback] {
        if case .push(let checkoutRequestID) = subject { decide(checkoutRequestID: checkoutRequestID) }
        var taken: [HeldCallback] = []
        heldCallbacks.removeAll { callback in
            guard taken.count < limit, callback.subject == subject else { return false }
            taken.append(callback)
            return true
        }
        return taken
    }

    /// Decides every push still processing and hands out every held callback.
    func releaseAll() -> [HeldCallback] {
        for checkoutRequestID in processing { decide(checkoutRequestID: checkoutRequestID) }
        defer { heldCallbacks = [] }
        return heldCallbacks
    }

    /// Fixes a push's outcome (overrides first, then the phone table) and holds its callbacks,
    /// encoded once: a duplicate delivery is byte for byte the same callback.
    private func decide(checkoutRequestID: String) {
        guard var push = pushes[checkoutRequestID], push.decidedOutcome == nil else { return }
        let outcome = outcomesByCheckoutRequestID[checkoutRequestID] ?? .forPhone(push.phone)
        push.decidedOutcome = outcome
        pushes[checkoutRequestID] = push
        processing.removeAll { $0 == checkoutRequestID }
        let body = JSONResponse.encode(DarajaSimulator.stkCallback(push, outcome: outcome, completedAt: now()))
        for _ in 0..<outcome.callbackCount {
            hold(body, to: push.callbackURL, for: .push(checkoutRequestID: checkoutRequestID))
        }
    }

    func payoutOutcome(forPhone phone: String) -> SimulatedOutcome? {
        payoutOutcomesByPhone[phone]
    }

    /// The payout this OriginatorConversationID asked for already, if any. Its result is held
    /// again when it was delivered, as Daraja would report the same transaction again.
    func repeatedPayout(_ originatorConversationID: String) -> String? {
        guard let payout = payouts[originatorConversationID] else { return nil }
        let subject = HeldCallback.Subject.payout(originatorConversationID: originatorConversationID)
        if !heldCallbacks.contains(where: { $0.subject == subject }) {
            hold(payout.result, to: payout.resultURL, for: subject)
        }
        return payout.conversationID
    }

    func recordPayout(_ originatorConversationID: String, conversationID: String, result: Data, resultURL: String) {
        payouts[originatorConversationID] = (conversationID, result, resultURL)
        hold(result, to: resultURL, for: .payout(originatorConversationID: originatorConversationID))
    }

    func uniqueReceipt() -> String {
        var receipt = SimulatorIDs.receipt()
        while !issuedReceipts.insert(receipt).inserted { receipt = SimulatorIDs.receipt() }
        return receipt
    }
}

/// Identifiers shaped like Daraja's.
enum SimulatorIDs {
    private static let receiptAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// "SIM" and 7 uppercase letters or digits: ten characters, like an M-Pesa receipt.
    static func receipt() -> String {
        "SIM" + String((0..<7).map { _ in receiptAlphabet.randomElement()! })
    }

    static func merchantRequestID(sequence: Int) -> String {
        "\(Int.random(in: 10_000...99_999))-\(sequence)-1"
    }

    static func checkoutRequestID(sequence: Int, at instant: Date) -> String {
        "ws_CO_\(NairobiClock.timestamp(instant))\(String(format: "%06d", sequence % 1_000_000))"
    }

    static func conversationID(sequence: Int, at instant: Date) -> String {
        "AG_\(NairobiClock.timestamp(instant).prefix(8))_\(String(format: "%012d", sequence))"
    }

    static func requestID() -> String {
        "\(Int.random(in: 1_000...9_999))-\(Int.random(in: 1_000_000...9_999_999))-1"
    }

    static func token() -> String {
        String((0..<28).map { _ in receiptAlphabet.randomElement()! })
    }
}

/// Daraja's wall clock: `yyyyMMddHHmmss` in East Africa Time (UTC+3 all year).
enum NairobiClock {
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Africa/Nairobi") ?? TimeZone(secondsFromGMT: 3 * 3600)!
        return calendar
    }()

    static func timestamp(_ instant: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        return String(
            format: "%04d%02d%02d%02d%02d%02d",
            parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }

    /// Whether `text` is a `yyyyMMddHHmmss` naming a real instant.
    static func isTimestamp(_ text: String) -> Bool {
        guard text.count == 14, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        let digits = Array(text)
        func number(_ range: Range<Int>) -> Int { Int(String(digits[range]))! }
        let parts = DateComponents(
            year: number(0..<4), month: number(4..<6), day: number(6..<8),
            hour: number(8..<10), minute: number(10..<12), second: number(12..<14))
        // `Calendar` rolls impossible dates over (Feb 30 → Mar 2); only a round trip proves it exists.
        return calendar.date(from: parts).map(timestamp) == text
    }
}
