import Core
import Foundation
import Identity
import Logging
import Orders
import PostgresNIO

/// Customers' refund requests and admins' decisions (SPEC section 8). The amount is the
/// server's: the items' unit prices, plus the parcel's delivery-fee share when it never
/// arrived, never above what the business holds for the sub-order. Approvals lock the
/// sub-order, so concurrent approvals of its refunds cannot together exceed what was paid.
public struct Refunds: Sendable {
    public enum Reason: String, Sendable, CaseIterable {
        case damaged
        case wrongItem = "wrong_item"
        case notAsDescribed = "not_as_described"
        case notDelivered = "not_delivered"
        case other
    }

    public struct Request: Sendable {
        public var subOrderID: UUID
        public var items: [(orderItemID: UUID, quantity: Int)]
        public var reason: Reason
        public var details: String
        public var evidenceURLs: [String]

        public init(subOrderID: UUID, items: [(orderItemID: UUID, quantity: Int)], reason: Reason, details: String, evidenceURLs: [String]) {
            self.subOrderID = subOrderID
            self.items = items
            self.reason = reason
            self.details = details
            self.evidenceURLs = evidenceURLs
        }
    }

    public struct Decision: Sendable {
        /// A lower amount than requested, in whole shillings; nil approves the amount requested.
        public var amountCents: Int64?
        /// Whether the refunded goods go back into stock.
        public var restock: Bool
        public var note: String?

        public init(amountCents: Int64?, restock: Bool, note: String?) {
            self.amountCents = amountCents
            self.restock = restock
            self.note = note
        }
    }

    static let maximumEvidenceURLs = 5

    let database: Database
    let effects: Effects
    let jobs: JobQueue
    let payouts: RefundPayouts
    /// How long after delivery a customer may ask for a refund.
    let window: Duration
    let logger: Logger

    public init(database: Database, effects: Effects, jobs: JobQueue, payouts: RefundPayouts, window: Duration) {
        self.database = database
        self.effects = effects
        self.jobs = jobs
        self.payouts = payouts
        self.window = window
        self.logger = database.logger
    }

    // MARK: Customers

