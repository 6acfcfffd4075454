import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging

/// A Daraja look-alike (SPEC section 6 rule 7): the same paths and shapes, OAuth included,
/// validating requests as Daraja does and calling back after a delay, or when a test releases
/// the push or payout (`configuration.callbackTiming`). No database: everything lives in `state`.
///
/// Mount it in-process with `buildRouter()` or serve it with `buildApplication()`.
public struct DarajaSimulator: Sendable {
    enum Path {
        static let oauth = "/oauth/v1/generate"
        static let stkPush = "/mpesa/stkpush/v1/processrequest"
        static let stkQuery = "/mpesa/stkpushquery/v1/query"
        static let b2cPayment = "/mpesa/b2c/v3/paymentrequest"
        static let publicKey = "/simulator/public-key.pem"
    }

    /// M-Pesa's per-transaction limits, in shillings.
    private static let amountRange: ClosedRange<Int64> = 1...250_000
    private static let transactionTypes: Set = ["CustomerPayBillOnline", "CustomerBuyGoodsOnline"]
    private static let b2cCommands: Set = ["BusinessPayment", "SalaryPayment", "PromotionPayment"]
    /// Daraja's fixed advertised token lifetime, sent as a string like Daraja does.
    private static let advertisedTokenLifetime = "3599"

    public let configuration: SimulatorConfiguration
    public let state: SimulatorState
    private let httpClient: HTTPClient
    private let logger: Logger

