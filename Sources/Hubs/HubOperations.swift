import Core
import Foundation
import Identity
import Logging
import Orders
import PostgresNIO

/// What hub staff do all day (SPEC section 5): see the parcels touching their hub and move
/// them along their leg. Every move is one `SubOrderLifecycle` transition; this type only
/// scopes it to the caller's hub and turns outcomes into answers.
public struct HubOperations: Sendable {
    /// Work lists of a hub.
    public enum Queue: String, Sendable, CaseIterable {
        /// Accepted by their merchant, to be received from the merchant here (origin).
        case inboundFromMerchants = "inbound_from_merchants"
        /// Received here, to be dispatched to their destination hub.
        case toDispatch = "to_dispatch"
        /// Coming from other hubs (destination).
        case inboundTransfers = "inbound_transfers"
        case readyForDelivery = "ready_for_delivery"
        case outForDelivery = "out_for_delivery"
        /// Going back to their merchant, from or to this hub.
        case returning

        /// The queue's condition on sub-orders `s`, with `hub` the placeholder of the hub id.
        func condition(hub: String) -> String {
            switch self {
            case .inboundFromMerchants: "s.origin_hub_id = \(hub) AND s.status = 'accepted'"
            case .toDispatch: "s.origin_hub_id = \(hub) AND s.status = 'at_origin_hub'"
            case .inboundTransfers: "s.destination_hub_id = \(hub) AND s.status = 'in_transit'"
            case .readyForDelivery: "s.destination_hub_id = \(hub) AND s.status = 'at_destination_hub'"
            case .outForDelivery: "s.destination_hub_id = \(hub) AND s.status = 'out_for_delivery'"
            case .returning: "(s.origin_hub_id = \(hub) OR s.destination_hub_id = \(hub)) AND s.status = 'returning'"
            }
        }
    }

    let database: Database
    let orders: Orders
    let effects: Effects

    public init(database: Database, orders: Orders, effects: Effects) {
        self.database = database
        self.orders = orders
        self.effects = effects
    }

