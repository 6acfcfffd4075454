import Core
import Foundation
import Logging
import PostgresNIO

/// The sub-order state machine (SPEC section 5), all of it: every transition is one named
/// function that locks the rows, checks the current state and the caller's leg, updates
/// conditionally, appends an event, and moves stock, cash, refunds and notifications, all in the
/// caller's transaction. Nothing else writes `sub_orders.status`.
public struct SubOrderLifecycle: Sendable {
    let effects: Effects
    let logger: Logger
    let codes: HandoverCodes
    let refunds: any RefundRecorder
    /// Failed delivery attempts after which a parcel goes back to its merchant.
    let maxDeliveryAttempts: Int

    /// Wrong handover codes in a row that lock a parcel's delivery, and for how long.
    public static let handoverAttemptsBeforeLock = 5
    public static let handoverLockDuration: TimeInterval = 15 * 60

    public init(effects: Effects, logger: Logger, codes: HandoverCodes, refunds: any RefundRecorder, maxDeliveryAttempts: Int) {
        self.effects = effects
        self.logger = logger
        self.codes = codes
        self.refunds = refunds
        self.maxDeliveryAttempts = maxDeliveryAttempts
    }

    /// A sub-order row held for update, with what the transitions decide on.
    struct Locked {
        let id: UUID
        let number: String
        let status: SubOrderStatus
        let orderID: UUID
        let customerID: UUID
        let paymentMethod: PaymentMethod
        let totalCents: Int64
        let originHubID: UUID
        let destinationHubID: UUID
        let returnDispatched: Bool
        let failedHandoverAttempts: Int
        let handoverLockedUntil: Date?

        var skipsTransfer: Bool { originHubID == destinationHubID }
    }

    // MARK: Merchant

    /// placed → accepted, by the sub-order's merchant.
    public func accept(_ subOrderID: UUID, merchantID: UUID, actor: Actor, on connection: PostgresConnection) async throws {
        let locked = try await lockOne(subOrderID, scope: .merchant(merchantID), on: connection)
        try await move([locked], allowed: [.placed], to: .accepted, actor: actor, note: nil, on: connection)
    }

    /// placed → cancelled (merchant_rejected), with the reason; the stock goes back.
    public func reject(_ subOrderID: UUID, merchantID: UUID, reason: String, actor: Actor, on connection: PostgresConnection) async throws {
        let locked = try await lockOne(subOrderID, scope: .merchant(merchantID), on: connection)
        try await move(
            [locked], allowed: [.placed], to: .cancelled, cancelReason: .merchantRejected, actor: actor, note: reason, on: connection)
    }

    // MARK: Customer and admin

    /// Statuses a customer may still cancel: the parcel has not reached a hub.
    public static let customerCancellable: Set<SubOrderStatus> = [.awaitingPayment, .placed, .accepted]

    /// Cancels every sub-order of the customer's order that has not reached a hub; returns how
    /// many were cancelled (409 when none could be).
    @discardableResult
    public func cancelByCustomer(_ orderID: UUID, customerID: UUID, actor: Actor, on connection: PostgresConnection) async throws -> Int {
        let rows = try await lock(on: connection) { query in
            query.filter("s.order_id = \(try query.bind(orderID))")
            query.filter("o.customer_id = \(try query.bind(customerID))")
        }
        guard !rows.isEmpty else { throw Problem.notFound("Order") }
        let pending = try await connection.exec(
            "SELECT id FROM payments WHERE order_id = \(orderID) AND status = 'pending'", logger: logger)
        if let payment = pending.first {
            throw Problem(
                status: 409, code: "payment_pending", title: "Payment in progress",
                detail: "An M-Pesa payment for this order is waiting for the customer's answer; cancel after it ends.",
                extensions: ["payment_id": .string(try payment.decode(UUID.self).lowercased)])
        }
        let cancellable = rows.filter { Self.customerCancellable.contains($0.status) }
        guard !cancellable.isEmpty else {
            let furthest = rows.first { $0.status != .cancelled }?.status ?? .cancelled
            throw Problem.invalidTransition(furthest, "No part of this order can be cancelled any more: every parcel has reached a hub or is cancelled.")
        }
        try await move(
            cancellable, allowed: Self.customerCancellable, to: .cancelled, cancelReason: .customer, actor: actor, note: nil,
            on: connection)
        return cancellable.count
    }