    /// - Parameters:
    ///   - now: the simulator's clock (token expiry, timestamps), so a test can move it.
    ///   - httpClient: used to deliver callbacks; never shut down by the simulator.
    public init(
        configuration: SimulatorConfiguration = SimulatorConfiguration(),
        now: @escaping @Sendable () -> Date = { Date() },
        httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "daraja-sim")
    ) {
        self.configuration = configuration
        self.state = SimulatorState(now: now)
        self.httpClient = httpClient
        self.logger = logger
    }

    public func buildRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RecordingMiddleware(state: state, logger: logger))
        router.get(RouterPath(Path.oauth)) { request, _ in
            await respond { () async throws(SimulatorError) in try await issueToken(request) }
        }
        router.post(RouterPath(Path.stkPush)) { request, context in
            await respond { () async throws(SimulatorError) in try await stkPush(request, context: context) }
        }
        router.post(RouterPath(Path.stkQuery)) { request, context in
            await respond { () async throws(SimulatorError) in try await stkQuery(request, context: context) }
        }
        router.post(RouterPath(Path.b2cPayment)) { request, context in
            await respond { () async throws(SimulatorError) in try await b2cPayment(request, context: context) }
        }
        if let credentials = configuration.initiatorCredentials {
            router.get(RouterPath(Path.publicKey)) { _, _ in credentials.publicKeyPEM }
        }
        return router
    }

    public func buildApplication() -> some ApplicationProtocol {
        Application(
            router: buildRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "daraja-sim"),
            logger: logger)
    }

    private func respond(_ handler: () async throws(SimulatorError) -> Response) async -> Response {
        do {
            return try await handler()
        } catch {
            return error.response
        }
    }

    // MARK: OAuth

    private func issueToken(_ request: Request) async throws(SimulatorError) -> Response {
        guard let (key, secret) = Self.basicCredentials(request.headers[.authorization]),
            key == configuration.consumerKey, secret == configuration.consumerSecret
        else { throw .invalidAuthentication }
        guard request.uri.queryParameters.get("grant_type") == "client_credentials" else { throw .invalidGrantType }
        let token = await state.issueToken(lifetime: configuration.tokenLifetime)
        return JSONResponse.make(["access_token": .string(token), "expires_in": .string(Self.advertisedTokenLifetime)])
    }

    private static func basicCredentials(_ header: String?) -> (String, String)? {
        guard let header, header.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(header.dropFirst(6))),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    private func authorize(_ request: Request) async throws(SimulatorError) {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            await state.isValid(token: String(header.dropFirst(7)))
        else { throw .invalidAccessToken }
    }

    // MARK: STK push and query

    private func stkPush(_ request: Request, context: BasicRequestContext) async throws(SimulatorError) -> Response {
        try await authorize(request)
        let fields = try await Self.fields(request, context: context)
        try checkSTKPassword(fields)
        guard Self.transactionTypes.contains(try fields.text("TransactionType")) else { throw .invalid("TransactionType") }
        let amount = try fields.integer("Amount", in: Self.amountRange)
        _ = try fields.phone("PartyA")
        guard try fields.text("PartyB").allSatisfy({ $0.isASCII && $0.isNumber }) else { throw .invalid("PartyB") }
        let phone = try fields.phone("PhoneNumber")
        let callbackURL = try fields.url("CallBackURL")
        _ = try fields.text("AccountReference", maxLength: 12)
        _ = try fields.text("TransactionDesc", maxLength: 13)

        let push = await state.acceptPush(phone: phone, amountShillings: amount, callbackURL: callbackURL)
        releaseLater(.push(checkoutRequestID: push.checkoutRequestID))
        return JSONResponse.make([
            "MerchantRequestID": .string(push.merchantRequestID),
            "CheckoutRequestID": .string(push.checkoutRequestID),
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        ])
    }

    private func stkQuery(_ request: Request, context: BasicRequestContext) async throws(SimulatorError) -> Response {
        try await authorize(request)
        let fields = try await Self.fields(request, context: context)
        try checkSTKPassword(fields)
        guard let push = await state.push(checkoutRequestID: try fields.text("CheckoutRequestID")) else {
            throw .invalid("CheckoutRequestID")
        }
        guard let outcome = push.decidedOutcome else { throw .stillProcessing }
        return JSONResponse.make([
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": .string(push.merchantRequestID),
            "CheckoutRequestID": .string(push.checkoutRequestID),
            "ResultCode": .string(String(outcome.resultCode)),
            "ResultDesc": .string(outcome.resultDescription),
        ])
    }

    /// Password = base64(shortcode + passkey + Timestamp). A malformed field is a 400; a
    /// well-formed password that does not match is Daraja's "wrong credentials" (SPEC section 6).
    private func checkSTKPassword(_ fields: RequestFields) throws(SimulatorError) {
        let shortcode = try fields.text("BusinessShortCode")
        guard let passkey = configuration.passkeysByShortcode[shortcode] else { throw .invalid("BusinessShortCode") }
        let timestamp = try fields.text("Timestamp")
        guard NairobiClock.isTimestamp(timestamp) else { throw .invalid("Timestamp") }
        let password = try fields.text("Password")
        guard Data(base64Encoded: password) != nil else { throw .invalid("Password") }
        guard password == Data((shortcode + passkey + timestamp).utf8).base64EncodedString() else { throw .wrongCredentials }
    }

    /// Daraja's callback shape; metadata only on success, `Balance` without a value as Daraja sends it.
    static func stkCallback(_ push: SimulatorState.STKPush, outcome: SimulatedOutcome, completedAt: Date) -> JSONValue {
        var callback: [String: JSONValue] = [
            "MerchantRequestID": .string(push.merchantRequestID),
            "CheckoutRequestID": .string(push.checkoutRequestID),
            "ResultCode": .integer(Int64(outcome.resultCode)),
            "ResultDesc": .string(outcome.resultDescription),
        ]
        if outcome.isSuccess {
            callback["CallbackMetadata"] = [
                "Item": [
                    ["Name": "Amount", "Value": .integer(push.amountShillings - outcome.amountShortfallShillings)],
                    ["Name": "MpesaReceiptNumber", "Value": .string(push.receipt)],
                    ["Name": "Balance"],
                    ["Name": "TransactionDate", "Value": .integer(Int64(NairobiClock.timestamp(completedAt))!)],
                    ["Name": "PhoneNumber", "Value": .integer(Int64(push.phone)!)],
                ]
            ]
        }
        return ["Body": ["stkCallback": .object(callback)]]
    }

    // MARK: B2C

    private func b2cPayment(_ request: Request, context: BasicRequestContext) async throws(SimulatorError) -> Response {
        try await authorize(request)
        let fields = try await Self.fields(request, context: context)
        let originatorConversationID = try fields.text("OriginatorConversationID")
        _ = try fields.text("InitiatorName")
        let securityCredential = try fields.text("SecurityCredential")
        guard Self.b2cCommands.contains(try fields.text("CommandID")) else { throw .invalid("CommandID") }
        let amount = try fields.integer("Amount", in: Self.amountRange)
        guard try fields.text("PartyA") == configuration.b2cShortcode else { throw .invalid("PartyA") }
        let phone = try fields.phone("PartyB")
        _ = try fields.text("Remarks", maxLength: 100)
        let queueTimeOutURL = try fields.url("QueueTimeOutURL")
        let resultURL = try fields.url("ResultURL")
        if let occasion = fields.members["Occassion"]?.text, occasion.count > 100 { throw .invalid("Occassion") }

        let payout = SimulatorState.HeldCallback.Subject.payout(originatorConversationID: originatorConversationID)
        if let conversationID = await state.repeatedPayout(originatorConversationID) {
            releaseLater(payout)
            return Self.b2cAccepted(conversationID: conversationID, originatorConversationID: originatorConversationID)
        }
        // Daraja accepts a bad credential and reports it in the result, as 2001.
        let credentialAccepted = configuration.initiatorCredentials?.accepts(securityCredential) ?? true
        let steered = await state.payoutOutcome(forPhone: phone).map { (code: $0.resultCode, description: $0.resultDescription) }
        let outcome: (code: Int, description: String) =
            credentialAccepted
            ? steered ?? SimulatedOutcome.b2cResult(forPhone: phone)
            : (SimulatedOutcome.wrongPIN.resultCode, SimulatedOutcome.wrongPIN.resultDescription)
        let conversationID = SimulatorIDs.conversationID(sequence: await state.nextSequence(), at: state.now())
        let transactionID = await state.uniqueReceipt()
        let result = Self.b2cResult(
            B2CPayout(
                originatorConversationID: originatorConversationID, conversationID: conversationID, transactionID: transactionID,
                amount: amount, phone: phone, queueTimeOutURL: queueTimeOutURL),
            code: outcome.code, description: outcome.description, completedAt: state.now())
        await state.recordPayout(
            originatorConversationID, conversationID: conversationID, result: JSONResponse.encode(result), resultURL: resultURL)
        releaseLater(payout)
        return Self.b2cAccepted(conversationID: conversationID, originatorConversationID: originatorConversationID)
    }

    private static func b2cAccepted(conversationID: String, originatorConversationID: String) -> Response {
        JSONResponse.make([
            "ConversationID": .string(conversationID),
            "OriginatorConversationID": .string(originatorConversationID),
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        ])
    }

    private struct B2CPayout {
        let originatorConversationID: String
        let conversationID: String
        let transactionID: String
        let amount: Int64
        let phone: String
        let queueTimeOutURL: String
    }

    /// Daraja's result shape; `ResultParameters` only on success.
    private static func b2cResult(_ payout: B2CPayout, code: Int, description: String, completedAt: Date) -> JSONValue {
        var result: [String: JSONValue] = [
            "ResultType": 0,
            "ResultCode": .integer(Int64(code)),
            "ResultDesc": .string(description),
            "OriginatorConversationID": .string(payout.originatorConversationID),
            "ConversationID": .string(payout.conversationID),
            "TransactionID": .string(payout.transactionID),
            "ReferenceData": ["ReferenceItem": ["Key": "QueueTimeoutURL", "Value": .string(payout.queueTimeOutURL)]],
        ]
        if code == 0 {
            let stamp = Array(NairobiClock.timestamp(completedAt))
            let completed = "\(String(stamp[6..<8])).\(String(stamp[4..<6])).\(String(stamp[0..<4])) "
                + "\(String(stamp[8..<10])):\(String(stamp[10..<12])):\(String(stamp[12..<14]))"
            result["ResultParameters"] = [
                "ResultParameter": [
                    ["Key": "TransactionAmount", "Value": .integer(payout.amount)],
                    ["Key": "TransactionReceipt", "Value": .string(payout.transactionID)],
                    ["Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"],
                    ["Key": "ReceiverPartyPublicName", "Value": .string("\(payout.phone) - Simulated Customer")],
                    ["Key": "TransactionCompletedDateTime", "Value": .string(completed)],
                ]
            ]
        }
        return ["Result": .object(result)]
    }

    // MARK: Releasing

    /// Ends a push still processing: from now on the STK query answers its outcome, and its
    /// callbacks (none, one, or the same one twice) are delivered one after the other. Returns
    /// once the receiver has answered each, with what it answered. `deliveries` keeps the rest
    /// held, so a test can look between a duplicate's two deliveries.
    @discardableResult
    public func release(checkoutRequestID: String, deliveries: Int = .max) async -> [SimulatorState.DeliveredCallback] {
        await release(.push(checkoutRequestID: checkoutRequestID), limit: deliveries)
    }

    /// Delivers a payout's result; returns once the receiver has answered it.
    @discardableResult
    public func release(originatorConversationID: String) async -> [SimulatorState.DeliveredCallback] {
        await release(.payout(originatorConversationID: originatorConversationID), limit: .max)
    }

    /// Ends every push still processing and delivers every held callback, oldest first.
    @discardableResult
    public func releaseAll() async -> [SimulatorState.DeliveredCallback] {
        await deliver(await state.releaseAll())
    }

    @discardableResult
    private func release(_ subject: SimulatorState.HeldCallback.Subject, limit: Int) async -> [SimulatorState.DeliveredCallback] {
        await deliver(await state.release(subject, limit: limit))
    }

    /// With a timed configuration, releases in the background once the delay is over, so the
    /// request is answered at once.
    private func releaseLater(_ subject: SimulatorState.HeldCallback.Subject) {
        guard case .after(let delay) = configuration.callbackTiming else { return }
        Task {
            try? await Task.sleep(for: delay)
            await release(subject, limit: .max)
        }
    }

    // MARK: Plumbing

    private static func fields(_ request: Request, context: BasicRequestContext) async throws(SimulatorError) -> RequestFields {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw .invalid("Request Payload")
        }
        return try RequestFields(body: body)
    }

    /// POSTs callbacks one after the other and records what the receiver answered; a receiver
    /// that is down is recorded too, never retried (Daraja does not retry either).
    private func deliver(_ callbacks: [SimulatorState.HeldCallback]) async -> [SimulatorState.DeliveredCallback] {
        var delivered: [SimulatorState.DeliveredCallback] = []
        for callback in callbacks {
            var request = HTTPClientRequest(url: callback.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: callback.body))
            var status: Int?
            do {
                let response = try await httpClient.execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 1 << 16)
                status = Int(response.status.code)
            } catch {
                logger.warning("Callback not delivered", metadata: ["error": "\(error)"])
            }
            let record = SimulatorState.DeliveredCallback(
                url: callback.url, body: String(decoding: callback.body, as: UTF8.self), status: status)
            await state.record(record)
            delivered.append(record)
        }
        return delivered
    }
}

/// Records every request with the status it got, and logs one line for it.
private struct RecordingMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let state: SimulatorState
    let logger: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let status: HTTPResponse.Status
        let outcome: Result<Response, any Error>
        do {
            let response = try await next(request, context)
            status = response.status
            outcome = .success(response)
        } catch {
            status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            outcome = .failure(error)
        }
        await state.record(
            SimulatorState.RecordedRequest(
                method: request.method.rawValue, path: request.uri.path,
                body: String(decoding: body.readableBytesView, as: UTF8.self), status: status.code))
        logger.info("\(request.method) \(request.uri.path) \(status.code)")
        return try outcome.get()
    }
}
