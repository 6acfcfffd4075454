import Core
import Foundation
import Identity
import Logging
import PostgresNIO

/// What customers, merchants and admins do with orders. Every change of a sub-order's state
/// goes through `SubOrderLifecycle`.
public struct Orders: Sendable {
    public struct SearchFilter: Sendable {
        public var number: String?
        public var customerID: UUID?
        public var merchantID: UUID?
        public var status: String?
        public var from: Date?
        public var to: Date?
        public init(number: String?, customerID: UUID?, merchantID: UUID?, status: String?, from: Date?, to: Date?) {
            self.number = number
            self.customerID = customerID
            self.merchantID = merchantID
            self.status = status
            self.from = from
            self.to = to
        }
    }

    public static let orderStatuses = ["awaiting_payment", "placed", "in_progress", "delivered", "returned", "completed", "cancelled"]

    /// For each order status (`order_status` derives them), the sub-order statuses of
    /// which an order in it has at least one: a necessary condition one index probe answers, so
    /// a search derives the status of the few orders that pass it instead of every order.
    /// `completed` needs a returned and a delivered sub-order; `in_progress` has a live one that
    /// is neither delivered nor returned.
    static let subOrderStatusesImpliedBy: [String: [String]] = [
        "awaiting_payment": ["awaiting_payment"],
        "placed": ["placed"],
        "in_progress": SubOrderStatus.allCases.map(\.rawValue).filter {
            !["awaiting_payment", "cancelled", "delivered", "returned"].contains($0)
        },
        "delivered": ["delivered"],
        "returned": ["returned"],
        "completed": ["returned"],
        "cancelled": ["cancelled"],
    ]

    /// Orders under way are few whatever the history: their search starts from the sub-orders
    /// in the implied statuses (sub_orders_status_created_idx). Final statuses pile up with
    /// history: their search reads newest first and stops at a page, so its cost depends on how
    /// common the status is among recent orders, not on how many orders there are.
    static let liveOrderStatuses: Set = ["awaiting_payment", "placed", "in_progress"]

    let database: Database
    let effects: Effects
    public let lifecycle: SubOrderLifecycle
    let codes: HandoverCodes
    let paymentExpiry: Duration
    public let checkout: Checkout

    public init(database: Database, effects: Effects, config: AppConfig, refunds: any RefundRecorder) {
        self.database = database
        self.effects = effects
        self.codes = HandoverCodes(key: config.handoverCodeKey, randomBytes: effects.randomBytes)
        self.lifecycle = SubOrderLifecycle(
            effects: effects, logger: database.logger, codes: codes, refunds: refunds, maxDeliveryAttempts: config.maxDeliveryAttempts)
        self.paymentExpiry = config.paymentExpiry
        self.checkout = Checkout(
            database: database, effects: effects, codes: codes, limits: .init(codMaximumCents: config.codMaximumCents),
            businessTimeZone: config.businessTimeZone)
    }

    private var reader: OrderReader { OrderReader(logger: database.logger) }

    // MARK: Customers

    public func order(_ id: UUID, scope: OrderScope) async throws -> Order {
        let reader = self.reader
        let orders = try await database.withConnection { connection in
            try await reader.orders([id], scope: scope, on: connection)
        }
        guard let order = orders.first else { throw Problem.notFound("Order") }
        return order
    }

    public func orders(of customerID: UUID, page: PageRequest) async throws -> Page<Order> {
        try await search(SearchFilter(number: nil, customerID: customerID, merchantID: nil, status: nil, from: nil, to: nil),
                         scope: .customer(customerID), page: page)
    }

    /// The order as this transaction sees it, for answering a write with what it committed.
    public func order(_ id: UUID, scope: OrderScope, on connection: PostgresConnection) async throws -> Order {
        guard let order = try await reader.orders([id], scope: scope, on: connection).first else { throw Problem.notFound("Order") }
        return order
    }

    /// Sub-orders by id as this transaction sees them.
    public func subOrders(_ ids: [UUID], scope: OrderScope, on connection: PostgresConnection) async throws -> [SubOrder] {
        try await reader.subOrders(ids: ids, scope: scope, on: connection)
    }