    /// A customer's request for a refund of items of a sub-order of theirs.
    public func request(_ request: Request, by customer: Principal) async throws -> RefundRecord {
        var validator = Validator()
        let details = validator.text(request.details, "details", max: 2_000, multiline: true)
        validator.check(!request.items.isEmpty, "items", "name at least one item")
        validator.check(Set(request.items.map(\.orderItemID)).count == request.items.count, "items", "name each item once")
        for (index, item) in request.items.enumerated() {
            validator.check((1...1_000).contains(item.quantity), "items.\(index).quantity", "must be between 1 and 1000")
        }
        validator.check(request.evidenceURLs.count <= Self.maximumEvidenceURLs, "evidence_urls", "at most \(Self.maximumEvidenceURLs)")
        for (index, url) in request.evidenceURLs.enumerated() {
            validator.check(Self.isWebURL(url), "evidence_urls.\(index)", "must be an absolute http(s) URL of at most 2000 characters")
        }
        try validator.validate()
        let now = effects.now()
        let window = self.window
        let logger = self.logger
        return try await database.transaction { connection in
            // The sub-order's lock orders this request against approvals and moves.
            guard try await RefundLedger.lockSubOrder(request.subOrderID, of: customer.userID, on: connection, logger: logger) else {
                throw Problem.notFound("Sub-order")
            }
            let parcels = try await connection.exec(
                """
                SELECT s.status, s.delivery_fee_cents, s.order_id, m.refundable_cents, o.address_phone,
                       (SELECT max(e.created_at) FROM sub_order_events e WHERE e.sub_order_id = s.id AND e.to_status = 'delivered')
                           AS delivered_at,
                       (SELECT a.payment_id FROM payment_allocations a WHERE a.sub_order_id = s.id ORDER BY a.created_at DESC LIMIT 1)
                           AS payment_id
                FROM sub_orders s JOIN orders o ON o.id = s.order_id JOIN sub_order_money m ON m.sub_order_id = s.id
                WHERE s.id = \(request.subOrderID)
                """, logger: logger)
            guard let parcel = parcels.first?.makeRandomAccess() else { throw Problem.notFound("Sub-order") }
            guard let status = SubOrderStatus(rawValue: try parcel.get("status")) else { throw StoredValueError(column: "sub_orders.status") }
            let deliveredAt: Date? = try parcel.get("delivered_at")
            switch status {
            case .delivered:
                if let deliveredAt, now.timeIntervalSince(deliveredAt) > TimeInterval(window.components.seconds) {
                    throw Problem(
                        status: 409, code: "refund_window_closed", title: "Conflict",
                        detail: "Refunds are asked for within \(window.components.seconds / 86_400) days of delivery.",
                        extensions: ["delivered_at": .string(ISO8601DateFormatter().string(from: deliveredAt))])
                }
            case .outForDelivery where request.reason == .notDelivered, .atDestinationHub where request.reason == .notDelivered:
                break
            default:
                throw Problem(
                    status: 409, code: "refund_not_allowed", title: "Conflict",
                    detail: "A refund is asked for a delivered parcel, or with reason not_delivered for one at your hub or on its way.",
                    extensions: ["current_status": .string(status.rawValue)])
            }
            // One open request per sub-order at a time (under the sub-order's lock); automatic
            // refunds are the system's and do not count.
            let open = try await connection.exec(
                """
                SELECT 1 FROM refunds WHERE sub_order_id = \(request.subOrderID) AND NOT automatic
                  AND status IN ('requested', 'approved', 'paying', 'failed')
                """, logger: logger)
            guard open.isEmpty else {
                throw Problem.conflict("This parcel has a refund request open already.", code: "refund_already_open")
            }
            let refundable: Int64 = try parcel.get("refundable_cents")
            guard refundable > 0 else {
                throw Problem(
                    status: 409, code: "nothing_to_refund", title: "Conflict",
                    detail: "Nothing was paid for this parcel that is not refunded already; cash is refunded once collected.")
            }
            let amount = try await Self.amount(
                of: request, subOrderID: request.subOrderID, feeShare: try parcel.get("delivery_fee_cents"), on: connection, logger: logger)
            let paymentID: UUID? = try parcel.get("payment_id")
            let payee: String = try await paymentID.asyncMap { id in
                try await connection.exec("SELECT phone FROM payments WHERE id = \(id)", logger: logger)[0].decode(String.self)
            } ?? parcel.get("address_phone")
            let refundID = UUID()
            try await connection.exec(
                """
                INSERT INTO refunds (id, sub_order_id, order_id, payment_id, status, reason, details, amount_cents, automatic,
                                     requested_by, evidence_urls, payee_phone, created_at, updated_at)
                VALUES (\(refundID), \(request.subOrderID), \(try parcel.get("order_id", as: UUID.self)), \(paymentID), 'requested',
                        \(request.reason.rawValue), \(details), \(min(amount, refundable)), false, \(customer.userID),
                        \(request.evidenceURLs), \(payee), \(now), \(now))
                """, logger: logger)
            try await connection.exec(
                """
                WITH items AS (
                    INSERT INTO refund_items (refund_id, order_item_id, quantity)
                    SELECT \(refundID), item, quantity FROM unnest(\(request.items.map(\.orderItemID))::uuid[], \(request.items.map(\.quantity))::int[])
                        AS requested(item, quantity)
                )
                INSERT INTO refund_events (refund_id, from_status, to_status, actor_id, actor_role, note, created_at)
                VALUES (\(refundID), NULL, 'requested', \(customer.userID), 'customer', NULL, \(now))
                """, logger: logger)
            return try await RefundLedger.load(refundID, on: connection, logger: logger)
        }
    }

    /// What the requested items cost: their unit prices; for a parcel that never arrived, all of
    /// it and its share of the delivery fee. Every item must be the sub-order's, for no more than
    /// was bought and not refunded yet.
    static func amount(of request: Request, subOrderID: UUID, feeShare: Int64, on connection: PostgresConnection, logger: Logger)
        async throws -> Int64
    {
        let rows = try await connection.exec(
            "SELECT id, unit_price_cents, quantity - refunded_quantity FROM order_items WHERE sub_order_id = \(subOrderID)",
            logger: logger)
        var remaining: [UUID: (price: Int64, units: Int)] = [:]
        for row in rows {
            let (id, price, units) = try row.decode((UUID, Int64, Int).self)
            remaining[id] = (price, units)
        }
        var validator = Validator()
        var amount: Int64 = 0
        for (index, item) in request.items.enumerated() {
            guard let line = remaining[item.orderItemID] else {
                validator.fail("items.\(index).order_item_id", "is not an item of this sub-order")
                continue
            }
            if item.quantity > line.units {
                validator.fail("items.\(index).quantity", "is more than the \(line.units) bought and not refunded yet")
            } else {
                amount += line.price * Int64(item.quantity)
            }
        }
        if request.reason == .notDelivered {
            let requested = Dictionary(uniqueKeysWithValues: request.items.map { ($0.orderItemID, $0.quantity) })
            let whole = remaining.allSatisfy { id, line in line.units == 0 || requested[id] == line.units }
            validator.check(whole, "items", "a parcel that did not arrive is refunded whole: name every item and unit not refunded yet")
            amount += feeShare
        }
        try validator.validate()
        return amount
    }

