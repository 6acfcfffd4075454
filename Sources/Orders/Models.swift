import Core
import Foundation
import Identity

public enum SubOrderStatus: String, Sendable, CaseIterable, Codable {
    case awaitingPayment = "awaiting_payment"
    case placed
    case accepted
    case atOriginHub = "at_origin_hub"
    case inTransit = "in_transit"
    case atDestinationHub = "at_destination_hub"
    case outForDelivery = "out_for_delivery"
    case delivered
    case returning
    case returned
    case cancelled
}

public enum CancelReason: String, Sendable, CaseIterable {
    case customer
    case merchantRejected = "merchant_rejected"
    case paymentExpired = "payment_expired"
    case admin
}

public enum PaymentMethod: String, Sendable, CaseIterable {
    case mpesa, cod
}

/// Who moved a sub-order, as written to its event log.
public struct Actor: Sendable {
    public enum Role: String, Sendable {
        case customer, merchant, hubStaff = "hub_staff", admin, system
    }

    public let userID: UUID?
    public let role: Role
    public let hubID: UUID?

    public init(userID: UUID?, role: Role, hubID: UUID? = nil) {
        self.userID = userID
        self.role = role
        self.hubID = hubID
    }

    public static let system = Actor(userID: nil, role: .system)
}

public struct OrderItem: Sendable, Equatable {
    public let id: UUID
    public let productID: UUID
    public let name: String
    public let unitPriceCents: Int64
    public let quantity: Int
    public let lineTotalCents: Int64
    public let refundedQuantity: Int
}

public struct OrderEvent: Sendable, Equatable {
    public let subOrderID: UUID
    public let subOrderNumber: String
    public let from: SubOrderStatus?
    public let to: SubOrderStatus
    public let actorRole: String
    public let hub: HubSummary?
    public let note: String?
    public let at: Date
}

public struct SubOrder: Sendable, Equatable {
    public let id: UUID
    public let orderID: UUID
    public let orderNumber: String
    public let number: String
    public let merchantID: UUID
    public let merchantName: String
    public let status: SubOrderStatus
    /// The order's payment method: whether cash is collected at the door.
    public let paymentMethod: PaymentMethod
    public let cancelReason: CancelReason?
    public let originHub: HubSummary
    public let destinationHub: HubSummary
    public let itemsTotalCents: Int64
    public let deliveryFeeCents: Int64
    public let totalCents: Int64
    public let commissionCents: Int64
    public let merchantPayoutCents: Int64
    public let createdAt: Date
    /// Where the parcel goes; shown to the hub staff who deliver it.
    public let deliveryAddress: Address
    public let riderName: String?
    public let riderPhone: String?
    public var items: [OrderItem]
    public var events: [OrderEvent]
    /// Only in the checkout and handover-codes answers.
    public var handoverCode: String?
}

public struct Address: Sendable, Equatable {
    public let id: UUID
    public let label: String
    public let line1: String
    public let phone: String
    public let zoneID: UUID
    public let zoneName: String
}

public struct Order: Sendable, Equatable {
    public let id: UUID
    public let number: String
    public let customerID: UUID
    public let status: String
    public let paymentMethod: PaymentMethod
    public let paymentState: String
    public let itemsTotalCents: Int64
    public let deliveryFeeCents: Int64
    public let totalCents: Int64
    public let amountPaidCents: Int64
    public let amountRefundedCents: Int64
    public let address: Address
    public let createdAt: Date
    public var subOrders: [SubOrder]
    /// The order's M-Pesa payments, oldest first.
    public var payments: [PaymentRecord] = []
    /// Its refunds, of sub-orders and of payments' unallocated money, oldest first.
    public var refunds: [RefundRecord] = []

    /// Every sub-order's events, oldest first.
    public var timeline: [OrderEvent] {
        subOrders.flatMap(\.events).sorted { $0.at < $1.at }
    }
}

/// Whose orders a reader may see; applied in the SQL, so anything else is simply not found.
public enum OrderScope: Sendable {
    case customer(UUID)
    case merchant(UUID)
    case admin
}
