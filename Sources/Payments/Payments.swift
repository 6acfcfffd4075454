import Core
import Daraja
import Foundation
import Identity
import Logging
import Orders
import PostgresNIO
import Synchronization

/// M-Pesa payments (SPEC section 6). A push is committed as `pending` before Daraja is called;
/// the callback (or reconciliation, when no callback comes) settles it. A success is accepted
/// only for the exact amount, always wins over a stored failure, and money that arrives for an
/// order that is no longer payable is kept and refunded.
public struct Payments: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case pending, succeeded, failed, flagged
    }

    public struct Payment: Sendable, Equatable {
        public let id: UUID
        public let orderID: UUID
        public let customerID: UUID
        public let status: Status
        public let amountCents: Int64
        public let phone: String
        public let checkoutRequestID: String?
        public let mpesaReceipt: String?
        public let receivedCents: Int64?
        public let resultCode: String?
        public let resultDesc: String?
        public let resolution: String?
        public let createdAt: Date
        public let settledAt: Date?
    }

    public struct UnmatchedCallback: Sendable, Equatable {
        public let id: UUID
        public let checkoutRequestID: String
        public let resultCode: String
        public let amountCents: Int64?
        public let mpesaReceipt: String?
        public let receivedAt: Date
    }

    public enum Resolution: String, Sendable {
        case accept, refund
    }

    public static let reconcileJob = "reconcile-payment"

    let database: Database
    let effects: Effects
    let daraja: DarajaClient
    let lifecycle: SubOrderLifecycle
    let refunds: any RefundRecorder
    let jobs: JobQueue
    let callbackURL: CallbackURL
    let reconciliationDelay: Duration
    let pushLimit: AppConfig.PushLimit
    let logger: Logger

    public init(
        database: Database, effects: Effects, daraja: DarajaClient, lifecycle: SubOrderLifecycle, refunds: any RefundRecorder,
        jobs: JobQueue, callbackURL: CallbackURL, reconciliationDelay: Duration, pushLimit: AppConfig.PushLimit
    ) {
        self.database = database
        self.effects = effects
        self.daraja = daraja
        self.lifecycle = lifecycle
        self.refunds = refunds
        self.jobs = jobs
        self.callbackURL = callbackURL
        self.reconciliationDelay = reconciliationDelay
        self.pushLimit = pushLimit
        self.logger = database.logger
    }

    // MARK: Push

    /// Asks the customer's phone to pay the order's unpaid sub-orders.
    public func push(orderID: UUID, phone rawPhone: String, by customer: Principal) async throws -> Payment {
        guard let phone = PhoneNumber(normalising: rawPhone) else {
            throw Problem.validation(field: "phone", "must be a Kenyan mobile number such as 0712345678")
        }
        // Each push makes a phone ring: limited per order, per customer and per phone. The order's
        // count is the caller's own, so nobody can use up someone else's.
        try await RateLimiter(database: database, window: pushLimit.window).hit(
            [
                ("stk:order:\(orderID):\(customer.userID)", pushLimit.perOrder), ("stk:customer:\(customer.userID)", pushLimit.perCustomer),
                ("stk:phone:\(phone.value)", pushLimit.perPhone),
            ], now: effects.now())
        let paymentID = UUID()
        let now = effects.now()
        let logger = self.logger
        // 1. The pending row is committed before anything leaves the building.
        let (amount, reference) = try await database.transaction { connection -> (Int64, String) in
            let rows = try await connection.exec(
                """
                SELECT o.number, o.payment_method, s.status, s.total_cents
                FROM orders o JOIN sub_orders s ON s.order_id = o.id
                WHERE o.id = \(orderID) AND o.customer_id = \(customer.userID)
                ORDER BY s.id FOR UPDATE OF s
                """, logger: logger)
            guard let first = rows.first else { throw Problem.notFound("Order") }
            let (number, method, _, _) = try first.decode((String, String, String, Int64).self)
            guard method == "mpesa" else {
                throw Problem.conflict("This order is paid in cash on delivery.", code: "not_an_mpesa_order")
            }
            let unpaid = try rows.map { try $0.decode((String, String, String, Int64).self) }.filter { $0.2 == "awaiting_payment" }
            guard !unpaid.isEmpty else {
                throw Problem.conflict("Nothing of this order is waiting for payment.", code: "nothing_to_pay")
            }
            if let pending = try await Self.pending(orderID, on: connection, logger: logger) {
                throw Self.paymentPending(pending)
            }
            try await connection.exec(
                """
                INSERT INTO payments (id, order_id, status, amount_cents, phone, created_at)
                VALUES (\(paymentID), \(orderID), 'pending', \(unpaid.reduce(0) { $0 + $1.3 }), \(phone.value), \(now))
                """, logger: logger)
            return (unpaid.reduce(0) { $0 + $1.3 }, "HR" + number.dropFirst(3).filter { $0 != "-" })
        }
        // 2. Daraja, outside any transaction.
        do {
            let accepted = try await daraja.stkPush(
                STKPushRequest(
                    amountCents: amount, phone: phone.value, callbackURL: callbackURL.stk, accountReference: reference,
                    transactionDescription: "HubRoute"))
            try await database.query(
                """
                UPDATE payments SET merchant_request_id = \(accepted.merchantRequestID), checkout_request_id = \(accepted.checkoutRequestID)
                WHERE id = \(paymentID)
                """)
            try await jobs.enqueue(
                Self.reconcileJob, payload: ["payment_id": paymentID.uuidString], uniqueKey: "\(Self.reconcileJob):\(paymentID)",
                runAt: effects.now().addingTimeInterval(TimeInterval(reconciliationDelay.components.seconds)), maxAttempts: 12)
            // A callback faster than our own bookkeeping waited as unmatched; settle it now.
            try await settleUnmatched(checkoutRequestID: accepted.checkoutRequestID)
        } catch let error as DarajaError {
            let noAnswer = error.isNoAnswer
            try await database.query(
                """
                UPDATE payments SET status = 'failed', result_code = \(error.errorCode), settled_at = \(effects.now()),
                    result_desc = \(noAnswer ? "no answer" : (error.errorMessage ?? "\(error)"))
                WHERE id = \(paymentID) AND status = 'pending'
                """)
            throw noAnswer
                ? Problem(status: 504, code: "daraja_timeout", title: "M-Pesa did not answer",
                          detail: "M-Pesa did not answer in time; the order can be paid again.")
                : Problem(status: 502, code: "daraja_error", title: "M-Pesa refused the request",
                          detail: error.errorMessage ?? "M-Pesa refused the payment request.",
                          extensions: ["daraja_error_code": .string(error.errorCode ?? "")])
        }
        return try await payment(paymentID)
    }

    // MARK: Callbacks

    /// Applies an STK callback. Idempotent on CheckoutRequestID; unknown ones are kept for admins.
    public func handleCallback(_ body: Data) async throws {
        let callback: STKCallback
        do { callback = try STKCallback.parse(body) } catch { throw Problem.malformedRequest("\(error)") }
        guard !callback.holdsControlCharacters else {
            // PostgreSQL cannot store NUL, and a receipt with control characters is not one
            // M-Pesa issued: the callback is kept, escaped, for an admin, and reconciliation
            // settles the payment from Daraja's own answer.
            try await keepUnmatched(callback.escapingControlCharacters, body: ControlCharacters.escaping(json: body))
            return
        }
        let raw = String(decoding: body, as: UTF8.self)
        try await database.transaction { connection in
            guard let payment = try await lockPayment(checkoutRequestID: callback.checkoutRequestID, on: connection) else {
                try await connection.exec(
                    """
                    INSERT INTO unmatched_callbacks (checkout_request_id, result_code, amount_cents, mpesa_receipt, body, received_at)
                    VALUES (\(callback.checkoutRequestID), \(callback.resultCode), \(callback.payment?.amountCents),
                            \(callback.payment?.receiptNumber), \(raw)::jsonb, \(effects.now()))
                    """, logger: logger)
                return
            }
            try await apply(callback, to: payment, on: connection)
        }
    }

    private func apply(_ callback: STKCallback, to payment: Payment, on connection: PostgresConnection) async throws {
        let now = effects.now()
        guard callback.isSuccess else {
            // A failure never overrides a settled payment.
            try await connection.exec(
                """
                UPDATE payments SET status = 'failed', result_code = \(callback.resultCode), result_desc = \(callback.resultDescription),
                    settled_at = \(now)
                WHERE id = \(payment.id) AND status = 'pending'
                """, logger: logger)
            return
        }
        guard payment.status == .pending || payment.status == .failed else { return }  // already settled: a duplicate
        let received = callback.payment?.amountCents
        guard received == payment.amountCents else {
            try await connection.exec(
                """
                UPDATE payments SET status = 'flagged', received_cents = \(received), mpesa_receipt = \(callback.payment?.receiptNumber),
                    result_code = \(callback.resultCode), result_desc = \(callback.resultDescription), settled_at = \(now)
                WHERE id = \(payment.id)
                """, logger: logger)
            return
        }
        try await succeed(payment, receipt: callback.payment?.receiptNumber, resultCode: callback.resultCode,
                          resultDesc: callback.resultDescription, on: connection)
    }

    /// Money arrived: the payment succeeds and releases the order, or, when nothing of the order
    /// waits for payment any more, is refunded.
    private func succeed(
        _ payment: Payment, receipt: String?, resultCode: String, resultDesc: String, on connection: PostgresConnection
    ) async throws {
        try await connection.exec(
            """
            UPDATE payments SET status = 'succeeded', mpesa_receipt = \(receipt), received_cents = amount_cents,
                result_code = \(resultCode), result_desc = \(resultDesc), settled_at = \(effects.now())
            WHERE id = \(payment.id)
            """, logger: logger)
        let released = try await lifecycle.markPaid(payment.orderID, receipt: receipt, on: connection)
        if released.isEmpty {
            try await refundToCancelledParcels(payment.orderID, amountCents: payment.amountCents, reason: .latePayment, on: connection)
        }
    }

    /// Spreads money to give back over the order's cancelled sub-orders, each up to its total.
    private func refundToCancelledParcels(
        _ orderID: UUID, amountCents: Int64, reason: AutomaticRefundReason, on connection: PostgresConnection
    ) async throws {
        let parcels = try await connection.exec(
            """
            SELECT id, total_cents FROM sub_orders WHERE order_id = \(orderID) AND status IN ('cancelled', 'awaiting_payment')
            ORDER BY length(number), number
            """, logger: logger)
        var remaining = amountCents
        for parcel in parcels where remaining > 0 {
            let (id, total) = try parcel.decode((UUID, Int64).self)
            let share = min(total, remaining)
            try await refunds.recordAutomaticRefund(subOrderID: id, amountCents: share, reason: reason, on: connection)
            remaining -= share
        }
    }

    private func keepUnmatched(_ callback: STKCallback, body: String) async throws {
        try await database.query(
            """
            INSERT INTO unmatched_callbacks (checkout_request_id, result_code, amount_cents, mpesa_receipt, body, received_at)
            VALUES (\(callback.checkoutRequestID), \(callback.resultCode), \(callback.payment?.amountCents),
                    \(callback.payment?.receiptNumber), \(body)::jsonb, \(effects.now()))
            """)
    }

    private func settleUnmatched(checkoutRequestID: String) async throws {
        let rows = try await database.query(
            "DELETE FROM unmatched_callbacks WHERE checkout_request_id = \(checkoutRequestID) RETURNING body::text")
        for row in rows {
            try await handleCallback(Data(try row.decode(String.self).utf8))
        }
    }

    // MARK: Reconciliation

    /// Settles a payment still pending after the callback delay from Daraja's STK query. A
    /// still-processing answer throws, so the job retries with backoff.
    public func reconcile(paymentID: UUID) async throws {
        let payment = try await payment(paymentID)
        guard payment.status == .pending else { return }
        guard let checkoutRequestID = payment.checkoutRequestID else {
            try await database.query(
                """
                UPDATE payments SET status = 'failed', result_desc = 'no answer', settled_at = \(effects.now())
                WHERE id = \(paymentID) AND status = 'pending' AND checkout_request_id IS NULL
                """)
            return
        }
        let result = try await daraja.stkQuery(checkoutRequestID: checkoutRequestID)
        try await database.transaction { connection in
            guard let current = try await lockPayment(checkoutRequestID: checkoutRequestID, on: connection),
                current.status == .pending
            else { return }  // a callback settled it meanwhile; a stored result is never overwritten
            switch result {
            case .pending:
                throw StillProcessing()
            case .succeeded:
                try await succeed(current, receipt: nil, resultCode: "0", resultDesc: "Settled by STK query", on: connection)
            case .failed(let code, let description):
                try await connection.exec(
                    """
                    UPDATE payments SET status = 'failed', result_code = \(code), result_desc = \(description), settled_at = \(effects.now())
                    WHERE id = \(current.id) AND status = 'pending'
                    """, logger: logger)
            }
        }
    }

    struct StillProcessing: Error, CustomStringConvertible {
        var description: String { "M-Pesa is still processing the payment" }
    }

    // MARK: Reading and admin

    public func payment(_ id: UUID, viewer: Principal? = nil) async throws -> Payment {
        let rows = try await database.query("\(unescaped: Self.select) WHERE p.id = \(id)")
        guard let row = rows.first else { throw Problem.notFound("Payment") }
        let payment = try Self.decode(row)
        if let viewer, viewer.role != .admin, viewer.userID != payment.customerID { throw Problem.notFound("Payment") }
        return payment
    }

    public func payments(ofOrders orderIDs: [UUID]) async throws -> [Payment] {
        try await database.query("\(unescaped: Self.select) WHERE p.order_id = ANY(\(orderIDs)) ORDER BY p.created_at, p.id")
            .map(Self.decode)
    }

    public func payments(status: Status?, page: PageRequest) async throws -> Page<Payment> {
        var query = FilterQuery()
        if let status { query.filter("p.status = \(try query.bind(status.rawValue))") }
        if let after = page.after {
            query.filter("(p.created_at, p.id) < (\(try query.bind(after.createdAt)), \(try query.bind(after.id)))")
        }
        let limit = try query.bind(page.limit + 1)
        let rows = try await database.query(query.query(Self.select, "ORDER BY p.created_at DESC, p.id DESC LIMIT \(limit)"))
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    public func unmatchedCallbacks(limit: Int) async throws -> [UnmatchedCallback] {
        try await database.query(
            """
            SELECT id, checkout_request_id, result_code, amount_cents, mpesa_receipt, received_at
            FROM unmatched_callbacks ORDER BY received_at DESC LIMIT \(limit)
            """
        ).map { row in
            let r = row.makeRandomAccess()
            return UnmatchedCallback(
                id: try r.get("id"), checkoutRequestID: try r.get("checkout_request_id"), resultCode: try r.get("result_code"),
                amountCents: try r.get("amount_cents"), mpesaReceipt: try r.get("mpesa_receipt"), receivedAt: try r.get("received_at"))
        }
    }

    /// An admin's decision on a flagged payment: accept it as paid (the order is released) or
    /// give the money received back (automatic refunds; the order stays payable).
    public func resolve(_ id: UUID, _ resolution: Resolution, note: String?, by admin: Principal) async throws -> Payment {
        let logger = self.logger
        try await database.transaction { connection in
            let rows = try await connection.exec(
                "SELECT checkout_request_id FROM payments WHERE id = \(id) FOR UPDATE", logger: logger)
            guard let row = rows.first else { throw Problem.notFound("Payment") }
            guard let checkout = try row.decode(String?.self),
                let payment = try await lockPayment(checkoutRequestID: checkout, on: connection)
            else { throw Problem.notFound("Payment") }
            guard payment.status == .flagged, payment.resolution == nil else {
                throw Problem.invalidTransition(payment.status, "Only an unresolved flagged payment can be resolved.")
            }
            try await connection.exec(
                """
                UPDATE payments SET resolution = \(resolution == .accept ? "accepted" : "refunded"), resolution_note = \(note),
                    resolved_by = \(admin.userID), resolved_at = \(effects.now())
                WHERE id = \(id)
                """, logger: logger)
            switch resolution {
            case .accept:
                try await connection.exec("UPDATE payments SET status = 'succeeded' WHERE id = \(id)", logger: logger)
                _ = try await lifecycle.markPaid(payment.orderID, receipt: payment.mpesaReceipt, on: connection)
            case .refund:
                try await refundToCancelledParcels(
                    payment.orderID, amountCents: payment.receivedCents ?? payment.amountCents, reason: .flaggedPayment, on: connection)
            }
        }
        return try await self.payment(id)
    }

    // MARK: Rows

    private func lockPayment(checkoutRequestID: String, on connection: PostgresConnection) async throws -> Payment? {
        try await connection.exec(
            "\(unescaped: Self.select) WHERE p.checkout_request_id = \(checkoutRequestID) FOR UPDATE OF p", logger: logger
        ).first.map(Self.decode)
    }

    private static func pending(_ orderID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Payment? {
        try await connection.exec("\(unescaped: select) WHERE p.order_id = \(orderID) AND p.status = 'pending'", logger: logger)
            .first.map(decode)
    }

    static func paymentPending(_ payment: Payment) -> Problem {
        Problem(
            status: 409, code: "payment_pending", title: "Payment in progress",
            detail: "A push for this order is still waiting for the customer's answer.",
            extensions: [
                "payment": .object([
                    "id": .string(payment.id.uuidString.lowercased()), "status": .string(payment.status.rawValue),
                    "amount_cents": .int(payment.amountCents),
                    "checkout_request_id": payment.checkoutRequestID.map(JSONValue.string) ?? .null,
                ])
            ])
    }

    private static let select = """
        SELECT p.id, p.order_id, o.customer_id, p.status, p.amount_cents, p.phone, p.checkout_request_id, p.mpesa_receipt,
               p.received_cents, p.result_code, p.result_desc, p.resolution, p.created_at, p.settled_at
        FROM payments p JOIN orders o ON o.id = p.order_id
        """

    private static func decode(_ row: PostgresRow) throws -> Payment {
        let r = row.makeRandomAccess()
        return Payment(
            id: try r.get("id"), orderID: try r.get("order_id"), customerID: try r.get("customer_id"),
            status: Status(rawValue: try r.get("status")) ?? .pending, amountCents: try r.get("amount_cents"),
            phone: try r.get("phone"), checkoutRequestID: try r.get("checkout_request_id"), mpesaReceipt: try r.get("mpesa_receipt"),
            receivedCents: try r.get("received_cents"), resultCode: try r.get("result_code"), resultDesc: try r.get("result_desc"),
            resolution: try r.get("resolution"), createdAt: try r.get("created_at"), settledAt: try r.get("settled_at"))
    }
}

/// Where Daraja posts STK results: `PUBLIC_BASE_URL` + the secret path. Tests set the base once
/// their server has a port.
public final class CallbackURL: Sendable {
    private let base: Mutex<String>
    let secret: Secret

    public init(base: String, secret: Secret) {
        self.base = Mutex(base.hasSuffix("/") ? String(base.dropLast()) : base)
        self.secret = secret
    }

    public func setBase(_ base: String) { self.base.withLock { $0 = base } }

    public var stk: String { base.withLock { "\($0)/api/v1/payments/mpesa/callback/\(secret.revealed)" } }
}
