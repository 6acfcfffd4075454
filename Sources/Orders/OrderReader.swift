import Core
import Foundation
import Identity
import Logging
import PostgresNIO

/// Loads whole orders (sub-orders, items, events) with a fixed number of queries, whatever
/// the number of orders, restricted to what the scope may see.
struct OrderReader: Sendable {
    let logger: Logger

    func orders(_ ids: [UUID], scope: OrderScope, on connection: PostgresConnection) async throws -> [Order] {
        guard !ids.isEmpty else { return [] }
        var subOrders = try await self.subOrders(orderIDs: ids, scope: scope, on: connection)
        try await attachItemsAndEvents(&subOrders, on: connection)
        let byOrder = Dictionary(grouping: subOrders, by: \.orderID)
        let customer: UUID? = if case .customer(let id) = scope { id } else { nil }
        let rows = try await connection.exec(OrdersWithStates(ids: ids, customerID: customer), logger: logger)
        let payments = Dictionary(
            grouping: try await connection.exec(PaymentsOfOrders(ids: ids), logger: logger).map(PaymentRecord.decode), by: \.orderID)
        let refunds = Dictionary(
            grouping: try RefundRecord.decode(try await connection.exec(RefundsOfOrders(ids: ids), logger: logger)), by: \.orderID)
        var orders: [UUID: Order] = [:]
        for row in rows {
            let r = row.makeRandomAccess()
            let id: UUID = try r.get("id")
            guard let subOrders = byOrder[id] else { continue }  // a merchant sees only orders they are part of
            orders[id] = Order(
                id: id, number: try r.get("number"), customerID: try r.get("customer_id"), status: try r.get("status"),
                paymentMethod: PaymentMethod(rawValue: try r.get("payment_method")) ?? .cod,
                paymentState: try r.get("payment_state"), itemsTotalCents: try r.get("items_total_cents"),
                deliveryFeeCents: try r.get("delivery_fee_cents"), totalCents: try r.get("total_cents"),
                amountPaidCents: try r.get("amount_paid_cents"), amountRefundedCents: try r.get("amount_refunded_cents"),
                address: try Self.address(r),
                createdAt: try r.get("created_at"), subOrders: subOrders, payments: payments[id] ?? [], refunds: refunds[id] ?? [])
        }
        return ids.compactMap { orders[$0] }
    }

    func subOrders(ids: [UUID], scope: OrderScope, on connection: PostgresConnection) async throws -> [SubOrder] {
        var subOrders = try decodeSubOrders(try await connection.exec(SubOrdersByID(ids: ids, scope: scope), logger: logger))
        try await attachItemsAndEvents(&subOrders, on: connection)
        let position = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        return subOrders.sorted { position[$0.id, default: 0] < position[$1.id, default: 0] }
    }

    private func subOrders(orderIDs: [UUID], scope: OrderScope, on connection: PostgresConnection) async throws -> [SubOrder] {
        try decodeSubOrders(try await connection.exec(SubOrdersOfOrders(ids: orderIDs, scope: scope), logger: logger))
    }

    private func decodeSubOrders(_ rows: [PostgresRow]) throws -> [SubOrder] {
        return try rows.map { row in
            let r = row.makeRandomAccess()
            return SubOrder(
                id: try r.get("id"), orderID: try r.get("order_id"), orderNumber: try r.get("order_number"),
                number: try r.get("number"), merchantID: try r.get("merchant_id"), merchantName: try r.get("business_name"),
                status: SubOrderStatus(rawValue: try r.get("status")) ?? .placed,
                paymentMethod: PaymentMethod(rawValue: try r.get("payment_method")) ?? .cod,
                cancelReason: try r.get("cancel_reason", as: String?.self).flatMap(CancelReason.init(rawValue:)),
                originHub: HubSummary(id: try r.get("origin_id"), code: try r.get("origin_code"), name: try r.get("origin_name")),
                destinationHub: HubSummary(
                    id: try r.get("destination_id"), code: try r.get("destination_code"), name: try r.get("destination_name")),
                itemsTotalCents: try r.get("items_total_cents"), deliveryFeeCents: try r.get("delivery_fee_cents"),
                totalCents: try r.get("total_cents"), commissionCents: try r.get("commission_cents"),
                merchantPayoutCents: try r.get("merchant_payout_cents"), createdAt: try r.get("created_at"),
                deliveryAddress: try Self.address(r), riderName: try r.get("rider_name"), riderPhone: try r.get("rider_phone"),
                items: [], events: [], handoverCode: nil)
        }
    }

