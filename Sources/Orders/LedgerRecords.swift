import Core
import Foundation
import Logging
import PostgresNIO

/// An M-Pesa payment as its order, its customer and admins see it. Read in one place
/// (`PaymentRecord.select` and `decode`), here beside the order that shows it.
public struct PaymentRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case pending, succeeded, failed, flagged
    }

    public let id: UUID
    public let orderID: UUID
    public let customerID: UUID
    public let status: Status
    public let amountCents: Int64
    public let phone: String
    public let checkoutRequestID: String?
    public let mpesaReceipt: String?
    /// What M-Pesa reported paid, once it did.
    public let receivedCents: Int64?
    public let resultCode: String?
    public let resultDesc: String?
    public let resolution: String?
    public let createdAt: Date
    public let settledAt: Date?

    public static let select = """
        SELECT p.id, p.order_id, o.customer_id, p.status, p.amount_cents, p.phone, p.checkout_request_id, p.mpesa_receipt,
               p.received_cents, p.result_code, p.result_desc, p.resolution, p.created_at, p.settled_at
        FROM payments p JOIN orders o ON o.id = p.order_id
        """

    public static func decode(_ row: PostgresRow) throws -> PaymentRecord {
        let r = row.makeRandomAccess()
        guard let status = Status(rawValue: try r.get("status")) else { throw StoredValueError(column: "payments.status") }
        return PaymentRecord(
            id: try r.get("id"), orderID: try r.get("order_id"), customerID: try r.get("customer_id"), status: status,
            amountCents: try r.get("amount_cents"), phone: try r.get("phone"), checkoutRequestID: try r.get("checkout_request_id"),
            mpesaReceipt: try r.get("mpesa_receipt"), receivedCents: try r.get("received_cents"), resultCode: try r.get("result_code"),
            resultDesc: try r.get("result_desc"), resolution: try r.get("resolution"), createdAt: try r.get("created_at"),
            settledAt: try r.get("settled_at"))
    }
}

/// A refund with its items and history (SPEC 13.1), read in one place.
public struct RefundRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable, Codable {
        case requested, approved, denied, paying, paid, failed
    }

    public struct Item: Sendable, Equatable, Decodable {
        public let orderItemID: UUID
        public let quantity: Int

        enum CodingKeys: String, CodingKey {
            case orderItemID = "order_item_id"
            case quantity
        }
    }

    public struct Event: Sendable, Equatable, Decodable {
        public let fromStatus: Status?
        public let toStatus: Status
        public let actorRole: String
        public let note: String?
        public let at: Date

        enum CodingKeys: String, CodingKey {
            case fromStatus = "from_status"
            case toStatus = "to_status"
            case actorRole = "actor_role"
            case note
            case microseconds = "at_us"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            fromStatus = try container.decodeIfPresent(Status.self, forKey: .fromStatus)
            toStatus = try container.decode(Status.self, forKey: .toStatus)
            actorRole = try container.decode(String.self, forKey: .actorRole)
            note = try container.decodeIfPresent(String.self, forKey: .note)
            at = Date(timeIntervalSince1970: Double(try container.decode(Int64.self, forKey: .microseconds)) / 1_000_000)
        }
    }

    public let id: UUID
    public let orderID: UUID
    /// nil for the refund of a payment's remainder that found nothing to pay.
    public let subOrderID: UUID?
    public let paymentID: UUID?
    public let customerID: UUID
    public let status: Status
    public let reason: String
    public let details: String
    public let amountCents: Int64
    public let restock: Bool
    public let automatic: Bool
    public let evidenceURLs: [String]
    public let payeePhone: String
    public let mpesaReceipt: String?
    public let failureReason: String?
    public let createdAt: Date
    public let decidedAt: Date?
    public let paidAt: Date?
    public let items: [Item]
    public let history: [Event]

    /// The refund columns, over `r` (the refunds row) and `o` (its order).
    public static let select = """
        SELECT r.id, r.order_id, r.sub_order_id, r.payment_id, o.customer_id, r.status, r.reason, r.details,
               r.amount_cents, r.restock, r.automatic, r.evidence_urls, r.payee_phone, r.mpesa_receipt,
               r.failure_reason, r.created_at, r.decided_at, r.paid_at,
               (SELECT coalesce(json_agg(json_build_object('order_item_id', i.order_item_id, 'quantity', i.quantity)
                                         ORDER BY i.order_item_id), '[]')
                FROM refund_items i WHERE i.refund_id = r.id)::text AS items,
               (SELECT coalesce(json_agg(json_build_object(
                           'from_status', e.from_status, 'to_status', e.to_status, 'actor_role', e.actor_role,
                           'note', e.note, 'at_us', (extract(epoch FROM e.created_at) * 1000000)::bigint)
                         ORDER BY e.id), '[]')
                FROM refund_events e WHERE e.refund_id = r.id)::text AS history
        FROM refunds r JOIN orders o ON o.id = r.order_id
        """

    /// Refunds matching `condition` (over `r`, the refunds row, and `o`, its order), oldest first.
    public static func load(where condition: String, _ binds: PostgresBindings, on connection: PostgresConnection, logger: Logger)
        async throws -> [RefundRecord]
    {
        try decode(
            try await connection.exec(
                PostgresQuery(unsafeSQL: "\(select) WHERE \(condition) ORDER BY r.created_at, r.id", binds: binds), logger: logger))
    }

    public static func decode(_ rows: [PostgresRow]) throws -> [RefundRecord] {
        let decoder = JSONDecoder()
        return try rows.map { row in
            let r = row.makeRandomAccess()
            guard let status = Status(rawValue: try r.get("status")) else { throw StoredValueError(column: "refunds.status") }
            return RefundRecord(
                id: try r.get("id"), orderID: try r.get("order_id"), subOrderID: try r.get("sub_order_id"),
                paymentID: try r.get("payment_id"), customerID: try r.get("customer_id"), status: status,
                reason: try r.get("reason"), details: try r.get("details"), amountCents: try r.get("amount_cents"),
                restock: try r.get("restock"), automatic: try r.get("automatic"), evidenceURLs: try r.get("evidence_urls"),
                payeePhone: try r.get("payee_phone"), mpesaReceipt: try r.get("mpesa_receipt"), failureReason: try r.get("failure_reason"),
                createdAt: try r.get("created_at"), decidedAt: try r.get("decided_at"), paidAt: try r.get("paid_at"),
                items: try decoder.decode([Item].self, from: Data(try r.get("items", as: String.self).utf8)),
                history: try decoder.decode([Event].self, from: Data(try r.get("history", as: String.self).utf8)))
        }
    }
}

/// A stored value no case of ours names: a bug or a hand-edited row, reported, never a crash.
public struct StoredValueError: Error, CustomStringConvertible {
    public let column: String

    public init(column: String) {
        self.column = column
    }

    public var description: String { "an unknown value in \(column)" }
}
