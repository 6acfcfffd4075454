import Core
import Daraja
import Foundation
import Logging
import Orders
import PostgresNIO

/// Paying refunds out by M-Pesa B2C (SPEC sections 6 and 8), through the job queue.
///
/// `approved → paying` takes a new OriginatorConversationID (ours, unique: the payout's
/// idempotency key) and sends it; sending again after no answer, a queue timeout or a restart
/// reuses it, so M-Pesa pays once. The result callback settles `paying` as `paid` (with the
/// receipt) or `failed` (with the reason); an admin's retry after a definite failure takes a new
/// OriginatorConversationID.
public struct RefundPayouts: Sendable {
    public static let job = "pay-refund"
    static let maxAttempts = 12
    static func uniqueKey(_ refundID: UUID) -> String { "\(job):\(refundID)" }

    /// Where Daraja posts B2C results and queue timeouts.
    public struct CallbackURLs: Sendable {
        public let result: @Sendable () -> String
        public let timeout: @Sendable () -> String

        public init(result: @escaping @Sendable () -> String, timeout: @escaping @Sendable () -> String) {
            self.result = result
            self.timeout = timeout
        }
    }

    let database: Database
    let effects: Effects
    let daraja: DarajaClient
    let jobs: JobQueue
    let callbacks: CallbackURLs
    /// How long after a queue timeout a payout is sent again (same OriginatorConversationID).
    let recheckDelay: Duration
    let logger: Logger

    public init(
        database: Database, effects: Effects, daraja: DarajaClient, jobs: JobQueue, callbacks: CallbackURLs, recheckDelay: Duration
    ) {
        self.database = database
        self.effects = effects
        self.daraja = daraja
        self.jobs = jobs
        self.callbacks = callbacks
        self.recheckDelay = recheckDelay
        self.logger = database.logger
    }

    struct Payout: Sendable {
        let refundID: UUID
        let originatorConversationID: String
        let amountCents: Int64
        let phone: String
        let orderNumber: String
    }

    /// The payout job: sends the refund's B2C request. A refused request (a definite answer)
    /// fails the refund for an admin to retry; no answer throws, so the job sends it again with
    /// the same OriginatorConversationID.
    public func payOut(_ refundID: UUID) async throws {
        let now = effects.now()
        let logger = self.logger
        let claimed: Payout? = try await database.transaction { connection in
            let rows = try await connection.exec(
                """
                SELECT r.status, r.amount_cents, r.payee_phone, r.originator_conversation_id, o.number
                FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.id = \(refundID) FOR UPDATE OF r
                """, logger: logger)
            guard let row = rows.first else { return nil }
            let (status, amount, phone, originator, number) = try row.decode((String, Int64, String, String?, String).self)
            switch (RefundRecord.Status(rawValue: status), originator) {
            case (.approved, _):
                let fresh = UUID().lowercased
                try await RefundLedger.move(
                    refundID, from: .approved, to: .paying, actor: .system, note: "Payout sent to M-Pesa", now: now,
                    on: connection, logger: logger)
                try await connection.exec(
                    "UPDATE refunds SET originator_conversation_id = \(fresh) WHERE id = \(refundID)", logger: logger)
                return Payout(refundID: refundID, originatorConversationID: fresh, amountCents: amount, phone: phone, orderNumber: number)
            case (.paying, .some(let originator)):
                // Sent again under the same OriginatorConversationID; M-Pesa pays it once.
                try await connection.exec("UPDATE refunds SET updated_at = \(now) WHERE id = \(refundID)", logger: logger)
                return Payout(refundID: refundID, originatorConversationID: originator, amountCents: amount, phone: phone, orderNumber: number)
            default:
                return nil  // paid, failed, denied or requested meanwhile: nothing to send
            }
        }
        guard let payout = claimed else { return }
        do {
            let accepted = try await daraja.b2cPayment(
                B2CPaymentRequest(
                    originatorConversationID: payout.originatorConversationID, amountCents: payout.amountCents, phone: payout.phone,
                    remarks: "HubRoute refund", occasion: payout.orderNumber, resultURL: callbacks.result(),
                    queueTimeOutURL: callbacks.timeout()))
            try await database.query(
                """
                UPDATE refunds SET conversation_id = \(accepted.conversationID)
                WHERE id = \(refundID) AND originator_conversation_id = \(payout.originatorConversationID)
                """)
        } catch let error as DarajaError where error.refusedForGood {
            let reason = String(describing: error)
            try await database.transaction { connection in
                let moved = try await RefundLedger.move(
                    refundID, from: .paying, to: .failed, actor: .system, note: "M-Pesa refused the payout: \(reason)",
                    now: effects.now(), originator: payout.originatorConversationID, on: connection, logger: logger)
                if moved {
                    try await connection.exec("UPDATE refunds SET failure_reason = \(reason) WHERE id = \(refundID)", logger: logger)
                }
            }
        }
    }