    /// The delivery address as it was snapshotted on the order.
    static func address(_ r: PostgresRandomAccessRow) throws -> Address {
        Address(
            id: try r.get("address_id"), label: try r.get("address_label"), line1: try r.get("address_line1"),
            phone: try r.get("address_phone"), zoneID: try r.get("zone_id"), zoneName: try r.get("zone_name"))
    }

    private func attachItemsAndEvents(_ subOrders: inout [SubOrder], on connection: PostgresConnection) async throws {
        guard !subOrders.isEmpty else { return }
        let ids = subOrders.map(\.id)
        let itemRows = try await connection.exec(ItemsOfSubOrders(ids: ids), logger: logger)
        var items: [UUID: [OrderItem]] = [:]
        for row in itemRows {
            let r = row.makeRandomAccess()
            items[try r.get("sub_order_id"), default: []].append(
                OrderItem(
                    id: try r.get("id"), productID: try r.get("product_id"), name: try r.get("name"),
                    unitPriceCents: try r.get("unit_price_cents"), quantity: try r.get("quantity"),
                    lineTotalCents: try r.get("line_total_cents"), refundedQuantity: try r.get("refunded_quantity")))
        }
        // The sub-orders' numbers are at hand: joining each event to its sub-order again cost
        // the statement half its time on an order page.
        let numbers = Dictionary(subOrders.map { ($0.id, $0.number) }, uniquingKeysWith: { first, _ in first })
        let eventRows = try await connection.exec(EventsOfSubOrders(ids: ids), logger: logger)
        var events: [UUID: [OrderEvent]] = [:]
        for row in eventRows {
            let r = row.makeRandomAccess()
            let subOrderID: UUID = try r.get("sub_order_id")
            let hub: HubSummary? = try r.get("hub_id", as: UUID?.self).map {
                HubSummary(id: $0, code: try r.get("hub_code"), name: try r.get("hub_name"))
            }
            events[subOrderID, default: []].append(
                OrderEvent(
                    subOrderID: subOrderID, subOrderNumber: numbers[subOrderID] ?? "",
                    from: try r.get("from_status", as: String?.self).flatMap(SubOrderStatus.init(rawValue:)),
                    to: SubOrderStatus(rawValue: try r.get("to_status")) ?? .placed, actorRole: try r.get("actor_role"),
                    hub: hub, note: try r.get("note"), at: try r.get("created_at")))
        }
        for index in subOrders.indices {
            subOrders[index].items = items[subOrders[index].id] ?? []
            subOrders[index].events = events[subOrders[index].id] ?? []
        }
    }
}

// The statements of an order read, prepared: planning them cost more than running them.
extension OrderReader {
    private static let selectSubOrders = """
        SELECT s.id, s.order_id, o.number AS order_number, s.number, s.merchant_id, m.business_name, s.status,
               o.payment_method, s.cancel_reason, oh.id AS origin_id, oh.code AS origin_code, oh.name AS origin_name,
               dh.id AS destination_id, dh.code AS destination_code, dh.name AS destination_name,
               s.items_total_cents, s.delivery_fee_cents, s.total_cents, s.commission_cents,
               s.merchant_payout_cents, s.created_at, s.rider_name, s.rider_phone, o.address_id,
               o.address_label, o.address_line1, o.address_phone, o.zone_id, o.zone_name
        FROM sub_orders s
        JOIN orders o ON o.id = s.order_id
        JOIN merchants m ON m.id = s.merchant_id
        JOIN hubs oh ON oh.id = s.origin_hub_id
        JOIN hubs dh ON dh.id = s.destination_hub_id
        """