    /// Statuses an admin may cancel: anything before the parcel goes out for delivery.
    public static let adminCancellable: Set<SubOrderStatus> = [
        .awaitingPayment, .placed, .accepted, .atOriginHub, .inTransit, .atDestinationHub,
    ]

    public func cancelByAdmin(_ subOrderID: UUID, note: String, actor: Actor, on connection: PostgresConnection) async throws {
        let locked = try await lockOne(subOrderID, scope: .admin, on: connection)
        try await move([locked], allowed: Self.adminCancellable, to: .cancelled, cancelReason: .admin, actor: actor, note: note, on: connection)
    }

    // MARK: Hub staff

    /// The origin hub takes a parcel from its merchant (accepted → at_origin_hub, or straight to
    /// at_destination_hub when it is also the destination); the destination hub takes a transfer
    /// (in_transit → at_destination_hub). Refusing (damaged, wrong items) keeps the state and
    /// records the note.
    public func receive(_ subOrderID: UUID, accepted: Bool, note: String?, actor: Actor, on connection: PostgresConnection) async throws {
        let hubID = try hub(of: actor)
        let parcel = try await lockOne(subOrderID, scope: .hub(hubID), on: connection)
        let note = try Validator.note(note)
        let target: SubOrderStatus
        switch parcel.status {
        case .accepted where parcel.originHubID == hubID:
            target = parcel.skipsTransfer ? .atDestinationHub : .atOriginHub
        case .inTransit where parcel.destinationHubID == hubID:
            target = .atDestinationHub
        default:
            throw Problem.invalidTransition(parcel.status, "This hub cannot receive the parcel now: it is \(parcel.status.rawValue).")
        }
        if accepted {
            try await move([parcel], allowed: [parcel.status], to: target, actor: actor, note: note, on: connection)
        } else {
            guard let note, !note.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Problem.validation(field: "note", "say why the parcel is refused")
            }
            try await record(parcel, note: "Refused at the hub: \(note)", actor: actor, on: connection)
        }
    }

    /// at_origin_hub → in_transit, by the origin hub, when the destination is another hub.
    public func dispatch(_ subOrderID: UUID, actor: Actor, on connection: PostgresConnection) async throws {
        let hubID = try hub(of: actor)
        let parcel = try await lockOne(subOrderID, scope: .hub(hubID), on: connection)
        guard parcel.originHubID == hubID, !parcel.skipsTransfer else {
            throw Problem.invalidTransition(parcel.status, "Only the origin hub dispatches a parcel to another hub.")
        }
        try await move([parcel], allowed: [.atOriginHub], to: .inTransit, actor: actor, note: nil, on: connection)
    }

    /// at_destination_hub → out_for_delivery with a rider, by the destination hub. Customers see
    /// only the rider's first name.
    public func sendOutForDelivery(
        _ subOrderID: UUID, riderName: String, riderPhone: PhoneNumber, actor: Actor, on connection: PostgresConnection
    ) async throws {
        let hubID = try hub(of: actor)
        let parcel = try await lockOne(subOrderID, scope: .hub(hubID), on: connection)
        try requireDestination(parcel, hubID)
        try await move([parcel], allowed: [.atDestinationHub], to: .outForDelivery, actor: actor,
                       note: "Rider: \(riderName.split(separator: " ").first.map(String.init) ?? riderName)", on: connection)
        try await connection.exec(
            "UPDATE sub_orders SET rider_name = \(riderName), rider_phone = \(riderPhone.value) WHERE id = \(parcel.id)", logger: logger)
    }

    public enum DeliveryOutcome: Sendable, Equatable {
        case delivered
        case wrongCode(attemptsLeft: Int)
        case locked(until: Date)
    }

    /// out_for_delivery → delivered at the door, by the destination hub: needs the customer's
    /// handover code and, for cash on delivery, the cash collected, which must equal the
    /// sub-order's total and is then held by the staff member until remitted. A wrong code is
    /// counted (and committed: the caller answers the failure after this transaction commits).
    public func deliver(
        _ subOrderID: UUID, handoverCode: String, codCollectedCents: Int64?, actor: Actor, on connection: PostgresConnection
    ) async throws -> DeliveryOutcome {
        let hubID = try hub(of: actor)
        let parcel = try await lockOne(subOrderID, scope: .hub(hubID), on: connection)
        try requireDestination(parcel, hubID)
        guard parcel.status == .outForDelivery else {
            throw Problem.invalidTransition(parcel.status, "Only a parcel out for delivery can be delivered.")
        }
        switch (parcel.paymentMethod, codCollectedCents) {
        case (.cod, nil):
            throw Problem.validation(field: "cod_collected_cents", "is required for a cash-on-delivery parcel")
        case (.mpesa, .some):
            throw Problem.validation(field: "cod_collected_cents", "must be left out: this parcel is paid by M-Pesa")
        default:
            break
        }
        let now = effects.now()
        if let until = parcel.handoverLockedUntil, until > now { return .locked(until: until) }
        let digest = try await connection.exec(
            "SELECT handover_code_hash FROM sub_orders WHERE id = \(parcel.id)", logger: logger)[0].decode(Data.self)
        guard codes.matches(handoverCode, subOrderID: parcel.id, digest: digest) else {
            let failures = parcel.failedHandoverAttempts + 1
            let lockedUntil = failures >= Self.handoverAttemptsBeforeLock ? now.addingTimeInterval(Self.handoverLockDuration) : nil
            try await connection.exec(
                """
                UPDATE sub_orders SET failed_handover_attempts = \(lockedUntil == nil ? failures : 0),
                    handover_locked_until = \(lockedUntil)
                WHERE id = \(parcel.id)
                """, logger: logger)
            if let lockedUntil { return .locked(until: lockedUntil) }
            return .wrongCode(attemptsLeft: Self.handoverAttemptsBeforeLock - failures)
        }
        if let collected = codCollectedCents, collected != parcel.totalCents {
            throw Problem(
                status: 422, code: "cod_amount_mismatch", title: "Wrong cash amount",
                detail: "Collect exactly \(parcel.totalCents) cents for this parcel, not \(collected).",
                errors: [.init(field: "cod_collected_cents", message: "must equal the sub-order's total_cents")],
                extensions: ["total_cents": .int(parcel.totalCents)])
        }
        try await move([parcel], allowed: [.outForDelivery], to: .delivered, actor: actor, note: nil, on: connection)
        try await connection.exec(
            "UPDATE sub_orders SET failed_handover_attempts = 0, handover_locked_until = NULL WHERE id = \(parcel.id)", logger: logger)
        if let collected = codCollectedCents {
            try await connection.exec(
                """
                INSERT INTO cod_collections (sub_order_id, hub_id, staff_id, amount_cents, collected_at)
                VALUES (\(parcel.id), \(hubID), \(actor.userID), \(collected), \(now))
                """, logger: logger)
        }
        return .delivered
    }

    public enum AttemptReason: String, Sendable, CaseIterable {
        case customerAbsent = "customer_absent"
        case addressNotFound = "address_not_found"
        case customerRefused = "customer_refused"
        case other
    }

    /// out_for_delivery → at_destination_hub with the attempt recorded; after the last allowed
    /// attempt, or when the customer refused, the parcel goes on to returning.
    public func attemptFailed(
        _ subOrderID: UUID, reason: AttemptReason, note: String?, actor: Actor, on connection: PostgresConnection
    ) async throws {
        let hubID = try hub(of: actor)
        let parcel = try await lockOne(subOrderID, scope: .hub(hubID), on: connection)
        try requireDestination(parcel, hubID)
        let note = try Validator.note(note)
        try await move([parcel], allowed: [.outForDelivery], to: .atDestinationHub, actor: actor,
                       note: "Delivery attempt failed: \(reason.rawValue)", on: connection)
        let attempt = try await connection.exec(
            """
            INSERT INTO delivery_attempts (sub_order_id, attempt_number, reason, note, staff_id, hub_id, created_at)
            SELECT \(parcel.id), count(*) + 1, \(reason.rawValue), \(note), \(actor.userID), \(hubID), \(effects.now())
            FROM delivery_attempts WHERE sub_order_id = \(parcel.id)
            RETURNING attempt_number
            """, logger: logger)[0].decode(Int.self)
        if reason == .customerRefused || attempt >= maxDeliveryAttempts {
            let why = reason == .customerRefused ? "Refused by the customer" : "\(attempt) delivery attempts failed"
            try await move([parcel.with(status: .atDestinationHub)], allowed: [.atDestinationHub], to: .returning, actor: actor,
                           note: why, on: connection)
        }
    }

    /// The destination hub sends a returning parcel back to its origin hub.
    public func dispatchReturn(_ subOrderID: UUID, actor: Actor, on connection: PostgresConnection) async throws {
        let hubID = try hub(of: actor)
        let parcel = try await lockOne(subOrderID, scope: .hub(hubID), on: connection)
        guard parcel.status == .returning, parcel.destinationHubID == hubID, !parcel.skipsTransfer, !parcel.returnDispatched else {
            throw Problem.invalidTransition(
                parcel.status, "Only the destination hub sends a returning parcel back, once, when the origin is another hub.")
        }
        try await connection.exec(
            "UPDATE sub_orders SET return_dispatched_at = \(effects.now()) WHERE id = \(parcel.id)", logger: logger)
        try await record(parcel, note: "Sent back to the origin hub", actor: actor, on: connection)
    }

    /// returning → returned when the origin hub hands the parcel back to the merchant (after the
    /// destination sent it back, unless both are the same hub). The units go back into stock
    /// and money received is refunded.
    public func completeReturn(_ subOrderID: UUID, actor: Actor, on connection: PostgresConnection) async throws {
        let hubID = try hub(of: actor)
        let parcel = try await lockOne(subOrderID, scope: .hub(hubID), on: connection)
        guard parcel.originHubID == hubID, parcel.skipsTransfer || parcel.returnDispatched else {
            throw Problem.invalidTransition(
                parcel.status, "Only the origin hub completes a return, once the parcel is back from the destination hub.")
        }
        try await move([parcel], allowed: [.returning], to: .returned, actor: actor, note: nil, on: connection)
    }

    // MARK: Payments

    /// awaiting_payment → placed for every unpaid sub-order of the order, when its M-Pesa payment
    /// succeeded. Returns the sub-orders released, with their totals, in the order of their
    /// numbers, for allocating the payment; none when the order was paid, expired or cancelled
    /// meanwhile.
    public func markPaid(_ orderID: UUID, receipt: String?, on connection: PostgresConnection) async throws -> [(id: UUID, totalCents: Int64)] {
        let rows = try await lock(on: connection) { query in
            query.filter("s.order_id = \(try query.bind(orderID))")
            query.filter("s.status = 'awaiting_payment'")
        }
        try await move(rows, allowed: [.awaitingPayment], to: .placed, actor: .system,
                       note: receipt.map { "Paid by M-Pesa, receipt \($0)" } ?? "Paid by M-Pesa", on: connection)
        return rows.sorted { ($0.number.count, $0.number) < ($1.number.count, $1.number) }.map { ($0.id, $0.totalCents) }
    }

    // MARK: System

    /// Orders with unpaid M-Pesa sub-orders placed before `cutoff` and nothing that may still pay
    /// for them, up to `limit`.
    public static func expiryCandidates(placedBefore cutoff: Date, limit: Int, on connection: PostgresConnection, logger: Logger)
        async throws -> [UUID]
    {
        try await connection.exec(
            """
            SELECT DISTINCT s.order_id FROM sub_orders s
            WHERE s.status = 'awaiting_payment' AND s.created_at < \(cutoff)
              AND NOT EXISTS (\(unescaped: paymentThatMayStillPay(order: "s.order_id")))
            LIMIT \(limit)
            """, logger: logger
        ).map { try $0.decode(UUID.self) }
    }

    /// Cancels an order's unpaid sub-orders (payment_expired), all of them or none, and puts
    /// their stock back. Whether the order is still due is decided under the rows' locks, which
    /// a push and a payment's success take too. Returns how many expired.
    public func expire(_ orderID: UUID, placedBefore cutoff: Date, on connection: PostgresConnection) async throws -> Int {
        let rows = try await lock(on: connection) { query in
            query.filter("s.order_id = \(try query.bind(orderID))")
            query.filter("s.status = 'awaiting_payment'")
        }
        guard !rows.isEmpty else { return 0 }
        let due = try await connection.exec(
            """
            SELECT bool_and(s.created_at < \(cutoff)) AND NOT EXISTS (\(unescaped: Self.paymentThatMayStillPay(order: "$2")))
            FROM sub_orders s WHERE s.order_id = \(orderID) AND s.status = 'awaiting_payment'
            """, logger: logger)
        guard try due.first?.decode(Bool?.self) == true else { return 0 }
        try await move(
            rows, allowed: [.awaitingPayment], to: .cancelled, cancelReason: .paymentExpired, actor: .system, note: nil,
            on: connection)
        return rows.count
    }

    /// A push in flight, or a flagged payment no admin has resolved, may still pay for the order.
    private static func paymentThatMayStillPay(order: String) -> String {
        """
        SELECT 1 FROM payments p WHERE p.order_id = \(order)
          AND (p.status = 'pending' OR (p.status = 'flagged' AND p.resolution IS NULL))
        """
    }

    // MARK: The one mechanism

    enum LockScope {
        case merchant(UUID)
        case hub(UUID)
        case admin
    }

    private func hub(of actor: Actor) throws -> UUID {
        guard actor.role == .hubStaff, let hubID = actor.hubID else { throw Problem.forbidden("Only hub staff act on parcels at a hub.") }
        return hubID
    }

    private func requireDestination(_ parcel: Locked, _ hubID: UUID) throws {
        guard parcel.destinationHubID == hubID else {
            throw Problem.invalidTransition(parcel.status, "Only the destination hub sends out and delivers this parcel.")
        }
    }

    private func lockOne(_ id: UUID, scope: LockScope, on connection: PostgresConnection) async throws -> Locked {
        let rows = try await lock(on: connection) { query in
            query.filter("s.id = \(try query.bind(id))")
            switch scope {
            case .merchant(let merchantID):
                query.filter("s.merchant_id = \(try query.bind(merchantID))")
            case .hub(let hubID):
                let hub = try query.bind(hubID)
                query.filter("(s.origin_hub_id = \(hub) OR s.destination_hub_id = \(hub))")
            case .admin:
                break
            }
        }
        guard let locked = rows.first else { throw Problem.notFound("Sub-order") }
        return locked
    }

    /// Locks the matching sub-orders in id order, so concurrent transitions queue instead of
    /// deadlocking. The scope is part of the WHERE: a sub-order outside it is not found.
    private func lock(
        on connection: PostgresConnection, skipLocked: Bool = false, limit: Int? = nil,
        _ filters: (inout FilterQuery) throws -> Void
    ) async throws -> [Locked] {
        var query = FilterQuery()
        try filters(&query)
        let tail = "ORDER BY s.id" + (limit.map { " LIMIT \($0)" } ?? "") + " FOR UPDATE OF s" + (skipLocked ? " SKIP LOCKED" : "")
        let rows = try await connection.exec(
            query.query(
                """
                SELECT s.id, s.number, s.status, s.order_id, o.customer_id, o.payment_method, s.total_cents, s.origin_hub_id,
                       s.destination_hub_id, s.return_dispatched_at IS NOT NULL AS return_dispatched,
                       s.failed_handover_attempts, s.handover_locked_until
                FROM sub_orders s JOIN orders o ON o.id = s.order_id
                """, tail), logger: logger)
        return try rows.map { row in
            let r = row.makeRandomAccess()
            guard let status = SubOrderStatus(rawValue: try r.get("status")),
                let method = PaymentMethod(rawValue: try r.get("payment_method"))
            else { throw Problem.internalError }
            return Locked(
                id: try r.get("id"), number: try r.get("number"), status: status, orderID: try r.get("order_id"), customerID: try r.get("customer_id"),
                paymentMethod: method, totalCents: try r.get("total_cents"), originHubID: try r.get("origin_hub_id"),
                destinationHubID: try r.get("destination_hub_id"), returnDispatched: try r.get("return_dispatched"),
                failedHandoverAttempts: try r.get("failed_handover_attempts"), handoverLockedUntil: try r.get("handover_locked_until"))
        }
    }

    /// Moves locked sub-orders to `to`; any not in `allowed` makes the whole call 409.
    func move(
        _ rows: [Locked], allowed: Set<SubOrderStatus>, to target: SubOrderStatus, cancelReason: CancelReason? = nil,
        actor: Actor, note: String?, on connection: PostgresConnection
    ) async throws {
        if let stuck = rows.first(where: { !allowed.contains($0.status) }) {
            throw Problem.invalidTransition(stuck.status, "A \(stuck.status.rawValue) sub-order cannot become \(target.rawValue).")
        }
        guard !rows.isEmpty else { return }
        let now = effects.now()
        let ids = rows.map(\.id)
        let from = rows.map(\.status.rawValue)
        try await connection.exec(
            """
            WITH moved AS (
                UPDATE sub_orders SET status = \(target.rawValue), cancel_reason = \(cancelReason?.rawValue), updated_at = \(now)
                WHERE id = ANY(\(ids)) AND status = ANY(\(Array(allowed.map(\.rawValue))))
                RETURNING id
            )
            INSERT INTO sub_order_events (sub_order_id, from_status, to_status, actor_id, actor_role, hub_id, note, created_at)
            SELECT t.id, t.from_status, \(target.rawValue), \(actor.userID), \(actor.role.rawValue), \(actor.hubID), \(note), \(now)
            FROM unnest(\(ids)::uuid[], \(from)::text[]) AS t(id, from_status)
            JOIN moved ON moved.id = t.id
            """, logger: logger)
        if target == .cancelled || target == .returned {
            try await restock(ids, now: now, on: connection)
            let reason: AutomaticRefundReason =
                target == .returned ? .returned : cancelReason == .merchantRejected ? .merchantRejected : .cancelled
            try await refunds.refundHeldMoney(of: ids, reason: reason, on: connection)
        }
        if let notice = CustomerNotice(target) {
            try await notice.send(for: rows, now: now, on: connection, logger: logger)
        }
    }

    /// An event without a change of state: a refusal at a hub, a return sent back.
    private func record(_ parcel: Locked, note: String, actor: Actor, on connection: PostgresConnection) async throws {
        try await connection.exec(
            """
            INSERT INTO sub_order_events (sub_order_id, from_status, to_status, actor_id, actor_role, hub_id, note, created_at)
            VALUES (\(parcel.id), \(parcel.status.rawValue), \(parcel.status.rawValue), \(actor.userID), \(actor.role.rawValue),
                    \(actor.hubID), \(note), \(effects.now()))
            """, logger: logger)
    }

    /// Puts the units of these sub-orders that are not yet back into stock; `restocked_quantity`
    /// makes it exactly once per unit.
    private func restock(_ subOrderIDs: [UUID], now: Date, on connection: PostgresConnection) async throws {
        let returned = try await connection.exec(
            """
            UPDATE order_items item SET restocked_quantity = item.quantity
            FROM order_items before
            WHERE before.id = item.id AND item.sub_order_id = ANY(\(subOrderIDs)) AND item.restocked_quantity < item.quantity
            RETURNING item.product_id, item.quantity - before.restocked_quantity
            """, logger: logger)
        var units: [UUID: Int] = [:]
        for row in returned {
            let (product, quantity) = try row.decode((UUID, Int).self)
            units[product, default: 0] += quantity
        }
        guard !units.isEmpty else { return }
        let products = Array(units.keys)
        // Product rows are locked in one order everywhere (checkout too), so no deadlock.
        try await connection.exec(
            "SELECT id FROM products WHERE id = ANY(\(products)) ORDER BY id FOR NO KEY UPDATE", logger: logger)
        try await connection.exec(
            """
            UPDATE products p SET stock = p.stock + back.quantity, updated_at = \(now)
            FROM unnest(\(products)::uuid[], \(products.map { units[$0]! })::int[]) AS back(id, quantity)
            WHERE p.id = back.id
            """, logger: logger)
    }
}

extension SubOrderLifecycle.Locked {
    func with(status: SubOrderStatus) -> Self {
        Self(
            id: id, number: number, status: status, orderID: orderID, customerID: customerID, paymentMethod: paymentMethod, totalCents: totalCents,
            originHubID: originHubID, destinationHubID: destinationHubID, returnDispatched: returnDispatched,
            failedHandoverAttempts: failedHandoverAttempts, handoverLockedUntil: handoverLockedUntil)
    }
}
