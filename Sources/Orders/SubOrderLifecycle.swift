import Core
import Foundation
import Logging
import PostgresNIO

/// The sub-order state machine (SPEC section 5), all of it: every transition is one named
/// function that locks the rows, checks the current state, updates conditionally, appends an
/// event and moves stock, all in the caller's transaction. Nothing else writes
/// `sub_orders.status`.
public struct SubOrderLifecycle: Sendable {
    let effects: Effects
    let logger: Logger

    public init(effects: Effects, logger: Logger) {
        self.effects = effects
        self.logger = logger
    }

    struct Locked {
        let id: UUID
        let status: SubOrderStatus
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

    // MARK: System

    /// Cancels unpaid M-Pesa sub-orders placed before `cutoff` (payment_expired) and puts their
    /// stock back. Rows another transaction holds are skipped, so concurrent runs never do the
    /// same sub-order twice. Returns how many expired.
    public func expireUnpaid(placedBefore cutoff: Date, limit: Int, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.exec(
            """
            SELECT id, status FROM sub_orders
            WHERE status = 'awaiting_payment' AND created_at < \(cutoff)
            ORDER BY id LIMIT \(limit)
            FOR UPDATE SKIP LOCKED
            """, logger: logger)
        let locked = try rows.map(Self.decodeLocked)
        try await move(
            locked, allowed: [.awaitingPayment], to: .cancelled, cancelReason: .paymentExpired, actor: .system, note: nil,
            on: connection)
        return locked.count
    }

    // MARK: The one mechanism

    enum LockScope {
        case merchant(UUID)
        case admin
    }

    private func lockOne(_ id: UUID, scope: LockScope, on connection: PostgresConnection) async throws -> Locked {
        let rows = try await lock(on: connection) { query in
            query.filter("s.id = \(try query.bind(id))")
            if case .merchant(let merchantID) = scope {
                query.filter("s.merchant_id = \(try query.bind(merchantID))")
            }
        }
        guard let locked = rows.first else { throw Problem.notFound("Sub-order") }
        return locked
    }

    /// Locks the matching sub-orders in id order, so concurrent transitions queue instead of
    /// deadlocking. The scope is part of the WHERE: a sub-order outside it is not found.
    private func lock(on connection: PostgresConnection, _ filters: (inout FilterQuery) throws -> Void) async throws -> [Locked] {
        var query = FilterQuery()
        try filters(&query)
        let rows = try await connection.exec(
            query.query("SELECT s.id, s.status FROM sub_orders s JOIN orders o ON o.id = s.order_id", "ORDER BY s.id FOR UPDATE OF s"),
            logger: logger)
        return try rows.map(Self.decodeLocked)
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
        }
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
        let products = units.keys.sorted { $0.uuidString < $1.uuidString }
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

    private static func decodeLocked(_ row: PostgresRow) throws -> Locked {
        let (id, status) = try row.decode((UUID, String).self)
        guard let status = SubOrderStatus(rawValue: status) else { throw Problem.internalError }
        return Locked(id: id, status: status)
    }
}