    public func refunds(of customer: Principal, page: PageRequest) async throws -> Page<RefundRecord> {
        try await list(where: "r.requested_by = $1 OR o.customer_id = $1", customer.userID, page: page)
    }

    public func refund(_ id: UUID, viewer: Principal) async throws -> RefundRecord {
        let logger = self.logger
        let refund = try await database.withConnection { connection in
            try await RefundLedger.load(id, on: connection, logger: logger)
        }
        guard viewer.role == .admin || refund.customerID == viewer.userID else { throw Problem.notFound("Refund") }
        return refund
    }

    // MARK: Admins

    public func refunds(status: RefundRecord.Status?, page: PageRequest) async throws -> Page<RefundRecord> {
        try await list(where: "($1::text IS NULL OR r.status = $1)", status?.rawValue, page: page)
    }

    /// Approves a requested refund, for the amount asked or less, in whole shillings, and
    /// never above what the sub-order still holds; the items count as refunded (and go back to
    /// stock when `restock`), and the payout is queued, all in one transaction.
    public func approve(_ id: UUID, _ decision: Decision, by admin: Principal) async throws -> RefundRecord {
        let note = try Validator.note(decision.note)
        if let amount = decision.amountCents, amount <= 0 || !Money.isWholeShillings(amount) {
            throw Problem.validation(field: "amount_cents", "must be a positive whole number of shillings")
        }
        let now = effects.now()
        let logger = self.logger
        let jobs = self.jobs
        return try await database.transaction { connection in
            let status = try await RefundLedger.lock(id, on: connection, logger: logger)
            guard status == .requested else { throw Problem.invalidTransition(status, "Only a requested refund can be approved.") }
            let rows = try await connection.exec(
                """
                SELECT r.amount_cents, r.sub_order_id FROM refunds r WHERE r.id = \(id)
                """, logger: logger)
            let (requested, subOrderID) = try rows[0].decode((Int64, UUID?).self)
            guard let subOrderID else { throw Problem.invalidTransition(status, "This refund is not of a sub-order.") }
            let amount = decision.amountCents ?? requested
            guard amount <= requested else {
                throw Problem.validation(field: "amount_cents", "may lower the \(requested) cents requested, not raise it")
            }
            // Approvals of one sub-order's refunds take turns, so their sum is capped.
            _ = try await RefundLedger.lockSubOrder(subOrderID, on: connection, logger: logger)
            let held = try await connection.exec(
                "SELECT refundable_cents FROM sub_order_money WHERE sub_order_id = \(subOrderID)", logger: logger
            )[0].decode(Int64.self)
            guard amount <= held else {
                throw Problem(
                    status: 409, code: "refund_exceeds_paid", title: "Conflict",
                    detail: "The sub-order holds \(held) cents not refunded yet; this refund asks for \(amount).",
                    extensions: ["refundable_cents": .int(held)])
            }
            try await connection.exec(
                "UPDATE refunds SET amount_cents = \(amount), restock = \(decision.restock) WHERE id = \(id)", logger: logger)
            try await RefundLedger.move(
                id, from: .requested, to: .approved, actor: Actor(userID: admin.userID, role: .admin), note: note, now: now,
                on: connection, logger: logger)
            try await Self.countRefundedItems(of: id, restock: decision.restock, now: now, on: connection, logger: logger)
            try await RefundLedger.notifyCustomer(
                of: id, kind: "refund_approved", title: "Refund approved",
                body: "Your refund of KES \(amount / Money.centsPerShilling) is approved; it is on its way to your M-Pesa.",
                now: now, on: connection, logger: logger)
            try await jobs.enqueue(
                RefundPayouts.job, payload: ["refund_id": id.uuidString], uniqueKey: RefundPayouts.uniqueKey(id),
                maxAttempts: RefundPayouts.maxAttempts, on: connection)
            return try await RefundLedger.load(id, on: connection, logger: logger)
        }
    }

