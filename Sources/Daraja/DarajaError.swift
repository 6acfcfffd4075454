/// Why a Daraja call did not give the answer asked for.
///
/// Descriptions carry Daraja's codes and messages and our own reasons, never a secret, a token
/// or an answer body (an OAuth answer holds a token).
public enum DarajaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Daraja answered with its error shape `{requestId, errorCode, errorMessage}`, e.g.
    /// `400.002.02` (a bad field), `404.001.03` (a bad token), `500.001.1001` (wrong credentials
    /// or subscriber busy), `500.003.02` (rate limited); or with a non-zero `ResponseCode`.
    case rejected(httpStatus: Int, errorCode: String, errorMessage: String, requestID: String?)
    /// Refused by the client before any network call; `field` names Daraja's field.
    case invalidRequest(field: String, reason: String)
    /// No answer within the configured request timeout: the request may or may not have been
    /// acted on, so an STK push must be settled later by a query or the callback.
    case timeout
    /// Daraja could not be reached at all (connection refused or reset, TLS failure, ...).
    case unreachable(reason: String)
    /// An answer that is neither the expected success nor Daraja's error shape.
    case unexpectedAnswer(httpStatus: Int, reason: String)
    /// The calling task was cancelled.
    case cancelled

    /// Daraja's own `errorCode` when it gave one.
    public var errorCode: String? {
        if case .rejected(_, let code, _, _) = self { return code }
        return nil
    }

    /// Daraja's own `errorMessage` when it gave one.
    public var errorMessage: String? {
        if case .rejected(_, _, let message, _) = self { return message }
        return nil
    }

    /// True when Daraja gave no answer at all (SPEC section 6 rule 1: "no answer", 504).
    public var isNoAnswer: Bool {
        switch self {
        case .timeout, .unreachable: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .rejected(let status, let code, let message, let requestID):
            "Daraja rejected the request: \(code) \(message) (HTTP \(status)\(requestID.map { ", request \($0)" } ?? ""))"
        case .invalidRequest(let field, let reason): "Invalid \(field): \(reason)"
        case .timeout: "Daraja did not answer in time"
        case .unreachable(let reason): "Daraja could not be reached: \(reason)"
        case .unexpectedAnswer(let status, let reason): "Unexpected answer from Daraja (HTTP \(status)): \(reason)"
        case .cancelled: "The Daraja call was cancelled"
        }
    }
}

/// Daraja's error codes the client reacts to.
enum DarajaErrorCode {
    static let invalidAccessToken = "404.001.03"
    /// On an STK query: the customer has not finished yet. Elsewhere: wrong credentials or a busy subscriber.
    static let stillProcessing = "500.001.1001"
}