    /// Daraja's B2C result. Idempotent: only a refund still `paying` under this
    /// OriginatorConversationID moves; a duplicate, or the result of an attempt a retry replaced,
    /// changes nothing.
    public func handleResult(_ body: Data) async throws {
        let result: B2CResult
        do { result = try B2CResult.parse(body) } catch { throw Problem.malformedRequest("\(error)") }
        let now = effects.now()
        let logger = self.logger
        let originator = ControlCharacters.escaping(result.originatorConversationID)
        try await database.transaction { connection in
            let rows = try await connection.exec(
                "SELECT id FROM refunds WHERE originator_conversation_id = \(originator) FOR UPDATE", logger: logger)
            guard let refundID = try rows.first?.decode(UUID.self) else {
                logger.warning("a B2C result for no payout of ours", metadata: ["originator_conversation_id": "\(originator)"])
                return
            }
            if result.isSuccess {
                let receipt = result.transactionReceipt.map(ControlCharacters.escaping)
                guard try await RefundLedger.move(
                    refundID, from: .paying, to: .paid, actor: .system, note: "Paid by M-Pesa, receipt \(receipt ?? "-")", now: now,
                    originator: originator, on: connection, logger: logger)
                else { return }
                try await connection.exec("UPDATE refunds SET mpesa_receipt = \(receipt) WHERE id = \(refundID)", logger: logger)
                try await RefundLedger.notifyCustomer(
                    of: refundID, kind: "refund_paid", title: "Refund paid",
                    body: "Your refund was sent to your M-Pesa (receipt \(receipt ?? "-")).", now: now, on: connection, logger: logger)
            } else {
                let reason = ControlCharacters.escaping("\(result.resultCode): \(result.resultDescription)")
                guard try await RefundLedger.move(
                    refundID, from: .paying, to: .failed, actor: .system, note: "M-Pesa could not pay: \(reason)", now: now,
                    originator: originator, on: connection, logger: logger)
                else { return }
                try await connection.exec("UPDATE refunds SET failure_reason = \(reason) WHERE id = \(refundID)", logger: logger)
            }
        }
    }

    /// Daraja's queue timeout: not a failure. The refund stays `paying` and the same payout is
    /// sent again later, which M-Pesa pays at most once.
    public func handleTimeout(_ body: Data) async throws {
        let result: B2CResult
        do { result = try B2CResult.parse(body) } catch { throw Problem.malformedRequest("\(error)") }
        let now = effects.now()
        let logger = self.logger
        let jobs = self.jobs
        let recheckAt = now.addingTimeInterval(TimeInterval(recheckDelay.components.seconds))
        try await database.transaction { connection in
            let rows = try await connection.exec(
                """
                SELECT id FROM refunds WHERE originator_conversation_id = \(ControlCharacters.escaping(result.originatorConversationID))
                  AND status = 'paying' FOR UPDATE
                """, logger: logger)
            guard let refundID = try rows.first?.decode(UUID.self) else { return }
            try await RefundLedger.record(
                refundID, status: .paying, actor: .system, note: "M-Pesa timed the payout out in its queue; checking again",
                now: now, on: connection, logger: logger)
            try await jobs.enqueue(
                Self.job, payload: ["refund_id": refundID.uuidString], uniqueKey: Self.uniqueKey(refundID), runAt: recheckAt,
                maxAttempts: Self.maxAttempts, on: connection)
        }
    }

    /// Queues the payout of every approved refund, and sends again every payout still `paying`
    /// long after it was last sent (its result never came), so no refund waits forever. The
    /// jobs' unique keys keep one job per refund.
    @discardableResult
    public func sweep(resendAfter: Duration) async throws -> Int {
        let stale = effects.now().addingTimeInterval(-TimeInterval(resendAfter.components.seconds))
        let jobs = self.jobs
        let logger = self.logger
        return try await database.transaction { connection in
            let ids = try await connection.exec(
                "SELECT id FROM refunds WHERE status = 'approved' OR (status = 'paying' AND updated_at < \(stale))", logger: logger
            ).map { try $0.decode(UUID.self) }
            var queued = 0
            for id in ids {
                if try await jobs.enqueue(
                    Self.job, payload: ["refund_id": id.uuidString], uniqueKey: Self.uniqueKey(id), maxAttempts: Self.maxAttempts,
                    on: connection)
                {
                    queued += 1
                }
            }
            return queued
        }
    }

    /// An admin's retry after a definite failure: `failed → paying` with a new
    /// OriginatorConversationID, sent by the job.
    public func retry(_ refundID: UUID, by admin: Actor) async throws -> RefundRecord {
        let now = effects.now()
        let logger = self.logger
        let jobs = self.jobs
        return try await database.transaction { connection in
            let status = try await RefundLedger.lock(refundID, on: connection, logger: logger)
            guard status == .failed else {
                throw Problem.invalidTransition(status, "Only a refund whose payout failed can be paid out again.")
            }
            try await RefundLedger.move(
                refundID, from: .failed, to: .paying, actor: admin, note: "Payout retried", now: now, on: connection, logger: logger)
            try await connection.exec(
                """
                UPDATE refunds SET originator_conversation_id = \(UUID().lowercased), failure_reason = NULL,
                    conversation_id = NULL
                WHERE id = \(refundID)
                """, logger: logger)
            try await jobs.enqueue(
                Self.job, payload: ["refund_id": refundID.uuidString], uniqueKey: Self.uniqueKey(refundID),
                maxAttempts: Self.maxAttempts, on: connection)
            return try await RefundLedger.load(refundID, on: connection, logger: logger)
        }
    }
}

extension DarajaError {
    /// Daraja answered and said no (a bad request, a bad credential): sending the same again
    /// would be refused again. No answer, or its own trouble (5xx), may go through next time.
    var refusedForGood: Bool {
        switch self {
        case .rejected(let status, _, _, _): (400..<500).contains(status)
        case .invalidRequest: true
        default: false
        }
    }
}
