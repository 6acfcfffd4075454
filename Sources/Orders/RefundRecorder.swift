import Foundation
import PostgresNIO

/// Records the automatic refund owed when money already received leaves with a parcel
/// (a paid sub-order cancelled, rejected or returned). Declared here, implemented by the
/// Refunds module and connected by the app, so Orders never imports Refunds.
public protocol RefundRecorder: Sendable {
    func recordAutomaticRefund(
        subOrderID: UUID, amountCents: Int64, reason: AutomaticRefundReason, on connection: PostgresConnection
    ) async throws
}

public enum AutomaticRefundReason: String, Sendable {
    case cancelled
    case merchantRejected = "merchant_rejected"
    case returned
    /// Money that arrived after its order expired or was cancelled.
    case latePayment = "late_payment"
    /// A flagged payment an admin decided to give back.
    case flaggedPayment = "flagged_payment"
}
