/// An STK push: ask the customer's phone to pay `amountCents` to our shortcode.
public struct STKPushRequest: Sendable, Equatable {
    /// Whole shillings only (M-Pesa moves no cents), 1 … 250,000 shillings.
    public var amountCents: Int64
    /// Any form `PhoneNumber` accepts (`07…`, `01…`, `+254…`, `254…`).
    public var phone: String
    /// Where Daraja POSTs the outcome; it carries our callback secret, so it is never logged.
    public var callbackURL: String
    /// Shown to the customer; cut to Daraja's 12 characters.
    public var accountReference: String
    /// Cut to Daraja's 13 characters.
    public var transactionDescription: String

    public init(amountCents: Int64, phone: String, callbackURL: String, accountReference: String, transactionDescription: String) {
        self.amountCents = amountCents
        self.phone = phone
        self.callbackURL = callbackURL
        self.accountReference = accountReference
        self.transactionDescription = transactionDescription
    }
}

/// Daraja took the push; the outcome comes later by callback or query.
public struct STKPushAccepted: Sendable, Equatable {
    public var merchantRequestID: String
    /// The key of the push: the callback and the query name it.
    public var checkoutRequestID: String
    public var responseDescription: String
    public var customerMessage: String

    public init(merchantRequestID: String, checkoutRequestID: String, responseDescription: String, customerMessage: String) {
        self.merchantRequestID = merchantRequestID
        self.checkoutRequestID = checkoutRequestID
        self.responseDescription = responseDescription
        self.customerMessage = customerMessage
    }
}

/// What an STK query says about a push.
public enum STKQueryResult: Sendable, Equatable {
    /// The customer has not finished yet (Daraja's "still processing").
    case pending
    case succeeded
    /// `code` is Daraja's `ResultCode` (e.g. `1032` cancelled, `1` insufficient funds).
    case failed(code: String, description: String)
}

/// A B2C payout (a refund to a customer's phone).
public struct B2CPaymentRequest: Sendable, Equatable {
    /// Ours and unique per payout: Daraja's result names it, so it is the idempotency key.
    public var originatorConversationID: String
    /// Whole shillings only, 1 … 250,000 shillings.
    public var amountCents: Int64
    /// Any form `PhoneNumber` accepts.
    public var phone: String
    /// Cut to Daraja's 100 characters.
    public var remarks: String
    /// Cut to Daraja's 100 characters.
    public var occasion: String
    public var resultURL: String
    public var queueTimeOutURL: String

    public init(
        originatorConversationID: String, amountCents: Int64, phone: String, remarks: String, occasion: String = "",
        resultURL: String, queueTimeOutURL: String
    ) {
        self.originatorConversationID = originatorConversationID
        self.amountCents = amountCents
        self.phone = phone
        self.remarks = remarks
        self.occasion = occasion
        self.resultURL = resultURL
        self.queueTimeOutURL = queueTimeOutURL
    }
}

/// Daraja took the payout; the outcome comes later at the ResultURL.
public struct B2CPaymentAccepted: Sendable, Equatable {
    public var conversationID: String
    public var originatorConversationID: String
    public var responseDescription: String

    public init(conversationID: String, originatorConversationID: String, responseDescription: String) {
        self.conversationID = conversationID
        self.originatorConversationID = originatorConversationID
        self.responseDescription = responseDescription
    }
}

/// Daraja's JSON bodies, with Daraja's field names.
enum Wire {
    struct ErrorAnswer: Decodable {
        let requestId: String?
        let errorCode: String
        let errorMessage: String?
    }

    struct TokenAnswer: Decodable {
        let access_token: String
        /// Seconds, as a string (`"3599"`) or a number.
        let expires_in: FlexibleScalar
    }

    struct STKPush: Encodable {
        let BusinessShortCode: String
        let Password: String
        let Timestamp: String
        let TransactionType: String
        let Amount: Int64
        let PartyA: String
        let PartyB: String
        let PhoneNumber: String
        let CallBackURL: String
        let AccountReference: String
        let TransactionDesc: String
    }

    struct STKPushAnswer: Decodable {
        let MerchantRequestID: String?
        let CheckoutRequestID: String?
        let ResponseCode: FlexibleScalar
        let ResponseDescription: String?
        let CustomerMessage: String?
    }

    struct STKQuery: Encodable {
        let BusinessShortCode: String
        let Password: String
        let Timestamp: String
        let CheckoutRequestID: String
    }

    struct STKQueryAnswer: Decodable {
        let ResponseCode: FlexibleScalar?
        let ResponseDescription: String?
        let ResultCode: FlexibleScalar?
        let ResultDesc: String?
    }

    struct B2CPayment: Encodable {
        let OriginatorConversationID: String
        let InitiatorName: String
        let SecurityCredential: String
        let CommandID: String
        let Amount: Int64
        let PartyA: String
        let PartyB: String
        let Remarks: String
        let QueueTimeOutURL: String
        let ResultURL: String
        let Occassion: String  // sic: Daraja's spelling
    }

    struct B2CPaymentAnswer: Decodable {
        let ConversationID: String?
        let OriginatorConversationID: String?
        let ResponseCode: FlexibleScalar
        let ResponseDescription: String?
    }
}
