import Catalog
import Core
import Crypto
import Foundation
import Identity
import Logging
import PostgresNIO

/// Turns a customer's cart into one master order and a sub-order per merchant (SPEC section 5),
/// in one transaction with a fixed number of statements whatever the cart's size.
public struct Checkout: Sendable {
    public struct Request: Sendable {
        public var idempotencyKey: String
        public var addressID: UUID
        public var paymentMethod: PaymentMethod
        public var expectedTotalCents: Int64?
        public init(idempotencyKey: String, addressID: UUID, paymentMethod: PaymentMethod, expectedTotalCents: Int64?) {
            self.idempotencyKey = idempotencyKey
            self.addressID = addressID
            self.paymentMethod = paymentMethod
            self.expectedTotalCents = expectedTotalCents
        }
    }

    public enum Outcome: Sendable {
        /// A new order, with each sub-order's handover code (shown this once).
        case created(Order)
        /// The same key and body again: the order made the first time, without codes.
        case replayed(Order)
    }

    public struct Limits: Sendable {
        /// Daraja's per-transaction maximum: 250,000 shillings.
        public static let mpesaMaximumCents: Int64 = 25_000_000
        public var codMaximumCents: Int64
        public init(codMaximumCents: Int64) { self.codMaximumCents = codMaximumCents }
    }

    let database: Database
    let effects: Effects
    let codes: HandoverCodes
    let limits: Limits
    let businessTimeZone: String

    public init(database: Database, effects: Effects, codes: HandoverCodes, limits: Limits, businessTimeZone: String) {
        self.database = database
        self.effects = effects
        self.codes = codes
        self.limits = limits
        self.businessTimeZone = businessTimeZone
    }

    struct Line {
        let productID: UUID
        let quantity: Int
        let name: String
        let priceCents: Int64
        let stock: Int
        let available: Bool
        let merchantID: UUID
        let merchantName: String
        let commissionBps: Int
        let origin: HubSummary
    }

    struct Destination {
        let address: Address
        let hub: HubSummary
        let feeCents: Int64
        let served: Bool
    }

    public func place(_ request: Request, customerID: UUID) async throws -> Outcome {
        let key = request.idempotencyKey.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(key.count) else {
            throw Problem.validation(field: "Idempotency-Key", "must be 1 to 200 characters")
        }
        let requestHash = Hex.encode(
            SHA256.hash(
                data: Data("\(request.addressID)|\(request.paymentMethod.rawValue)|\(request.expectedTotalCents.map(String.init) ?? "-")".utf8)))
        let logger = database.logger
        let reader = OrderReader(logger: logger)
        return try await database.transaction { connection in
            // Requests with the same key queue here; the next statement (a new snapshot) sees the
            // order the first one made.
            try await connection.exec(QueueOnKey(bindings: PostgresBindings { $0.append("checkout:\(customerID):\(key)") }), logger: logger)
            let (existing, destination) = try await lookUp(
                key: key, addressID: request.addressID, customerID: customerID, on: connection)
            if let existing {
                guard existing.hash == requestHash else {
                    throw Problem(
                        status: 422, code: "idempotency_key_reused", title: "Idempotency key reused",
                        detail: "This Idempotency-Key was used for a different checkout.")
                }
                guard let order = try await reader.orders([existing.id], scope: .customer(customerID), on: connection).first else {
                    throw Problem.internalError
                }
                return .replayed(order)
            }
            guard let destination else { throw Problem.validation(field: "address_id", "no such address of yours") }
            guard destination.served else {
                throw Problem.validation(field: "address_id", "its zone is no longer served; choose another address")
            }
            let lines = try await lockCart(customerID, on: connection)
            guard !lines.isEmpty else {
                throw Problem(status: 422, code: "cart_empty", title: "Cart is empty", detail: "Add products to the cart before checking out.")
            }
            let short = lines.filter { !$0.available || $0.stock < $0.quantity }
            if !short.isEmpty {
                throw Problem.outOfStock(short.map { ($0.productID, $0.available ? $0.stock : 0) })
            }
            let plan = Plan(lines: lines, destination: destination, codes: codes)
            if let expected = request.expectedTotalCents, expected != plan.totalCents {
                throw Problem(
                    status: 409, code: "cart_changed", title: "Cart changed",
                    detail: "The total is now \(plan.totalCents) cents, not \(expected).",
                    extensions: ["total_cents": .int(plan.totalCents)])
            }
            try checkLimits(plan.totalCents, request.paymentMethod)
            let taken = try await connection.exec(
                TakeStock(
                    bindings: PostgresBindings {
                        $0.append(effects.now())
                        $0.append(lines.map(\.productID))
                        $0.append(lines.map(\.quantity))
                    }), logger: logger)
            guard taken.count == lines.count else { throw Problem.internalError }  // rows are locked: cannot happen
            let order = try await insert(plan, request: request, key: key, requestHash: requestHash, customerID: customerID, on: connection)
            return .created(order)
        }
    }

