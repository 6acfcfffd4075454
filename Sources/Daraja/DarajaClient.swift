import AsyncHTTPClient
import Core
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Safaricom's Daraja API: OAuth, STK push and query, B2C payouts (SPEC section 6).
///
/// Every method throws only `DarajaError`. Every HTTP exchange is bounded by the configured
/// request timeout. Nothing secret (consumer secret, passkey, password, tokens, security
/// credential, callback URLs) is logged or put in an error.
public struct DarajaClient: Sendable {
    /// M-Pesa's per-transaction maximum, in shillings.
    public static let maximumAmountShillings: Int64 = 250_000
    /// Daraja's limits on free-text fields.
    public static let accountReferenceMaxLength = 12
    public static let transactionDescriptionMaxLength = 13
    public static let b2cTextMaxLength = 100

    public let configuration: DarajaConfiguration
    private let transport: Transport
    private let effects: Effects
    private let tokens: AccessTokenCache

    /// - Parameters:
    ///   - httpClient: shared with the rest of the application; the client never shuts it down.
    ///   - effects: the clock the STK `Timestamp` and the token's renewal time are read from.
    public init(
        configuration: DarajaConfiguration,
        httpClient: HTTPClient = .shared,
        effects: Effects = .live,
        logger: Logger = Logger(label: "daraja")
    ) {
        let transport = Transport(
            httpClient: httpClient,
            baseURL: configuration.baseURL.hasSuffix("/") ? String(configuration.baseURL.dropLast()) : configuration.baseURL,
            timeout: configuration.requestTimeout,
            logger: logger)
        let basicCredentials = Data("\(configuration.consumerKey):\(configuration.consumerSecret)".utf8).base64EncodedString()
        self.configuration = configuration
        self.transport = transport
        self.effects = effects
        let fetchToken: AccessTokenCache.Fetch = { () async throws(DarajaError) in
            try await Self.fetchToken(transport: transport, basicCredentials: basicCredentials)
        }
        self.tokens = AccessTokenCache(renewalMargin: configuration.tokenRenewalMargin, now: effects.now, fetch: fetchToken)
    }

    // MARK: STK push

    /// Sends the payment prompt to the customer's phone. Validation failures throw
    /// `.invalidRequest` before any network call.
    public func stkPush(_ request: STKPushRequest) async throws(DarajaError) -> STKPushAccepted {
        let amount = try Self.wholeShillings(request.amountCents)
        let phone = try Self.phoneNumber(request.phone, field: "PhoneNumber")
        try Self.checkURL(request.callbackURL, field: "CallBackURL")
        let accountReference = try Self.text(
            request.accountReference, field: "AccountReference", maxLength: Self.accountReferenceMaxLength)
        let description = try Self.text(
            request.transactionDescription, field: "TransactionDesc", maxLength: Self.transactionDescriptionMaxLength)
        let credentials = STKPassword(shortcode: configuration.shortcode, passkey: configuration.passkey, at: effects.now())
        let body = Wire.STKPush(
            BusinessShortCode: configuration.shortcode, Password: credentials.password, Timestamp: credentials.timestamp,
            TransactionType: configuration.transactionType.rawValue, Amount: amount, PartyA: phone.value,
            PartyB: configuration.shortcode, PhoneNumber: phone.value, CallBackURL: request.callbackURL,
            AccountReference: accountReference, TransactionDesc: description)

        let answer = try await postAuthorized(Path.stkPush, body: body, operation: "stk_push")
        guard answer.status == 200 else { throw answer.rejection() }
        let accepted = try answer.decode(Wire.STKPushAnswer.self)
        guard accepted.ResponseCode.code == "0" else {
            throw .rejected(
                httpStatus: answer.status, errorCode: accepted.ResponseCode.text,
                errorMessage: accepted.ResponseDescription ?? "", requestID: nil)
        }
        guard let merchantRequestID = accepted.MerchantRequestID, let checkoutRequestID = accepted.CheckoutRequestID else {
            throw .unexpectedAnswer(httpStatus: answer.status, reason: "accepted without MerchantRequestID or CheckoutRequestID")
        }
        return STKPushAccepted(
            merchantRequestID: merchantRequestID, checkoutRequestID: checkoutRequestID,
            responseDescription: accepted.ResponseDescription ?? "", customerMessage: accepted.CustomerMessage ?? "")
    }

    // MARK: STK query

