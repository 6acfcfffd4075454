import Foundation

/// A callback body that is not the shape Daraja sends.
public struct DarajaCallbackError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String

    public var description: String { "Malformed Daraja callback: \(reason)" }
}

/// The STK push outcome Daraja POSTs to the CallBackURL (SPEC section 6).
///
/// Success metadata is read item by item, by name, and every item is optional: a success whose
/// amount or receipt is missing or unreadable still parses (money may have arrived), and the
/// payments code decides what to do with it.
public struct STKCallback: Sendable, Equatable {
    /// What `CallbackMetadata` says about a successful payment.
    public struct Payment: Sendable, Equatable {
        /// The `Amount` item in cents (Daraja sends whole shillings, sometimes as `1.00`).
        public var amountCents: Int64?
        public var receiptNumber: String?
        /// `TransactionDate` as sent: `yyyyMMddHHmmss`, Nairobi time.
        public var transactionTimestamp: String?
        /// `PhoneNumber` as sent (Daraja may mask it).
        public var phoneNumber: String?

        public init(amountCents: Int64?, receiptNumber: String?, transactionTimestamp: String?, phoneNumber: String?) {
            self.amountCents = amountCents
            self.receiptNumber = receiptNumber
            self.transactionTimestamp = transactionTimestamp
            self.phoneNumber = phoneNumber
        }

        /// The amount in whole shillings, when it is whole.
        public var amountShillings: Int64? {
            amountCents.flatMap { $0 % 100 == 0 ? $0 / 100 : nil }
        }

        /// The instant `TransactionDate` names.
        public var transactionDate: Date? {
            transactionTimestamp.flatMap(NairobiTime.instant(fromTimestamp:))
        }
    }

    public var merchantRequestID: String
    public var checkoutRequestID: String
    /// `"0"` is success; integers come in canonical form, anything else as sent.
    public var resultCode: String
    public var resultDescription: String
    /// Present when the callback carried `CallbackMetadata` (only successes do).
    public var payment: Payment?

    public var isSuccess: Bool { resultCode == "0" }

    /// Parses `{"Body":{"stkCallback":{...}}}`.
    public static func parse(_ body: Data) throws(DarajaCallbackError) -> STKCallback {
        let envelope: Wire.Envelope
        do {
            envelope = try JSONDecoder().decode(Wire.Envelope.self, from: body)
        } catch {
            throw DarajaCallbackError(reason: "not an STK callback (\(DecodingFailure.summary(error)))")
        }
        let callback = envelope.Body.stkCallback
        let payment = callback.CallbackMetadata.map { metadata in
            let items = Dictionary(
                metadata.Item.elements.compactMap { item in item.Value.map { (item.Name, $0.text) } },
                uniquingKeysWith: { first, _ in first })
            return Payment(
                amountCents: items["Amount"].flatMap(ExactAmount.cents(fromShillings:)),
                receiptNumber: items["MpesaReceiptNumber"],
                transactionTimestamp: items["TransactionDate"],
                phoneNumber: items["PhoneNumber"])
        }
        return STKCallback(
            merchantRequestID: callback.MerchantRequestID ?? "",
            checkoutRequestID: callback.CheckoutRequestID,
            resultCode: callback.ResultCode.code,
            resultDescription: callback.ResultDesc ?? "",
            payment: payment)
    }

    public init(merchantRequestID: String, checkoutRequestID: String, resultCode: String, resultDescription: String, payment: Payment?) {
        self.merchantRequestID = merchantRequestID
        self.checkoutRequestID = checkoutRequestID
        self.resultCode = resultCode
        self.resultDescription = resultDescription
        self.payment = payment
    }

    // Daraja's field names, so the decoding needs no key mapping.
    private enum Wire {
        struct Envelope: Decodable {
            let Body: CallbackBody
        }
        struct CallbackBody: Decodable {
            let stkCallback: Callback
        }
        struct Callback: Decodable {
            let MerchantRequestID: String?
            let CheckoutRequestID: String
            let ResultCode: FlexibleScalar
            let ResultDesc: String?
            let CallbackMetadata: Metadata?
        }
        struct Metadata: Decodable {
            let Item: OneOrMany<MetadataItem>
        }
        struct MetadataItem: Decodable {
            let Name: String
            let Value: FlexibleScalar?
        }
    }
}

/// The B2C payout outcome Daraja POSTs to the ResultURL (SPEC section 6).
public struct B2CResult: Sendable, Equatable {
    public var resultType: String
    /// `"0"` is success; integers come in canonical form, anything else as sent.
    public var resultCode: String
    public var resultDescription: String
    /// Ours, unique per payout: the payout's idempotency key.
    public var originatorConversationID: String
    public var conversationID: String?
    public var transactionID: String?
    /// `ResultParameters` by `Key`, values as text.
    public var parameters: [String: String]

    public var isSuccess: Bool { resultCode == "0" }
    public var transactionReceipt: String? { parameters["TransactionReceipt"] }
    public var transactionAmountCents: Int64? { parameters["TransactionAmount"].flatMap(ExactAmount.cents(fromShillings:)) }
    public var receiverPartyPublicName: String? { parameters["ReceiverPartyPublicName"] }

    public init(
        resultType: String, resultCode: String, resultDescription: String, originatorConversationID: String,
        conversationID: String?, transactionID: String?, parameters: [String: String]
    ) {
        self.resultType = resultType
        self.resultCode = resultCode
        self.resultDescription = resultDescription
        self.originatorConversationID = originatorConversationID
        self.conversationID = conversationID
        self.transactionID = transactionID
        self.parameters = parameters
    }

    /// Parses `{"Result":{...}}`.
    public static func parse(_ body: Data) throws(DarajaCallbackError) -> B2CResult {
        let result: Wire.ResultBody
        do {
            result = try JSONDecoder().decode(Wire.Envelope.self, from: body).Result
        } catch {
            throw DarajaCallbackError(reason: "not a B2C result (\(DecodingFailure.summary(error)))")
        }
        let parameters = Dictionary(
            (result.ResultParameters?.ResultParameter.elements ?? []).compactMap { parameter in
                parameter.Value.map { (parameter.Key, $0.text) }
            },
            uniquingKeysWith: { first, _ in first })
        return B2CResult(
            resultType: result.ResultType?.text ?? "",
            resultCode: result.ResultCode.code,
            resultDescription: result.ResultDesc ?? "",
            originatorConversationID: result.OriginatorConversationID,
            conversationID: result.ConversationID,
            transactionID: result.TransactionID,
            parameters: parameters)
    }

    private enum Wire {
        struct Envelope: Decodable {
            let Result: ResultBody
        }
        struct ResultBody: Decodable {
            let ResultType: FlexibleScalar?
            let ResultCode: FlexibleScalar
            let ResultDesc: String?
            let OriginatorConversationID: String
            let ConversationID: String?
            let TransactionID: String?
            let ResultParameters: Parameters?
        }
        struct Parameters: Decodable {
            let ResultParameter: OneOrMany<Parameter>
        }
        struct Parameter: Decodable {
            let Key: String
            let Value: FlexibleScalar?
        }
    }
}

/// Short, value-free descriptions of decoding failures: which field, what went wrong.
enum DecodingFailure {
    static func summary(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not JSON" }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "unreadable \(path(context.codingPath))"
        @unknown default:
            return "unreadable"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