    private func checkLimits(_ total: Int64, _ method: PaymentMethod) throws {
        switch method {
        case .mpesa where total > Limits.mpesaMaximumCents:
            throw Problem(
                status: 422, code: "amount_above_mpesa_limit", title: "Amount above the M-Pesa limit",
                detail: "M-Pesa takes at most 250,000 shillings per payment; this order is \(total / 100).")
        case .cod where total > limits.codMaximumCents:
            throw Problem(
                status: 422, code: "amount_above_cod_limit", title: "Amount above the cash-on-delivery limit",
                detail: "Cash on delivery is limited to \(limits.codMaximumCents / 100) shillings; pay by M-Pesa instead.")
        default:
            break
        }
    }

    /// The order an earlier request with this key made, if any, and where this one would go.
    private func lookUp(key: String, addressID: UUID, customerID: UUID, on connection: PostgresConnection) async throws
        -> (existing: (id: UUID, hash: String)?, destination: Destination?)
    {
        let rows = try await connection.exec(
            EarlierOrderAndDestination(
                bindings: PostgresBindings {
                    $0.append(customerID)
                    $0.append(key)
                    $0.append(addressID)
                }), logger: database.logger)
        let r = rows[0].makeRandomAccess()
        let existing = try r.get("existing_id", as: UUID?.self).map { (id: $0, hash: try r.get("existing_hash", as: String.self)) }
        guard let id = try r.get("id", as: UUID?.self) else { return (existing, nil) }
        let destination = Destination(
            address: Address(
                id: id, label: try r.get("label"), line1: try r.get("line1"), phone: try r.get("phone"),
                zoneID: try r.get("zone_id"), zoneName: try r.get("zone_name")),
            hub: HubSummary(id: try r.get("hub_id"), code: try r.get("hub_code"), name: try r.get("hub_name")),
            feeCents: try r.get("delivery_fee_cents"), served: try r.get("served"))
        return (existing, destination)
    }

    /// Reads the cart and locks its rows and its products, in product-id order so that any two
    /// checkouts sharing products queue rather than deadlock.
    private func lockCart(_ customerID: UUID, on connection: PostgresConnection) async throws -> [Line] {
        let rows = try await connection.exec(LockCart(bindings: PostgresBindings { $0.append(customerID) }), logger: database.logger)
        return try rows.map { row in
            let r = row.makeRandomAccess()
            return Line(
                productID: try r.get("product_id"), quantity: try r.get("quantity"), name: try r.get("name"),
                priceCents: try r.get("price_cents"), stock: try r.get("stock"), available: try r.get("available"),
                merchantID: try r.get("merchant_id"), merchantName: try r.get("business_name"),
                commissionBps: try r.get("commission_bps"),
                origin: HubSummary(id: try r.get("hub_id"), code: try r.get("hub_code"), name: try r.get("hub_name")))
        }
    }

