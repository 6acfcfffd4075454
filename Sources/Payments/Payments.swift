import Core
import Daraja
import Foundation
import Identity
import Logging
import Orders
import PostgresNIO
import Synchronization

/// M-Pesa payments (SPEC section 6). A push is committed as `pending`, with its reconciliation
/// job, before Daraja is called; the callback (or reconciliation, when no callback comes)
/// settles it. A success is accepted only for the exact amount and always wins over a stored
/// failure. Money that arrives is written where it goes (`PaymentLedger`): to the sub-orders it
/// pays, and what finds nothing to pay back to the customer.
public struct Payments: Sendable {
    public typealias Payment = PaymentRecord
    public typealias Status = PaymentRecord.Status

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
    let ledger: PaymentLedger
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
        self.ledger = PaymentLedger(lifecycle: lifecycle, refunds: refunds, effects: effects, logger: database.logger)
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
        let jobs = self.jobs
        let reconcileAt = now.addingTimeInterval(TimeInterval(reconciliationDelay.components.seconds))
        // 1. The pending row and the job that will settle it if no callback comes are committed
        //    before anything leaves the building.
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
            let amount = unpaid.reduce(Int64(0)) { $0 + $1.3 }
            try await connection.exec(
                """
                INSERT INTO payments (id, order_id, status, amount_cents, phone, created_at)
                VALUES (\(paymentID), \(orderID), 'pending', \(amount), \(phone.value), \(now))
                """, logger: logger)
            try await Self.scheduleReconciliation(paymentID, at: reconcileAt, jobs: jobs, on: connection)
            return (amount, "HR" + number.dropFirst(3).filter { $0 != "-" })
        }
        // 2. Daraja, outside any transaction.
        do {
            let accepted = try await daraja.stkPush(
                STKPushRequest(
                    amountCents: amount, phone: phone.value, callbackURL: callbackURL.stk, accountReference: reference,
                    transactionDescription: "HubRoute"))
            return try await database.transaction { connection in
                let rows = try await connection.exec(
                    """
                    UPDATE payments p SET merchant_request_id = \(accepted.merchantRequestID),
                        checkout_request_id = \(accepted.checkoutRequestID)
                    WHERE p.id = \(paymentID)
                    RETURNING p.id
                    """, logger: logger)
                guard !rows.isEmpty else { throw Problem.notFound("Payment") }
                // A callback faster than our own bookkeeping waited as unmatched; settle it now.
                try await settleUnmatched(checkoutRequestID: accepted.checkoutRequestID, on: connection)
                return try await Self.payment(paymentID, on: connection, logger: logger)
            }
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
    }

    static func scheduleReconciliation(_ paymentID: UUID, at runAt: Date?, jobs: JobQueue, on connection: PostgresConnection)
        async throws
    {
        try await jobs.enqueue(
            reconcileJob, payload: ["payment_id": paymentID.uuidString], uniqueKey: "\(reconcileJob):\(paymentID)", runAt: runAt,
            maxAttempts: 12, on: connection)
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
            let escaped = callback.escapingControlCharacters
            let document = ControlCharacters.escaping(json: body)
            try await database.transaction { connection in
                try await keepUnmatched(escaped, body: document, on: connection)
            }
            return
        }
        let raw = String(decoding: body, as: UTF8.self)
        try await database.transaction { connection in
            try await apply(callback, body: raw, on: connection)
        }
    }

    /// A callback, in the caller's transaction: applied to its payment, or kept for an admin
    /// when no payment has its CheckoutRequestID.
    private func apply(_ callback: STKCallback, body: String, on connection: PostgresConnection) async throws {
        guard let payment = try await lockPayment(checkoutRequestID: callback.checkoutRequestID, on: connection) else {
            try await keepUnmatched(callback, body: body, on: connection)
            return
        }
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
        guard let received, received == payment.amountCents else {
            // Money of another amount waits for an admin; the order is not released.
            try await connection.exec(
                """
                UPDATE payments SET status = 'flagged', received_cents = \(received), mpesa_receipt = \(callback.payment?.receiptNumber),
                    result_code = \(callback.resultCode), result_desc = \(callback.resultDescription), settled_at = \(now)
                WHERE id = \(payment.id)
                """, logger: logger)
            return
        }
        try await succeed(
            payment, receivedCents: received, receipt: callback.payment?.receiptNumber, resultCode: callback.resultCode,
            resultDesc: callback.resultDescription, on: connection)
    }

    /// Money arrived: the payment succeeds and its money is allocated (`PaymentLedger`).
    private func succeed(
        _ payment: Payment, receivedCents: Int64, receipt: String?, resultCode: String, resultDesc: String,
        on connection: PostgresConnection
    ) async throws {
        try await connection.exec(
            """
            UPDATE payments SET status = 'succeeded', mpesa_receipt = \(receipt), received_cents = \(receivedCents),
                result_code = \(resultCode), result_desc = \(resultDesc), settled_at = \(effects.now())
            WHERE id = \(payment.id)
            """, logger: logger)
        try await ledger.allocate(payment, receivedCents: receivedCents, receipt: receipt, on: connection)
    }

    private func keepUnmatched(_ callback: STKCallback, body: String, on connection: PostgresConnection) async throws {
        try await connection.exec(
            """
            INSERT INTO unmatched_callbacks (checkout_request_id, result_code, amount_cents, mpesa_receipt, body, received_at)
            VALUES (\(callback.checkoutRequestID), \(callback.resultCode), \(callback.payment?.amountCents),
                    \(callback.payment?.receiptNumber), \(body)::jsonb, \(effects.now()))
            """, logger: logger)
    }

    /// Callbacks kept as unmatched because they beat our bookkeeping of their
    /// CheckoutRequestID: applied and removed in the caller's transaction.
    private func settleUnmatched(checkoutRequestID: String, on connection: PostgresConnection) async throws {
        let rows = try await connection.exec(
            "DELETE FROM unmatched_callbacks WHERE checkout_request_id = \(checkoutRequestID) RETURNING body::text", logger: logger)
        for row in rows {
            let body = try row.decode(String.self)
            guard let callback = try? STKCallback.parse(Data(body.utf8)) else { continue }
            try await apply(callback, body: body, on: connection)
        }
    }

    // MARK: Reconciliation

    /// Settles a payment still pending after the callback delay from Daraja's STK query. A
    /// still-processing answer throws, so the job retries with backoff.
    public func reconcile(paymentID: UUID) async throws {
        let payment = try await payment(paymentID)
        guard payment.status == .pending else { return }
        guard let checkoutRequestID = payment.checkoutRequestID else {
            // Daraja never took the push (the service stopped before its answer): nothing to ask.
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
                try await succeed(
                    current, receivedCents: current.amountCents, receipt: nil, resultCode: "0", resultDesc: "Settled by STK query",
                    on: connection)
            case .failed(let code, let description):
                try await connection.exec(
                    """
                    UPDATE payments SET status = 'failed', result_code = \(code), result_desc = \(description), settled_at = \(effects.now())
                    WHERE id = \(current.id) AND status = 'pending'
                    """, logger: logger)
            }
        }
    }

    /// Every pending payment settled now from Daraja's answer (`hubroute reconcile-payments`);
    /// returns how many were pending, and those M-Pesa still processes.
    public func reconcileAll() async throws -> (pending: Int, stillProcessing: Int) {
        let ids = try await database.query("SELECT id FROM payments WHERE status = 'pending' ORDER BY created_at")
            .map { try $0.decode(UUID.self) }
        var processing = 0
        for id in ids {
            do { try await reconcile(paymentID: id) } catch is StillProcessing { processing += 1 }
        }
        return (ids.count, processing)
    }

    /// Puts a reconciliation job back for every pending payment that has none (its job gave up,
    /// or was never written by an older version): no payment stays pending forever.
    @discardableResult
    public func sweepPending() async throws -> Int {
        let jobs = self.jobs
        let logger = self.logger
        let due = effects.now().addingTimeInterval(-TimeInterval(reconciliationDelay.components.seconds))
        return try await database.transaction { connection in
            let ids = try await connection.exec(
                "SELECT id FROM payments WHERE status = 'pending' AND created_at < \(due)", logger: logger
            ).map { try $0.decode(UUID.self) }
            var added = 0
            for id in ids {
                if try await jobs.enqueue(
                    Self.reconcileJob, payload: ["payment_id": id.uuidString], uniqueKey: "\(Self.reconcileJob):\(id)", maxAttempts: 12,
                    on: connection)
                {
                    added += 1
                }
            }
            return added
        }
    }

    public struct StillProcessing: Error, CustomStringConvertible {
        public var description: String { "M-Pesa is still processing the payment" }
    }

    // MARK: Reading and admin

    public func payment(_ id: UUID, viewer: Principal? = nil) async throws -> Payment {
        let payment = try await database.withConnection { connection in
            try await Self.payment(id, on: connection, logger: database.logger)
        }
        if let viewer, viewer.role != .admin, viewer.userID != payment.customerID { throw Problem.notFound("Payment") }
        return payment
    }

    static func payment(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Payment {
        let rows = try await connection.exec("\(unescaped: PaymentRecord.select) WHERE p.id = \(id)", logger: logger)
        guard let row = rows.first else { throw Problem.notFound("Payment") }
        return try PaymentRecord.decode(row)
    }

    public func payments(status: Status?, page: PageRequest) async throws -> Page<Payment> {
        var query = FilterQuery()
        if let status { query.filter("p.status = \(try query.bind(status.rawValue))") }
        if let after = page.after {
            query.filter("(p.created_at, p.id) < (\(try query.bind(after.createdAt)), \(try query.bind(after.id)))")
        }
        let limit = try query.bind(page.limit + 1)
        let rows = try await database.query(query.query(PaymentRecord.select, "ORDER BY p.created_at DESC, p.id DESC LIMIT \(limit)"))
        return Page(fetched: try rows.map(PaymentRecord.decode), limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
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

    /// An admin's decision on a flagged payment: accept the money received as this payment
    /// (it is allocated to what the order still waits for; what finds nothing is refunded), or
    /// give it all back (the order stays payable and may expire).
    public func resolve(_ id: UUID, _ resolution: Resolution, note: String?, by admin: Principal) async throws -> Payment {
        let note = try Validator.note(note)
        let logger = self.logger
        let ledger = self.ledger
        let refunds = self.refunds
        let now = effects.now()
        return try await database.transaction { connection in
            let rows = try await connection.exec("\(unescaped: PaymentRecord.select) WHERE p.id = \(id) FOR UPDATE OF p", logger: logger)
            guard let payment = try rows.first.map(PaymentRecord.decode) else { throw Problem.notFound("Payment") }
            guard payment.status == .flagged, payment.resolution == nil else {
                throw Problem.invalidTransition(payment.status, "Only an unresolved flagged payment can be resolved.")
            }
            let received = payment.receivedCents ?? 0
            switch resolution {
            case .accept:
                guard received > 0 else {
                    throw Problem.conflict("M-Pesa reported no amount for this payment; refund it or leave it.", code: "nothing_received")
                }
                try await connection.exec(
                    """
                    UPDATE payments SET status = 'succeeded', resolution = 'accepted', resolution_note = \(note),
                        resolved_by = \(admin.userID), resolved_at = \(now)
                    WHERE id = \(id)
                    """, logger: logger)
                try await ledger.allocate(payment, receivedCents: received, receipt: payment.mpesaReceipt, on: connection)
            case .refund:
                try await connection.exec(
                    """
                    UPDATE payments SET resolution = 'refunded', resolution_note = \(note), resolved_by = \(admin.userID),
                        resolved_at = \(now)
                    WHERE id = \(id)
                    """, logger: logger)
                try await refunds.refundUnallocated(paymentID: id, amountCents: received, reason: .flaggedPayment, on: connection)
            }
            return try await Self.payment(id, on: connection, logger: logger)
        }
    }

    // MARK: Rows

    private func lockPayment(checkoutRequestID: String, on connection: PostgresConnection) async throws -> Payment? {
        try await connection.exec(
            "\(unescaped: PaymentRecord.select) WHERE p.checkout_request_id = \(checkoutRequestID) FOR UPDATE OF p", logger: logger
        ).first.map(PaymentRecord.decode)
    }

    private static func pending(_ orderID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Payment? {
        try await connection.exec("\(unescaped: PaymentRecord.select) WHERE p.order_id = \(orderID) AND p.status = 'pending'", logger: logger)
            .first.map(PaymentRecord.decode)
    }

    static func paymentPending(_ payment: Payment) -> Problem {
        Problem(
            status: 409, code: "payment_pending", title: "Payment in progress",
            detail: "A push for this order is still waiting for the customer's answer.",
            extensions: [
                "payment": .object([
                    "id": .string(payment.id.lowercased), "status": .string(payment.status.rawValue),
                    "amount_cents": .int(payment.amountCents),
                    "checkout_request_id": payment.checkoutRequestID.map(JSONValue.string) ?? .null,
                ])
            ])
    }
}

/// Where Daraja posts its results: `PUBLIC_BASE_URL` + a path ending in the callback secret.
/// Tests set the base once their server has a port.
public final class CallbackURL: Sendable {
    private let base: Mutex<String>
    let secret: Secret

    public init(base: String, secret: Secret) {
        self.base = Mutex(base.hasSuffix("/") ? String(base.dropLast()) : base)
        self.secret = secret
    }

    public func setBase(_ base: String) { self.base.withLock { $0 = base } }

    public var stk: String { url("/api/v1/payments/mpesa/callback") }
    public var b2cResult: String { url("/api/v1/payments/mpesa/b2c/result") }
    public var b2cTimeout: String { url("/api/v1/payments/mpesa/b2c/timeout") }

    private func url(_ path: String) -> String {
        base.withLock { "\($0)\(path)/\(secret.revealed)" }
    }
}