    /// Asks Daraja how a push ended. "Still processing" is `.pending`, not an error.
    public func stkQuery(checkoutRequestID: String) async throws(DarajaError) -> STKQueryResult {
        guard !checkoutRequestID.isEmpty else {
            throw .invalidRequest(field: "CheckoutRequestID", reason: "must not be empty")
        }
        let credentials = STKPassword(shortcode: configuration.shortcode, passkey: configuration.passkey, at: effects.now())
        let body = Wire.STKQuery(
            BusinessShortCode: configuration.shortcode, Password: credentials.password, Timestamp: credentials.timestamp,
            CheckoutRequestID: checkoutRequestID)

        let answer = try await postAuthorized(Path.stkQuery, body: body, operation: "stk_query")
        if answer.status != 200 {
            // Daraja reuses 500.001.1001 for "wrong credentials"; only the processing one is pending,
            // so a bad passkey surfaces instead of leaving every payment pending forever.
            if let error = answer.errorAnswer, error.errorCode == DarajaErrorCode.stillProcessing,
                !(error.errorMessage ?? "").localizedCaseInsensitiveContains("credential")
            {
                return .pending
            }
            throw answer.rejection()
        }
        let result = try answer.decode(Wire.STKQueryAnswer.self)
        if let responseCode = result.ResponseCode, responseCode.code != "0" {
            throw .rejected(
                httpStatus: answer.status, errorCode: responseCode.text, errorMessage: result.ResponseDescription ?? "", requestID: nil)
        }
        guard let resultCode = result.ResultCode?.code else {
            throw .unexpectedAnswer(httpStatus: answer.status, reason: "query answer without ResultCode")
        }
        switch resultCode {
        case "0": return .succeeded
        case "4999": return .pending
        default: return .failed(code: resultCode, description: result.ResultDesc ?? "")
        }
    }

    // MARK: B2C

    /// Asks Daraja to pay a customer; the outcome arrives later at the ResultURL.
    public func b2cPayment(_ request: B2CPaymentRequest) async throws(DarajaError) -> B2CPaymentAccepted {
        guard !request.originatorConversationID.isEmpty else {
            throw .invalidRequest(field: "OriginatorConversationID", reason: "must not be empty")
        }
        let amount = try Self.wholeShillings(request.amountCents)
        let phone = try Self.phoneNumber(request.phone, field: "PartyB")
        try Self.checkURL(request.resultURL, field: "ResultURL")
        try Self.checkURL(request.queueTimeOutURL, field: "QueueTimeOutURL")
        let remarks = try Self.text(request.remarks, field: "Remarks", maxLength: Self.b2cTextMaxLength)
        let body = Wire.B2CPayment(
            OriginatorConversationID: request.originatorConversationID, InitiatorName: configuration.initiatorName,
            SecurityCredential: configuration.securityCredential, CommandID: "BusinessPayment", Amount: amount,
            PartyA: configuration.b2cShortcode, PartyB: phone.value, Remarks: remarks,
            QueueTimeOutURL: request.queueTimeOutURL, ResultURL: request.resultURL,
            Occassion: String(request.occasion.prefix(Self.b2cTextMaxLength)))

        let answer = try await postAuthorized(Path.b2cPayment, body: body, operation: "b2c_payment")
        guard answer.status == 200 else { throw answer.rejection() }
        let accepted = try answer.decode(Wire.B2CPaymentAnswer.self)
        guard accepted.ResponseCode.code == "0" else {
            throw .rejected(
                httpStatus: answer.status, errorCode: accepted.ResponseCode.text,
                errorMessage: accepted.ResponseDescription ?? "", requestID: nil)
        }
        guard let conversationID = accepted.ConversationID else {
            throw .unexpectedAnswer(httpStatus: answer.status, reason: "accepted without ConversationID")
        }
        return B2CPaymentAccepted(
            conversationID: conversationID,
            originatorConversationID: accepted.OriginatorConversationID ?? request.originatorConversationID,
            responseDescription: accepted.ResponseDescription ?? "")
    }

    // MARK: Exchanges

    private enum Path {
        static let oauth = "/oauth/v1/generate?grant_type=client_credentials"
        static let stkPush = "/mpesa/stkpush/v1/processrequest"
        static let stkQuery = "/mpesa/stkpushquery/v1/query"
        static let b2cPayment = "/mpesa/b2c/v3/paymentrequest"
    }

    /// POSTs with the cached token; when Daraja calls the token invalid (it was replaced or
    /// expired early), renews it and sends the same body once more.
    private func postAuthorized(_ path: String, body: some Encodable, operation: String) async throws(DarajaError) -> Transport.Answer {
        let json: Data
        do {
            json = try JSONEncoder().encode(body)
        } catch {
            throw .invalidRequest(field: "body", reason: "could not be encoded")
        }
        let token = try await tokens.token()
        let answer = try await transport.send(.POST, path: path, authorization: "Bearer \(token)", body: json, operation: operation)
        guard answer.errorAnswer?.errorCode == DarajaErrorCode.invalidAccessToken else { return answer }
        await tokens.invalidate(token)
        let freshToken = try await tokens.token()
        return try await transport.send(.POST, path: path, authorization: "Bearer \(freshToken)", body: json, operation: operation)
    }

