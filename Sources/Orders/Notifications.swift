import Core
import Foundation
import Logging
import PostgresNIO

/// What a customer is told when a parcel moves, written to the notification outbox in the
/// transaction of the move (SPEC section 11).
struct CustomerNotice {
    let kind: String
    let title: String
    let body: String

    init?(_ status: SubOrderStatus) {
        switch status {
        case .placed:
            (kind, title, body) = ("order_paid", "Payment received", "We received your M-Pesa payment; the sellers are preparing your order.")
        case .accepted:
            (kind, title, body) = ("sub_order_accepted", "Order accepted", "The seller accepted your parcel and is preparing it.")
        case .inTransit:
            (kind, title, body) = ("sub_order_shipped", "Parcel on its way", "Your parcel left the seller's hub for yours.")
        case .atDestinationHub:
            (kind, title, body) = ("sub_order_at_destination_hub", "Parcel at your hub", "Your parcel reached the hub that serves you.")
        case .outForDelivery:
            (kind, title, body) = ("sub_order_out_for_delivery", "Out for delivery", "A rider is bringing your parcel; have your handover code ready.")
        case .delivered:
            (kind, title, body) = ("sub_order_delivered", "Delivered", "Your parcel was handed over. Thank you for shopping!")
        default:
            return nil
        }
    }

    func send(for parcels: [SubOrderLifecycle.Locked], now: Date, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.exec(
            """
            INSERT INTO notifications (user_id, kind, title, body, order_id, sub_order_id, created_at)
            SELECT p.customer_id, \(kind), \(title) || ' (' || s.number || ')', \(body), p.order_id, p.id, \(now)
            FROM unnest(\(parcels.map(\.customerID))::uuid[], \(parcels.map(\.orderID))::uuid[], \(parcels.map(\.id))::uuid[])
                AS p(customer_id, order_id, id)
            JOIN sub_orders s ON s.id = p.id
            """, logger: logger)
    }
}

/// A user's notifications, newest first.
public struct Notifications: Sendable {
    public struct Notification: Sendable, Equatable {
        public let id: UUID
        public let kind: String
        public let title: String
        public let body: String
        public let orderID: UUID?
        public let subOrderID: UUID?
        public let createdAt: Date
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func list(userID: UUID, page: PageRequest) async throws -> Page<Notification> {
        let rows = try await database.query(
            """
            SELECT id, kind, title, body, order_id, sub_order_id, created_at FROM notifications
            WHERE user_id = \(userID)
              AND (\(page.after?.createdAt)::timestamptz IS NULL OR (created_at, id) < (\(page.after?.createdAt), \(page.after?.id)))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """)
        let items = try rows.map { row in
            let r = row.makeRandomAccess()
            return Notification(
                id: try r.get("id"), kind: try r.get("kind"), title: try r.get("title"), body: try r.get("body"),
                orderID: try r.get("order_id"), subOrderID: try r.get("sub_order_id"), createdAt: try r.get("created_at"))
        }
        return Page(fetched: items, limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }
}
