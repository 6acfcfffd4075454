import Core
import Foundation
import Identity
import OpenAPIRuntime
import Orders
import Payments

extension API {
    func checkout(_ input: Operations.Checkout.Input) async throws -> Operations.Checkout.Output {
        let caller = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        guard let addressID = UUID(uuidString: body.addressId) else { throw Problem.validation(field: "address_id", "must be a UUID") }
        let outcome = try await services.orders.checkout.place(
            .init(
                idempotencyKey: input.headers.idempotencyKey, addressID: addressID,
                paymentMethod: try PaymentMethod(mapping: body.paymentMethod.rawValue), expectedTotalCents: body.expectedTotalCents),
            customerID: caller.userID)
        switch outcome {
        case .created(let order): return .created(.init(body: .json(try represent(order, audience: .customer))))
        case .replayed(let order): return .ok(.init(body: .json(try represent(order, audience: .customer))))
        }
    }

    func listMyOrders(_ input: Operations.ListMyOrders.Input) async throws -> Operations.ListMyOrders.Output {
        let caller = try principal()
        let page = try await services.orders.orders(
            of: caller.userID, page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: try represent(page.items, audience: .customer), nextCursor: page.nextCursor))))
    }

    func getMyOrder(_ input: Operations.GetMyOrder.Input) async throws -> Operations.GetMyOrder.Output {
        let caller = try principal()
        let order = try await services.orders.order(try uuid(input.path.id, "Order"), scope: .customer(caller.userID))
        return .ok(.init(body: .json(try represent(order, audience: .customer))))
    }

    func cancelMyOrder(_ input: Operations.CancelMyOrder.Input) async throws -> Operations.CancelMyOrder.Output {
        let caller = try principal()
        let order = try await services.orders.cancel(try uuid(input.path.id, "Order"), by: caller)
        return .ok(.init(body: .json(try represent(order, audience: .customer))))
    }

    func renewHandoverCodes(_ input: Operations.RenewHandoverCodes.Input) async throws -> Operations.RenewHandoverCodes.Output {
        let caller = try principal()
        let order = try await services.orders.freshHandoverCodes(try uuid(input.path.id, "Order"), by: caller)
        return .ok(.init(body: .json(try represent(order, audience: .customer))))
    }

    func listMerchantSubOrders(_ input: Operations.ListMerchantSubOrders.Input) async throws
        -> Operations.ListMerchantSubOrders.Output
    {
        let caller = try principal()
        guard let merchantID = caller.merchantID else { throw Problem.forbidden() }
        let page = try await services.orders.subOrders(
            of: merchantID, status: input.query.status.flatMap { SubOrderStatus(rawValue: $0.rawValue) },
            page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: try page.items.map { try .init($0, audience: .merchant) }, nextCursor: page.nextCursor))))
    }

    func acceptSubOrder(_ input: Operations.AcceptSubOrder.Input) async throws -> Operations.AcceptSubOrder.Output {
        let caller = try principal()
        let subOrder = try await services.orders.accept(try uuid(input.path.id, "Sub-order"), by: caller)
        return .ok(.init(body: .json(try .init(subOrder, audience: .merchant))))
    }

    func rejectSubOrder(_ input: Operations.RejectSubOrder.Input) async throws -> Operations.RejectSubOrder.Output {
        let caller = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let subOrder = try await services.orders.reject(try uuid(input.path.id, "Sub-order"), reason: body.reason, by: caller)
        return .ok(.init(body: .json(try .init(subOrder, audience: .merchant))))
    }

    func searchOrders(_ input: Operations.SearchOrders.Input) async throws -> Operations.SearchOrders.Output {
        let query = input.query
        let days = try services.calendar.range(from: query.from, to: query.to)
        let page = try await services.orders.search(
            .init(
                number: query.number, customerID: try query.customerId.map { try bodyUUID($0, "customer_id") },
                merchantID: try query.merchantId.map { try bodyUUID($0, "merchant_id") }, status: query.status?.rawValue,
                from: days.from, to: days.to),
            page: try PageRequest(limit: query.limit, cursor: query.cursor))
        return .ok(.init(body: .json(.init(items: try represent(page.items, audience: .admin), nextCursor: page.nextCursor))))
    }

    func adminCancelSubOrder(_ input: Operations.AdminCancelSubOrder.Input) async throws -> Operations.AdminCancelSubOrder.Output {
        let admin = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let subOrder = try await services.orders.cancelSubOrder(try uuid(input.path.id, "Sub-order"), note: body.reason, by: admin)
        return .ok(.init(body: .json(try .init(subOrder, audience: .admin))))
    }
}