    private func insert(
        _ plan: Plan, request: Request, key: String, requestHash: String, customerID: UUID, on connection: PostgresConnection
    ) async throws -> Order {
        let now = effects.now()
        let orderID = UUID()
        let parcels = plan.parcels
        let items = parcels.flatMap { parcel in parcel.lines.map { (parcel.id, $0) } }
        let address = plan.destination.address
        let initial: SubOrderStatus = request.paymentMethod == .cod ? .placed : .awaitingPayment
        let rows = try await connection.exec(
            InsertOrder(
                bindings: PostgresBindings {
                    $0.append(orderID)  // $1
                    $0.append(now)
                    $0.append(businessTimeZone)
                    $0.append(customerID)
                    $0.append(request.paymentMethod.rawValue)  // $5
                    $0.append(address.id)
                    $0.append(address.label)
                    $0.append(address.line1)
                    $0.append(address.phone)
                    $0.append(address.zoneID)  // $10
                    $0.append(address.zoneName)
                    $0.append(plan.destination.hub.id)
                    $0.append(plan.itemsTotalCents)
                    $0.append(plan.destination.feeCents)
                    $0.append(plan.totalCents)  // $15
                    $0.append(key)
                    $0.append(requestHash)
                    $0.append(initial.rawValue)
                    $0.append(parcels.map(\.id))
                    $0.append(parcels.map(\.merchantID))  // $20
                    $0.append(parcels.map(\.origin.id))
                    $0.append(parcels.map(\.itemsTotalCents))
                    $0.append(parcels.map(\.feeShareCents))
                    $0.append(parcels.map(\.commissionBps))
                    $0.append(parcels.map(\.commissionCents))  // $25
                    $0.append(parcels.map { Hex.encode($0.codeDigest) })
                    $0.append(items.map(\.1.itemID))
                    $0.append(items.map(\.0))
                    $0.append(items.map(\.1.line.productID))
                    $0.append(items.map(\.1.line.name))  // $30
                    $0.append(items.map(\.1.line.priceCents))
                    $0.append(items.map(\.1.line.quantity))
                    $0.append(items.map { $0.1.line.priceCents * Int64($0.1.line.quantity) })
                    $0.append(
                        request.paymentMethod == .cod
                            ? "We have your order; pay the rider in cash at delivery." : "We have your order; pay with M-Pesa to confirm it.")
                }), logger: database.logger)
        let number = try rows[0].decode(String.self)
        return Order(
            id: orderID, number: number, customerID: customerID,
            status: initial.rawValue, paymentMethod: request.paymentMethod,
            paymentState: request.paymentMethod == .cod ? "cod_due" : "unpaid",
            itemsTotalCents: plan.itemsTotalCents, deliveryFeeCents: plan.destination.feeCents, totalCents: plan.totalCents,
            amountPaidCents: 0, amountRefundedCents: 0, address: address, createdAt: now,
            subOrders: parcels.enumerated().map { index, parcel in
                SubOrder(
                    id: parcel.id, orderID: orderID, orderNumber: number, number: "\(number)-\(index + 1)",
                    merchantID: parcel.merchantID, merchantName: parcel.merchantName, status: initial,
                    paymentMethod: request.paymentMethod, cancelReason: nil,
                    originHub: parcel.origin, destinationHub: plan.destination.hub, itemsTotalCents: parcel.itemsTotalCents,
                    deliveryFeeCents: parcel.feeShareCents, totalCents: parcel.itemsTotalCents + parcel.feeShareCents,
                    commissionCents: parcel.commissionCents, merchantPayoutCents: parcel.itemsTotalCents - parcel.commissionCents,
                    createdAt: now, deliveryAddress: address, riderName: nil, riderPhone: nil,
                    items: parcel.lines.map {
                        OrderItem(
                            id: $0.itemID, productID: $0.line.productID, name: $0.line.name, unitPriceCents: $0.line.priceCents,
                            quantity: $0.line.quantity, lineTotalCents: $0.line.priceCents * Int64($0.line.quantity),
                            refundedQuantity: 0)
                    }.sorted { ($0.name, $0.id.uuidString) < ($1.name, $1.id.uuidString) },
                    events: [
                        OrderEvent(
                            subOrderID: parcel.id, subOrderNumber: "\(number)-\(index + 1)", from: nil, to: initial,
                            actorRole: "customer", hub: nil, note: nil, at: now)
                    ],
                    handoverCode: parcel.code)
            })
    }