    public func deny(_ id: UUID, note: String, by admin: Principal) async throws -> RefundRecord {
        var validator = Validator()
        let note = validator.text(note, "note", max: 500, multiline: true)
        try validator.validate()
        let now = effects.now()
        let logger = self.logger
        return try await database.transaction { connection in
            let status = try await RefundLedger.lock(id, on: connection, logger: logger)
            guard status == .requested else { throw Problem.invalidTransition(status, "Only a requested refund can be denied.") }
            try await RefundLedger.move(
                id, from: .requested, to: .denied, actor: Actor(userID: admin.userID, role: .admin), note: note, now: now,
                on: connection, logger: logger)
            try await RefundLedger.notifyCustomer(
                of: id, kind: "refund_denied", title: "Refund declined", body: "Your refund request was declined: \(note)",
                now: now, on: connection, logger: logger)
            return try await RefundLedger.load(id, on: connection, logger: logger)
        }
    }

    public func retryPayout(_ id: UUID, by admin: Principal) async throws -> RefundRecord {
        try await payouts.retry(id, by: Actor(userID: admin.userID, role: .admin))
    }

    // MARK: Rows

    /// The approved refund's items count as refunded; with `restock`, the units go back to
    /// stock, each at most once (`restocked_quantity`).
    static func countRefundedItems(of refundID: UUID, restock: Bool, now: Date, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        let counted = try await connection.exec(
            """
            UPDATE order_items item SET refunded_quantity = item.refunded_quantity + ri.quantity,
                restocked_quantity = CASE WHEN \(restock) THEN least(item.quantity, item.restocked_quantity + ri.quantity)
                                          ELSE item.restocked_quantity END
            FROM refund_items ri, order_items before
            WHERE ri.refund_id = \(refundID) AND item.id = ri.order_item_id AND before.id = item.id
              AND item.refunded_quantity + ri.quantity <= item.quantity
            RETURNING item.product_id, item.restocked_quantity - before.restocked_quantity
            """, logger: logger)
        let items = try await connection.exec("SELECT count(*) FROM refund_items WHERE refund_id = \(refundID)", logger: logger)[0]
            .decode(Int.self)
        guard counted.count == items else {
            throw Problem.conflict("Some of these items were refunded meanwhile.", code: "items_already_refunded")
        }
        var units: [UUID: Int] = [:]
        for row in counted {
            let (product, back) = try row.decode((UUID, Int).self)
            if back > 0 { units[product, default: 0] += back }
        }
        guard !units.isEmpty else { return }
        let products = units.keys.sorted { $0.uuidString < $1.uuidString }
        try await connection.exec(
            """
            UPDATE products p SET stock = p.stock + back.units, updated_at = \(now)
            FROM unnest(\(products)::uuid[], \(products.map { units[$0] ?? 0 })::int[]) AS back(id, units)
            WHERE p.id = back.id
            """, logger: logger)
    }

    private func list(where condition: String, _ value: (some PostgresEncodable & Sendable)?, page: PageRequest) async throws
        -> Page<RefundRecord>
    {
        var binds = PostgresBindings()
        try binds.append(value)
        var keyset = ""
        if let after = page.after {
            binds.append(after.createdAt)
            binds.append(after.id)
            keyset = " AND (r.created_at, r.id) < ($2, $3)"
        }
        let logger = self.logger
        let limit = page.limit
        let finalBinds = binds
        let afterKey = keyset
        return try await database.withConnection { connection in
            // Newest first: the keyset page of ids, then the refunds with their items and history.
            let ids = try await connection.exec(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT r.id FROM refunds r JOIN orders o ON o.id = r.order_id
                        WHERE (\(condition))\(afterKey) ORDER BY r.created_at DESC, r.id DESC LIMIT \(limit + 1)
                        """, binds: finalBinds), logger: logger
            ).map { try $0.decode(UUID.self) }
            var idBinds = PostgresBindings()
            idBinds.append(ids)
            let byID = Dictionary(
                uniqueKeysWithValues: try await RefundRecord.load(where: "r.id = ANY($1)", idBinds, on: connection, logger: logger)
                    .map { ($0.id, $0) })
            return Page(fetched: ids.compactMap { byID[$0] }, limit: limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
        }
    }

    static func isWebURL(_ text: String) -> Bool {
        guard text.count <= 2_000, let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return false }
        return true
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