    /// Cancels the sub-orders that have not reached a hub; their stock goes back.
    public func cancel(_ orderID: UUID, by principal: Principal) async throws -> Order {
        let lifecycle = self.lifecycle
        return try await database.transaction { connection in
            try await lifecycle.cancelByCustomer(
                orderID, customerID: principal.userID, actor: Actor(userID: principal.userID, role: .customer), on: connection)
            return try await order(orderID, scope: .customer(principal.userID), on: connection)
        }
    }

    /// New handover codes for the sub-orders still to be handed over; the old codes stop working.
    public func freshHandoverCodes(_ orderID: UUID, by principal: Principal) async throws -> Order {
        let codes = self.codes
        let reader = self.reader
        let logger = database.logger
        return try await database.transaction { connection in
            guard var order = try await reader.orders([orderID], scope: .customer(principal.userID), on: connection).first else {
                throw Problem.notFound("Order")
            }
            let open: Set<SubOrderStatus> = [
                .awaitingPayment, .placed, .accepted, .atOriginHub, .inTransit, .atDestinationHub, .outForDelivery,
            ]
            var ids: [UUID] = []
            var digests: [String] = []
            for index in order.subOrders.indices where open.contains(order.subOrders[index].status) {
                let code = codes.generate()
                order.subOrders[index].handoverCode = code
                ids.append(order.subOrders[index].id)
                digests.append(Hex.encode(codes.digest(code, subOrderID: order.subOrders[index].id)))
            }
            guard !ids.isEmpty else {
                throw Problem.conflict("Every parcel of this order is delivered, returned or cancelled.", code: "nothing_to_hand_over")
            }
            // Conditional on the status still being open: a parcel delivered meanwhile keeps its code.
            let updated = try await connection.exec(
                """
                UPDATE sub_orders s SET handover_code_hash = decode(c.digest, 'hex')
                FROM unnest(\(ids)::uuid[], \(digests)::text[]) AS c(id, digest)
                WHERE s.id = c.id AND s.status = ANY(\(open.map(\.rawValue)))
                RETURNING s.id
                """, logger: logger)
            let stillOpen = Set(try updated.map { try $0.decode(UUID.self) })
            for index in order.subOrders.indices where !stillOpen.contains(order.subOrders[index].id) {
                order.subOrders[index].handoverCode = nil
            }
            return order
        }
    }

    // MARK: Merchants