    private static func fetchToken(
        transport: Transport, basicCredentials: String
    ) async throws(DarajaError) -> (token: String, lifetime: Duration) {
        let answer = try await transport.send(
            .GET, path: Path.oauth, authorization: "Basic \(basicCredentials)", body: nil, operation: "oauth")
        guard answer.status == 200 else { throw answer.rejection() }
        let token = try answer.decode(Wire.TokenAnswer.self)
        guard let seconds = Int64(token.expires_in.text), seconds > 0, !token.access_token.isEmpty else {
            throw .unexpectedAnswer(httpStatus: answer.status, reason: "token answer without a usable access_token and expires_in")
        }
        return (token.access_token, .seconds(seconds))
    }

    // MARK: Validation

    /// Whole shillings within M-Pesa's limits.
    static func wholeShillings(_ cents: Int64) throws(DarajaError) -> Int64 {
        guard Money.isWholeShillings(cents) else {
            throw .invalidRequest(field: "Amount", reason: "M-Pesa moves whole shillings only, got \(cents) cents")
        }
        let shillings = cents / Money.centsPerShilling
        guard (1...maximumAmountShillings).contains(shillings) else {
            throw .invalidRequest(field: "Amount", reason: "must be 1 to \(maximumAmountShillings) shillings, got \(shillings)")
        }
        return shillings
    }

    private static func phoneNumber(_ raw: String, field: String) throws(DarajaError) -> PhoneNumber {
        guard let phone = PhoneNumber(normalising: raw) else {
            throw .invalidRequest(field: field, reason: "not a Kenyan mobile number")
        }
        return phone
    }

    private static func checkURL(_ text: String, field: String) throws(DarajaError) {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false else {
            throw .invalidRequest(field: field, reason: "must be an http(s) URL")
        }
    }

    /// Daraja refuses over-long text; a reference or description is only shown to people, so it
    /// is cut rather than refused. Empty text is refused: Daraja requires these fields.
    private static func text(_ text: String, field: String, maxLength: Int) throws(DarajaError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidRequest(field: field, reason: "must not be empty") }
        return String(trimmed.prefix(maxLength))
    }
}

/// One HTTP exchange with Daraja, bounded by the request timeout, transport failures mapped to
/// `DarajaError`.
struct Transport: Sendable {
    struct Answer {
        let status: Int
        let body: Data

        /// The body as Daraja's `{requestId, errorCode, errorMessage}`, when it is one.
        var errorAnswer: Wire.ErrorAnswer? {
            try? JSONDecoder().decode(Wire.ErrorAnswer.self, from: body)
        }

        func rejection() -> DarajaError {
            guard let error = errorAnswer else {
                return .unexpectedAnswer(httpStatus: status, reason: "no Daraja error body")
            }
            return .rejected(
                httpStatus: status, errorCode: error.errorCode, errorMessage: error.errorMessage ?? "", requestID: error.requestId)
        }

        func decode<Value: Decodable>(_ type: Value.Type) throws(DarajaError) -> Value {
            do {
                return try JSONDecoder().decode(type, from: body)
            } catch {
                throw .unexpectedAnswer(httpStatus: status, reason: DecodingFailure.summary(error))
            }
        }
    }

    /// Answers are small; anything bigger is not Daraja.
    private static let maximumAnswerBytes = 1 << 20

    let httpClient: HTTPClient
    let baseURL: String
    let timeout: Duration
    let logger: Logger

    func send(
        _ method: HTTPMethod, path: String, authorization: String, body: Data?, operation: String
    ) async throws(DarajaError) -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let started = ContinuousClock.now
        // One deadline for the head and the body: a server that stalls mid-body is no answer too.
        let deadline = NIODeadline.now() + .nanoseconds(timeout.wholeNanoseconds)
        do {
            let response = try await httpClient.execute(request, deadline: deadline, logger: logger)
            let bytes = try await response.body.collect(upTo: Self.maximumAnswerBytes)
            let answer = Answer(status: Int(response.status.code), body: Data(bytes.readableBytesView))
            logger.debug(
                "Daraja answered",
                metadata: [
                    "daraja.operation": "\(operation)", "daraja.status": "\(answer.status)",
                    "daraja.error_code": "\(answer.status == 200 ? "" : answer.errorAnswer?.errorCode ?? "")",
                    "duration_ms": "\((ContinuousClock.now - started).wholeNanoseconds / 1_000_000)",
                ])
            return answer
        } catch {
            let failure = Self.failure(error)
            logger.warning("Daraja gave no answer", metadata: ["daraja.operation": "\(operation)", "daraja.error": "\(failure)"])
            throw failure
        }
    }

    private static func failure(_ error: any Error) -> DarajaError {
        if error is CancellationError || Task.isCancelled { return .cancelled }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout:
                return .timeout
            case .cancelled:
                return .cancelled
            default:
                return .unreachable(reason: "\(error)")
            }
        }
        return .unreachable(reason: "\(error)")
    }
}

extension Duration {
    fileprivate var wholeNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