/// Who reads an order decides what it shows: commission and payout only for the merchant and admins.
enum Audience {
    case customer, merchant, hubStaff, admin

    var seesCommission: Bool { self == .merchant || self == .admin }
    var seesDelivery: Bool { self == .hubStaff || self == .admin }
}

extension API {
    /// Orders as answered: everything in them was read with them, in the same transaction as
    /// any write that produced them.
    func represent(_ orders: [Order], audience: Audience) throws -> [Components.Schemas.Order] {
        try orders.map { try .init($0, audience: audience) }
    }

    func represent(_ order: Order, audience: Audience) throws -> Components.Schemas.Order {
        try .init(order, audience: audience)
    }
}

extension Components.Schemas.Order {
    init(_ order: Order, audience: Audience) throws {
        self.init(
            id: order.id.lowercased, number: order.number, status: try .init(mapping: order.status),
            paymentMethod: try .init(mapping: order.paymentMethod.rawValue), paymentState: try .init(mapping: order.paymentState),
            itemsTotalCents: order.itemsTotalCents, deliveryFeeCents: order.deliveryFeeCents, totalCents: order.totalCents,
            amountPaidCents: order.amountPaidCents, amountRefundedCents: order.amountRefundedCents,
            address: try .init(order.address),
            createdAt: order.createdAt, subOrders: try order.subOrders.map { try .init($0, audience: audience) },
            payments: try order.payments.map(Components.Schemas.Payment.init), refunds: try order.refunds.map(Components.Schemas.Refund.init),
            timeline: try order.timeline.map(Components.Schemas.TimelineEvent.init))
    }
}

extension Components.Schemas.SubOrder {
    init(_ subOrder: SubOrder, audience: Audience) throws {
        self.init(
            id: subOrder.id.lowercased, number: subOrder.number, orderId: subOrder.orderID.lowercased, orderNumber: subOrder.orderNumber,
            merchant: .init(id: subOrder.merchantID.lowercased, name: subOrder.merchantName),
            status: try .init(mapping: subOrder.status.rawValue),
            cancelReason: subOrder.cancelReason.flatMap { .init(rawValue: $0.rawValue) },
            originHub: .init(subOrder.originHub), destinationHub: .init(subOrder.destinationHub),
            itemsTotalCents: subOrder.itemsTotalCents, deliveryFeeCents: subOrder.deliveryFeeCents, totalCents: subOrder.totalCents,
            commissionCents: audience.seesCommission ? subOrder.commissionCents : nil,
            merchantPayoutCents: audience.seesCommission ? subOrder.merchantPayoutCents : nil,
            items: subOrder.items.map {
                .init(
                    id: $0.id.lowercased, productId: $0.productID.lowercased, name: $0.name, unitPriceCents: $0.unitPriceCents,
                    quantity: $0.quantity, lineTotalCents: $0.lineTotalCents, refundedQuantity: $0.refundedQuantity)
            },
            events: try subOrder.events.map(Components.Schemas.TimelineEvent.init), handoverCode: subOrder.handoverCode,
            deliveryAddress: audience.seesDelivery ? try .init(subOrder.deliveryAddress) : nil,
            rider: audience.seesDelivery ? subOrder.riderName.map { .init(name: $0, phone: subOrder.riderPhone ?? "") } : nil)
    }
}

extension Components.Schemas.OrderAddress {
    init(_ address: Address) throws {
        self.init(
            id: address.id.lowercased, label: address.label, line1: address.line1, phone: address.phone,
            zone: .init(id: address.zoneID.lowercased, name: address.zoneName))
    }
}

extension Components.Schemas.TimelineEvent {
    init(_ event: OrderEvent) throws {
        self.init(
            subOrderId: event.subOrderID.lowercased, subOrderNumber: event.subOrderNumber,
            fromStatus: event.from.flatMap { .init(rawValue: $0.rawValue) }, toStatus: try .init(mapping: event.to.rawValue),
            actorRole: try .init(mapping: event.actorRole), hub: event.hub.map(Components.Schemas.HubRef.init), note: event.note,
            at: event.at)
    }
}