    /// The parcels touching the hub, newest first, by queue or status; `number` finds a
    /// sub-order by its number, or every sub-order of a master order by the order's number.
    public func parcels(
        at hubID: UUID, queue: Queue?, status: SubOrderStatus?, number: String? = nil, page: PageRequest
    ) async throws -> Page<SubOrder> {
        var query = FilterQuery()
        let hub = try query.bind(hubID)
        query.filter(queue?.condition(hub: hub) ?? "(s.origin_hub_id = \(hub) OR s.destination_hub_id = \(hub))")
        if let status { query.filter("s.status = \(try query.bind(status.rawValue))") }
        if let number = number?.trimmingCharacters(in: .whitespaces).uppercased(), !number.isEmpty {
            let bound = try query.bind(number)
            query.filter("(s.number = \(bound) OR s.order_id = (SELECT o.id FROM orders o WHERE o.number = \(bound)))")
        }
        if let after = page.after {
            query.filter("(s.created_at, s.id) < (\(try query.bind(after.createdAt)), \(try query.bind(after.id)))")
        }
        let limit = try query.bind(page.limit + 1)
        let ids = try await database.query(
            query.query("SELECT s.id FROM sub_orders s", "ORDER BY s.created_at DESC, s.id DESC LIMIT \(limit)")
        ).map { try $0.decode(UUID.self) }
        let parcels = try await orders.subOrders(ids, scope: .admin)
        return Page(fetched: parcels, limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    /// One parcel touching the caller's hub; any other is not found.
    public func parcel(_ id: UUID, by staff: Principal) async throws -> SubOrder {
        let hubID = try Self.actor(staff).hubID
        guard let parcel = try await orders.subOrders([id], scope: .admin).first,
            parcel.originHub.id == hubID || parcel.destinationHub.id == hubID
        else { throw Problem.notFound("Sub-order") }
        return parcel
    }

    public func receive(_ id: UUID, accepted: Bool, note: String?, by staff: Principal) async throws -> SubOrder {
        try await act(id, staff) { lifecycle, actor, connection in
            try await lifecycle.receive(id, accepted: accepted, note: note, actor: actor, on: connection)
        }
    }

    public func dispatch(_ id: UUID, by staff: Principal) async throws -> SubOrder {
        try await act(id, staff) { lifecycle, actor, connection in
            try await lifecycle.dispatch(id, actor: actor, on: connection)
        }
    }

    public func sendOutForDelivery(_ id: UUID, riderName: String, riderPhone: String, by staff: Principal) async throws -> SubOrder {
        var validator = Validator()
        let name = validator.text(riderName, "rider_name", max: 120)
        let phone = PhoneNumber(normalising: riderPhone)
        validator.check(phone != nil, "rider_phone", "must be a Kenyan mobile number such as 0712345678")
        try validator.validate()
        guard let phone else { throw Problem.validation(field: "rider_phone", "must be a Kenyan mobile number") }
        return try await act(id, staff) { lifecycle, actor, connection in
            try await lifecycle.sendOutForDelivery(id, riderName: name, riderPhone: phone, actor: actor, on: connection)
        }
    }

    /// Delivers at the door. A wrong code answers 422 (with the attempts left) after the failure
    /// was counted; a locked parcel answers 429 with `Retry-After`.
    public func deliver(_ id: UUID, handoverCode: String, codCollectedCents: Int64?, by staff: Principal) async throws -> SubOrder {
        guard handoverCode.count == 6, handoverCode.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw Problem.validation(field: "handover_code", "must be the customer's 6-digit code")
        }
        let actor = try Self.actor(staff)
        let lifecycle = orders.lifecycle
        let orders = self.orders
        let (outcome, delivered) = try await database.transaction { connection in
            let outcome = try await lifecycle.deliver(
                id, handoverCode: handoverCode, codCollectedCents: codCollectedCents, actor: actor, on: connection)
            return (outcome, outcome == .delivered ? try await orders.subOrders([id], scope: .admin, on: connection).first : nil)
        }
        switch outcome {
        case .delivered:
            guard let delivered else { throw Problem.notFound("Sub-order") }
            return delivered
        case .wrongCode(let left):
            throw Problem(
                status: 422, code: "invalid_handover_code", title: "Wrong handover code",
                detail: "The handover code does not match; \(left) more tries before delivery of this parcel is locked.",
                errors: [.init(field: "handover_code", message: "does not match")], extensions: ["attempts_left": .int(Int64(left))])
        case .locked(let until):
            let seconds = max(1, Int(until.timeIntervalSince(effects.now()).rounded(.up)))
            throw Problem(
                status: 429, code: "handover_locked", title: "Delivery locked",
                detail: "Too many wrong handover codes; this parcel can be delivered again in \(seconds / 60 + 1) minutes.",
                headers: ["Retry-After": String(seconds)])
        }
    }

    public func attemptFailed(_ id: UUID, reason: SubOrderLifecycle.AttemptReason, note: String?, by staff: Principal) async throws
        -> SubOrder
    {
        try await act(id, staff) { lifecycle, actor, connection in
            try await lifecycle.attemptFailed(id, reason: reason, note: note, actor: actor, on: connection)
        }
    }

    public func dispatchReturn(_ id: UUID, by staff: Principal) async throws -> SubOrder {
        try await act(id, staff) { lifecycle, actor, connection in
            try await lifecycle.dispatchReturn(id, actor: actor, on: connection)
        }
    }

    public func completeReturn(_ id: UUID, by staff: Principal) async throws -> SubOrder {
        try await act(id, staff) { lifecycle, actor, connection in
            try await lifecycle.completeReturn(id, actor: actor, on: connection)
        }
    }

    private func act(
        _ id: UUID, _ staff: Principal,
        _ transition: @escaping @Sendable (SubOrderLifecycle, Actor, PostgresConnection) async throws -> Void
    ) async throws -> SubOrder {
        let actor = try Self.actor(staff)
        let orders = self.orders
        return try await database.transaction { connection in
            try await transition(orders.lifecycle, actor, connection)
            guard let parcel = try await orders.subOrders([id], scope: .admin, on: connection).first else {
                throw Problem.notFound("Sub-order")
            }
            return parcel
        }
    }

    static func actor(_ staff: Principal) throws -> Actor {
        guard staff.role == .hubStaff, let hubID = staff.hubID else { throw Problem.forbidden() }
        return Actor(userID: staff.userID, role: .hubStaff, hubID: hubID)
    }
}