    /// The money of an order, computed from stored prices (SPEC section 2).
    struct Plan {
        struct PlannedLine {
            let itemID: UUID
            let line: Line
        }

        struct Parcel {
            let id: UUID
            let merchantID: UUID
            let merchantName: String
            let origin: HubSummary
            let commissionBps: Int
            let lines: [PlannedLine]
            let itemsTotalCents: Int64
            let feeShareCents: Int64
            let commissionCents: Int64
            let code: String
            let codeDigest: Data
        }

        let destination: Destination
        let parcels: [Parcel]
        let itemsTotalCents: Int64
        var totalCents: Int64 { itemsTotalCents + destination.feeCents }

        init(lines: [Line], destination: Destination, codes: HandoverCodes) {
            self.destination = destination
            // Sub-orders are numbered in order of merchant id; the fee's remainder goes on the first.
            let byMerchant = Dictionary(grouping: lines, by: \.merchantID).sorted { $0.key.uuidString < $1.key.uuidString }
            let shares = Money.splitWholeShillings(destination.feeCents, into: byMerchant.count)
            parcels = zip(byMerchant, shares).map { group, share in
                let (merchantID, merchantLines) = group
                let itemsTotal = merchantLines.reduce(Int64(0)) { $0 + $1.priceCents * Int64($1.quantity) }
                let id = UUID()
                let code = codes.generate()
                let first = merchantLines[0]
                return Parcel(
                    id: id, merchantID: merchantID, merchantName: first.merchantName, origin: first.origin,
                    commissionBps: first.commissionBps, lines: merchantLines.map { PlannedLine(itemID: UUID(), line: $0) },
                    itemsTotalCents: itemsTotal, feeShareCents: share,
                    commissionCents: Money.commission(on: itemsTotal, basisPoints: first.commissionBps),
                    code: code, codeDigest: codes.digest(code, subOrderID: id))
            }
            itemsTotalCents = parcels.reduce(0) { $0 + $1.itemsTotalCents }
        }
    }
}

// The statements of a checkout, prepared.
extension Checkout {
    /// $1 the customer and key: requests with the same key queue on it.
    struct QueueOnKey: PreparedStatementOfBindings {
        static let sql = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
        let bindings: PostgresBindings
    }

    /// $1 customer, $2 idempotency key, $3 address.
    struct EarlierOrderAndDestination: PreparedStatementOfBindings {
        static let sql = """
            SELECT earlier.id AS existing_id, earlier.request_hash AS existing_hash,
                   a.id, a.label, a.line1, a.phone, z.id AS zone_id, z.name AS zone_name, z.delivery_fee_cents,
                   z.is_active AND h.is_active AS served, h.id AS hub_id, h.code AS hub_code, h.name AS hub_name
            FROM (SELECT 1) AS one
            LEFT JOIN orders earlier ON earlier.customer_id = $1 AND earlier.idempotency_key = $2
            LEFT JOIN addresses a ON a.id = $3 AND a.user_id = $1
            LEFT JOIN zones z ON z.id = a.zone_id
            LEFT JOIN hubs h ON h.id = z.hub_id
            """
        let bindings: PostgresBindings
    }