    public func subOrders(of merchantID: UUID, status: SubOrderStatus?, page: PageRequest) async throws -> Page<SubOrder> {
        let reader = self.reader
        return try await database.withConnection { connection in
            let rows = try await connection.exec(
                """
                SELECT id FROM sub_orders
                WHERE merchant_id = \(merchantID) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
                  AND (\(page.after?.createdAt)::timestamptz IS NULL OR (created_at, id) < (\(page.after?.createdAt), \(page.after?.id)))
                ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
                """, logger: database.logger)
            let ids = try rows.map { try $0.decode(UUID.self) }
            let subOrders = try await reader.subOrders(ids: ids, scope: .merchant(merchantID), on: connection)
            return Page(fetched: subOrders, limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
        }
    }

    public func accept(_ subOrderID: UUID, by principal: Principal) async throws -> SubOrder {
        let merchantID = try merchant(principal)
        let lifecycle = self.lifecycle
        return try await database.transaction { connection in
            try await lifecycle.accept(subOrderID, merchantID: merchantID, actor: Actor(userID: principal.userID, role: .merchant), on: connection)
            return try await subOrder(subOrderID, scope: .merchant(merchantID), on: connection)
        }
    }

    public func reject(_ subOrderID: UUID, reason: String, by principal: Principal) async throws -> SubOrder {
        let merchantID = try merchant(principal)
        var validator = Validator()
        let reason = validator.text(reason, "reason", max: 500, multiline: true)
        try validator.validate()
        let lifecycle = self.lifecycle
        return try await database.transaction { connection in
            try await lifecycle.reject(
                subOrderID, merchantID: merchantID, reason: reason, actor: Actor(userID: principal.userID, role: .merchant),
                on: connection)
            return try await subOrder(subOrderID, scope: .merchant(merchantID), on: connection)
        }
    }

    private func merchant(_ principal: Principal) throws -> UUID {
        guard principal.role == .merchant, let merchantID = principal.merchantID else { throw Problem.forbidden() }
        return merchantID
    }

    /// Sub-orders by id, in that order, as far as the scope may see them.
    public func subOrders(_ ids: [UUID], scope: OrderScope) async throws -> [SubOrder] {
        let reader = self.reader
        return try await database.withConnection { connection in
            try await reader.subOrders(ids: ids, scope: scope, on: connection)
        }
    }

    private func subOrder(_ id: UUID, scope: OrderScope, on connection: PostgresConnection) async throws -> SubOrder {
        guard let subOrder = try await reader.subOrders(ids: [id], scope: scope, on: connection).first else {
            throw Problem.notFound("Sub-order")
        }
        return subOrder
    }

    // MARK: Admins

    public func search(_ filter: SearchFilter, scope: OrderScope = .admin, page: PageRequest) async throws -> Page<Order> {
        var query = FilterQuery()
        if let number = filter.number?.trimmingCharacters(in: .whitespaces).uppercased(), !number.isEmpty {
            // A sub-order's number finds its master order too.
            let master = number.split(separator: "-").prefix(3).joined(separator: "-")
            query.filter("o.number = \(try query.bind(master))")
        }
        if let customer = filter.customerID { query.filter("o.customer_id = \(try query.bind(customer))") }
        if let merchant = filter.merchantID {
            query.filter("EXISTS (SELECT 1 FROM sub_orders s WHERE s.order_id = o.id AND s.merchant_id = \(try query.bind(merchant)))")
        }
        // The derived status is the dear part of a status search: it is asked only of orders
        // that pass a cheap test on their sub-orders, newest first, until the page is full. It is
        // derived from the order's sub-orders alone (`order_status`, the rule of the
        // `order_states` view), not read from the view, whose ledger joins took longer to plan
        // than to run: a page of completed orders took 6.2 ms, now 4.3 (pgbench, 30,000 orders).
        var askedOfLiveCandidates: String?
        if let status = filter.status {
            guard Self.orderStatuses.contains(status) else {
                throw Problem.validation(field: "status", "must be one of \(Self.orderStatuses.joined(separator: ", "))")
            }
            if !Self.liveOrderStatuses.contains(status), filter.number == nil, filter.customerID == nil, filter.merchantID == nil {
                return try await search(finalStatusWalk(status, filter: filter, page: page), scope: scope, page: page)
            }
            let implied = try query.bind(Self.subOrderStatusesImpliedBy[status] ?? [])
            let derived = "order_status(ARRAY(SELECT s.status FROM sub_orders s WHERE s.order_id = o.id)) = \(try query.bind(status))"
            if Self.liveOrderStatuses.contains(status) {
                // An array, not IN: as a join the planner read every order to hash them.
                query.filter("o.id = ANY(ARRAY(SELECT s.order_id FROM sub_orders s WHERE s.status = ANY(\(implied))))")
                askedOfLiveCandidates = derived
            } else {
                // CASE fixes the order: the probe first, the view only for orders that pass it. The
                // probe is a scalar subquery, not EXISTS: the planner may turn an EXISTS into a hash
                // of every sub-order in the status (124,000 delivered ones: 67 ms at 100,000 orders)
                // where a page needs a few hundred probes.
                query.filter(
                    """
                    CASE WHEN (SELECT true FROM sub_orders s WHERE s.order_id = o.id AND s.status = ANY(\(implied)) LIMIT 1)
                    THEN \(derived) END
                    """)
            }
        }
        if let from = filter.from { query.filter("o.created_at >= \(try query.bind(from))") }
        if let to = filter.to { query.filter("o.created_at < \(try query.bind(to))") }
        if let after = page.after {
            query.filter("(o.created_at, o.id) < (\(try query.bind(after.createdAt)), \(try query.bind(after.id)))")
        }
        let limit = try query.bind(page.limit + 1)
        let newestFirst = "ORDER BY o.created_at DESC, o.id DESC"
        let statement =
            if let askedOfLiveCandidates {
                // The few candidates are sorted in a subquery (OFFSET 0 keeps it one), so their
                // status is derived newest first and only until the LIMIT is met: at 100,000
                // orders, for 23 of the 603 orders under way rather than all of them.
                query.query(
                    "SELECT o.id FROM (SELECT o.id, o.created_at FROM orders o",
                    """
                    \(newestFirst) OFFSET 0) o
                    WHERE \(askedOfLiveCandidates)
                    \(newestFirst) LIMIT \(limit)
                    """)
            } else {
                query.query("SELECT o.id FROM orders o", "\(newestFirst) LIMIT \(limit)")
            }
        return try await search(statement, scope: scope, page: page)
    }

    /// A page of orders in a final status (delivered, returned, completed, cancelled) and
    /// nothing else asked: a walk of the sub-orders in the one sub-order status that order status
    /// implies, newest first, deriving the status of each order met once (at its first such sub-order) until the
    /// page is full. The orders' walk took 7 ms for a page of completed orders at 100,000 orders,
    /// probing some 1,500 orders; this one takes 0.7, meeting about 50 sub-orders. A sub-order
    /// carries its order's `created_at` (a foreign key, migration 0019), so the sub-orders' order
    /// is the orders' and the page's cursor is the order's.
    private func finalStatusWalk(_ status: String, filter: SearchFilter, page: PageRequest) throws -> PostgresQuery {
        var query = FilterQuery()
        // Each final status implies one sub-order status (completed: a returned one).
        query.filter("s.status = \(try query.bind(Self.subOrderStatusesImpliedBy[status]?.first ?? status))")
        if let from = filter.from { query.filter("s.created_at >= \(try query.bind(from))") }
        if let to = filter.to { query.filter("s.created_at < \(try query.bind(to))") }
        if let after = page.after {
            query.filter("(s.created_at, s.order_id) < (\(try query.bind(after.createdAt)), \(try query.bind(after.id)))")
        }
        // CASE keeps the planner on the index's order: a plain `order_status(...) = $n` is
        // estimated to pass 1 sub-order in 200, and for that it sorted every sub-order in the status.
        query.filter(
            """
            CASE WHEN (SELECT true FROM sub_orders t WHERE t.order_id = s.order_id AND t.status = s.status AND t.id < s.id LIMIT 1) IS NULL
            THEN order_status(ARRAY(SELECT t.status FROM sub_orders t WHERE t.order_id = s.order_id)) = \(try query.bind(status)) END
            """)
        let limit = try query.bind(page.limit + 1)
        return query.query("SELECT s.order_id FROM sub_orders s", "ORDER BY s.created_at DESC, s.order_id DESC LIMIT \(limit)")
    }

    /// The page of whole orders whose ids `statement` selects, newest first.
    private func search(_ statement: PostgresQuery, scope: OrderScope, page: PageRequest) async throws -> Page<Order> {
        let reader = self.reader
        return try await database.withConnection { connection in
            let ids = try await connection.exec(statement, logger: database.logger).map { try $0.decode(UUID.self) }
            let orders = try await reader.orders(ids, scope: scope, on: connection)
            return Page(fetched: orders, limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
        }
    }

    public func cancelSubOrder(_ subOrderID: UUID, note: String, by admin: Principal) async throws -> SubOrder {
        var validator = Validator()
        let note = validator.text(note, "reason", max: 500, multiline: true)
        try validator.validate()
        let lifecycle = self.lifecycle
        return try await database.transaction { connection in
            try await lifecycle.cancelByAdmin(subOrderID, note: note, actor: Actor(userID: admin.userID, role: .admin), on: connection)
            return try await subOrder(subOrderID, scope: .admin, on: connection)
        }
    }

    // MARK: System

    /// Cancels the unpaid M-Pesa orders older than the payment expiry, each in a transaction of
    /// its own (all of its sub-orders or none); returns how many sub-orders expired.
    @discardableResult
    public func expireUnpaid() async throws -> Int {
        let cutoff = effects.now().addingTimeInterval(-TimeInterval(paymentExpiry.components.seconds))
        let lifecycle = self.lifecycle
        let logger = database.logger
        var total = 0
        while true {
            let candidates = try await database.withConnection { connection in
                try await SubOrderLifecycle.expiryCandidates(placedBefore: cutoff, limit: 100, on: connection, logger: logger)
            }
            var expired = 0
            for orderID in candidates {
                expired += try await database.transaction { connection in
                    try await lifecycle.expire(orderID, placedBefore: cutoff, on: connection)
                }
            }
            total += expired
            // A round that expired nothing found only orders others are settling: done for now.
            if candidates.count < 100 || expired == 0 { return total }
        }
    }
}
