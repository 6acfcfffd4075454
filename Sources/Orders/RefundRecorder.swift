import Foundation
import PostgresNIO

/// Records automatic refunds, in the caller's transaction: money a parcel holds when it is
/// cancelled, rejected or returned, and money of a payment that found nothing to pay. Declared
/// here, implemented by the Refunds module and connected by the app, so Orders never imports
/// Refunds. Amounts come from the ledger (allocations, cash collected, refunds committed), never
/// from a status.
public protocol RefundRecorder: Sendable {
    /// An approved refund of what each sub-order still holds (paid less refunds committed);
    /// nothing for one that holds nothing. The caller holds the sub-orders' rows.
    func refundHeldMoney(of subOrderIDs: [UUID], reason: AutomaticRefundReason, on connection: PostgresConnection) async throws

    /// An approved refund of `amountCents` of a payment's money that no sub-order took.
    func refundUnallocated(paymentID: UUID, amountCents: Int64, reason: AutomaticRefundReason, on connection: PostgresConnection)
        async throws
}

public enum AutomaticRefundReason: String, Sendable, CaseIterable {
    case cancelled
    case merchantRejected = "merchant_rejected"
    case returned
    /// Money that arrived when its order had nothing left to pay: paid already, expired or cancelled.
    case latePayment = "late_payment"
    /// What was left of a payment after it paid every sub-order waiting for it.
    case unallocatedPayment = "unallocated_payment"
    /// A flagged payment an admin decided to give back.
    case flaggedPayment = "flagged_payment"
}