    /// $1 customer.
    struct LockCart: PreparedStatementOfBindings {
        static let sql = """
            SELECT c.product_id, c.quantity, p.name, p.price_cents, p.stock, \(Products.onSale) AS available,
                   m.id AS merchant_id, m.business_name, m.commission_bps, h.id AS hub_id, h.code AS hub_code, h.name AS hub_name
            FROM cart_items c
            JOIN products p ON p.id = c.product_id
            JOIN merchants m ON m.id = p.merchant_id
            JOIN categories cat ON cat.id = p.category_id
            JOIN hubs h ON h.id = m.home_hub_id
            WHERE c.user_id = $1
            ORDER BY p.id
            FOR UPDATE OF c FOR NO KEY UPDATE OF p
            """
        let bindings: PostgresBindings
    }

    /// $1 now, $2 products, $3 quantities.
    struct TakeStock: PreparedStatementOfBindings {
        static let sql = """
            UPDATE products p SET stock = p.stock - taken.quantity, updated_at = $1
            FROM unnest($2::uuid[], $3::int[]) AS taken(id, quantity)
            WHERE p.id = taken.id AND p.stock >= taken.quantity
            RETURNING p.id
            """
        let bindings: PostgresBindings
    }

    /// The order, its parcels, items, first events and notice, and the emptied cart. Parameters
    /// as numbered where `insert` binds them.
    struct InsertOrder: PreparedStatementOfBindings {
        static let sql = """
            WITH master AS (
                INSERT INTO orders (id, number, customer_id, payment_method, address_id, address_label, address_line1,
                                    address_phone, zone_id, zone_name, destination_hub_id, items_total_cents,
                                    delivery_fee_cents, total_cents, idempotency_key, request_hash, created_at)
                SELECT $1, 'HR-' || to_char($2 AT TIME ZONE $3, 'YYYY') || '-' || lpad(n::text, greatest(6, length(n::text)), '0'),
                       $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $2
                FROM nextval('order_number_seq') AS n
                RETURNING number
            ), parcels AS (
                INSERT INTO sub_orders (id, order_id, number, merchant_id, status, origin_hub_id, destination_hub_id,
                                        items_total_cents, delivery_fee_cents, total_cents, commission_bps, commission_cents,
                                        merchant_payout_cents, handover_code_hash, created_at, updated_at)
                SELECT p.id, $1, master.number || '-' || p.position, p.merchant_id, $18, p.origin_hub_id,
                       $12, p.items_total, p.fee_share, p.items_total + p.fee_share, p.commission_bps,
                       p.commission, p.items_total - p.commission, decode(p.code_hash, 'hex'), $2, $2
                FROM master, unnest(
                    $19::uuid[], $20::uuid[], $21::uuid[], $22::bigint[], $23::bigint[], $24::int[], $25::bigint[], $26::text[]
                ) WITH ORDINALITY AS p(id, merchant_id, origin_hub_id, items_total, fee_share, commission_bps, commission, code_hash, position)
                RETURNING id
            ), lines AS (
                INSERT INTO order_items (id, sub_order_id, product_id, name, unit_price_cents, quantity, line_total_cents)
                SELECT * FROM unnest($27::uuid[], $28::uuid[], $29::uuid[], $30::text[], $31::bigint[], $32::int[], $33::bigint[])
            ), first_events AS (
                INSERT INTO sub_order_events (sub_order_id, from_status, to_status, actor_id, actor_role, created_at)
                SELECT id, NULL, $18, $4, 'customer', $2 FROM parcels
            ), emptied AS (
                DELETE FROM cart_items WHERE user_id = $4
            ), placed_notice AS (
                INSERT INTO notifications (user_id, kind, title, body, order_id, created_at)
                SELECT $4, 'order_placed', 'Order placed (' || master.number || ')', $34, $1, $2
                FROM master
            )
            SELECT number FROM master
            """
        let bindings: PostgresBindings
    }
}