    /// What a scope narrows sub-orders to: `$2` the customer, `$3` the merchant (null: anyone).
    private static let withinScope = "($2::uuid IS NULL OR o.customer_id = $2) AND ($3::uuid IS NULL OR s.merchant_id = $3)"

    private static func bindings(_ ids: [UUID], scope: OrderScope) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(ids)
        switch scope {
        case .customer(let customerID):
            bindings.append(customerID)
            bindings.append(UUID?.none)
        case .merchant(let merchantID):
            bindings.append(UUID?.none)
            bindings.append(merchantID)
        case .admin:
            bindings.append(UUID?.none)
            bindings.append(UUID?.none)
        }
        return bindings
    }

    struct SubOrdersOfOrders: PreparedStatement {
        static let sql = "\(selectSubOrders) WHERE s.order_id = ANY($1) AND \(withinScope) ORDER BY s.order_id, length(s.number), s.number"
        let ids: [UUID]
        let scope: OrderScope
        func makeBindings() -> PostgresBindings { bindings(ids, scope: scope) }
    }

    struct SubOrdersByID: PreparedStatement {
        static let sql = "\(selectSubOrders) WHERE s.id = ANY($1) AND \(withinScope) ORDER BY s.order_id, length(s.number), s.number"
        let ids: [UUID]
        let scope: OrderScope
        func makeBindings() -> PostgresBindings { bindings(ids, scope: scope) }
    }

    struct ItemsOfSubOrders: PreparedStatementOfIDs {
        static let sql = """
            SELECT id, sub_order_id, product_id, name, unit_price_cents, quantity, line_total_cents, refunded_quantity
            FROM order_items WHERE sub_order_id = ANY($1) ORDER BY sub_order_id, name, id
            """
        let ids: [UUID]
    }

    struct EventsOfSubOrders: PreparedStatementOfIDs {
        static let sql = """
            SELECT e.sub_order_id, e.from_status, e.to_status, e.actor_role, e.note, e.created_at,
                   h.id AS hub_id, h.code AS hub_code, h.name AS hub_name
            FROM sub_order_events e
            LEFT JOIN hubs h ON h.id = e.hub_id
            WHERE e.sub_order_id = ANY($1) ORDER BY e.id
            """
        let ids: [UUID]
    }

    /// Orders with their derived status and payment state; `$2` narrows them to a customer.
    struct OrdersWithStates: PreparedStatement {
        static let sql = """
            SELECT o.id, o.number, o.customer_id, o.payment_method, o.items_total_cents, o.delivery_fee_cents,
                   o.total_cents, o.created_at, o.address_id, o.address_label, o.address_line1, o.address_phone,
                   o.zone_id, o.zone_name, st.status, st.payment_state, st.amount_paid_cents, st.amount_refunded_cents
            FROM orders o JOIN order_states st ON st.order_id = o.id
            WHERE o.id = ANY($1) AND ($2::uuid IS NULL OR o.customer_id = $2)
            """
        let ids: [UUID]
        let customerID: UUID?

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(ids)
            bindings.append(customerID)
            return bindings
        }
    }

    struct PaymentsOfOrders: PreparedStatementOfIDs {
        static let sql = "\(PaymentRecord.select) WHERE p.order_id = ANY($1) ORDER BY p.created_at, p.id"
        let ids: [UUID]
    }

    struct RefundsOfOrders: PreparedStatementOfIDs {
        static let sql = "\(RefundRecord.select) WHERE r.order_id = ANY($1) ORDER BY r.created_at, r.id"
        let ids: [UUID]
    }
}
