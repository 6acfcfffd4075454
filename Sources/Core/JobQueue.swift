import Foundation
import Logging
import PostgresNIO

/// Background work in PostgreSQL (SPEC section 11). A worker claims a due job under a lease
/// (`FOR UPDATE SKIP LOCKED`, so workers of several instances never take the same job), runs it
/// outside any transaction, then finishes it, repeats it, or schedules a retry with backoff and
/// the error. Nothing lives only in memory: a job whose worker died is claimed again once its
/// lease runs out, so handlers must be safe to run again.
public struct JobQueue: Sendable {
    public struct Job: Sendable {
        public let id: UUID
        public let kind: String
        public let payload: String
        public let attempt: Int
        /// The claim this worker holds; finishing the job requires it still.
        let lease: UUID
    }

    let database: Database
    let effects: Effects
    /// How long a claimed job stays with its worker before others may take it.
    let lease: TimeInterval

    public init(database: Database, effects: Effects, lease: TimeInterval = 300) {
        self.database = database
        self.effects = effects
        self.lease = lease
    }

    /// Adds a job; with a `uniqueKey` that already has an unfinished job, adds nothing.
    /// Returns whether a job was added.
    @discardableResult
    public func enqueue(
        _ kind: String, payload: some Encodable & Sendable = [String: String](), uniqueKey: String? = nil, runAt: Date? = nil,
        repeatEvery: Duration? = nil, maxAttempts: Int = 10, on connection: PostgresConnection? = nil
    ) async throws -> Bool {
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        let query: PostgresQuery = """
            INSERT INTO jobs (kind, payload, unique_key, run_at, repeat_seconds, max_attempts)
            VALUES (\(kind), \(json)::jsonb, \(uniqueKey), \(runAt ?? effects.now()),
                    \(repeatEvery.map { Int($0.components.seconds) }), \(maxAttempts))
            ON CONFLICT (unique_key) WHERE finished_at IS NULL AND failed_at IS NULL DO NOTHING
            RETURNING id
            """
        if let connection {
            return !(try await connection.exec(query, logger: database.logger)).isEmpty
        }
        return !(try await database.query(query)).isEmpty
    }

    /// Claims the job due first, if any, for the length of the lease.
    public func claim() async throws -> Job? {
        let now = effects.now()
        let claim = UUID()
        let rows = try await database.query(
            """
            UPDATE jobs SET attempts = attempts + 1, locked_until = \(now.addingTimeInterval(lease)), lease = \(claim)
            WHERE id = (
                SELECT id FROM jobs
                WHERE finished_at IS NULL AND failed_at IS NULL AND run_at <= \(now)
                  AND (locked_until IS NULL OR locked_until < \(now))
                ORDER BY run_at
                LIMIT 1
                FOR UPDATE SKIP LOCKED
            )
            RETURNING id, kind, payload::text, attempts
            """)
        guard let row = rows.first else { return nil }
        let (id, kind, payload, attempt) = try row.decode((UUID, String, String, Int).self)
        return Job(id: id, kind: kind, payload: payload, attempt: attempt, lease: claim)
    }

    /// Done: finished, or put back for its next period. Returns false, changing nothing, when
    /// the worker's lease ran out and another worker claimed the job meanwhile.
    @discardableResult
    public func complete(_ job: Job) async throws -> Bool {
        try await !database.query(
            """
            UPDATE jobs SET locked_until = NULL, lease = NULL,
                finished_at = CASE WHEN repeat_seconds IS NULL THEN \(effects.now()) END,
                run_at = CASE WHEN repeat_seconds IS NULL THEN run_at ELSE \(effects.now()) + make_interval(secs => repeat_seconds) END,
                attempts = CASE WHEN repeat_seconds IS NULL THEN attempts ELSE 0 END
            WHERE id = \(job.id) AND lease = \(job.lease)
            RETURNING id
            """).isEmpty
    }

    /// Failed: retried after an exponential backoff (capped at an hour), or given up after its
    /// last attempt. The error is kept either way. Like `complete`, only under the worker's lease.
    @discardableResult
    public func fail(_ job: Job, error: String) async throws -> Bool {
        let backoff = min(3_600, 5 * pow(2, Double(min(job.attempt, 20) - 1)))
        return try await !database.query(
            """
            UPDATE jobs SET locked_until = NULL, lease = NULL, last_error = \(String(error.prefix(2_000))),
                run_at = \(effects.now().addingTimeInterval(backoff)),
                failed_at = CASE WHEN attempts >= max_attempts AND repeat_seconds IS NULL THEN \(effects.now()) END
            WHERE id = \(job.id) AND lease = \(job.lease)
            RETURNING id
            """).isEmpty
    }
}

/// Runs claimed jobs with the handler registered for their kind.
public struct JobRunner: Sendable {
    public typealias Handler = @Sendable (JobQueue.Job) async throws -> Void

    let queue: JobQueue
    let handlers: [String: Handler]
    let logger: Logger

    public init(queue: JobQueue, handlers: [String: Handler], logger: Logger) {
        self.queue = queue
        self.handlers = handlers
        self.logger = logger
    }

    /// The kinds of job this runner handles.
    public var kinds: [String] { Array(handlers.keys) }

    /// Claims and runs one job; returns false when none was due.
    @discardableResult
    public func runNext() async throws -> Bool {
        guard let job = try await queue.claim() else { return false }
        let finished: Bool
        do {
            guard let handler = handlers[job.kind] else { throw UnknownJob(kind: job.kind) }
            try await handler(job)
            finished = try await queue.complete(job)
        } catch {
            logger.warning(
                "job failed",
                metadata: ["job": "\(job.id)", "kind": "\(job.kind)", "attempt": "\(job.attempt)", "error": "\(DatabaseError.loggable(error))"])
            finished = try await queue.fail(job, error: JobRunner.describe(error))
        }
        if !finished {
            logger.warning("job lease lost before it finished; another worker owns it now", metadata: ["job": "\(job.id)", "kind": "\(job.kind)"])
        }
        return true
    }

    /// `workers` loops claiming jobs until cancelled, pausing `idle` when nothing is due.
    public func run(workers: Int, idle: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    while !Task.isCancelled {
                        let worked = (try? await runNext()) ?? false
                        if !worked { try? await Task.sleep(for: idle) }
                    }
                }
            }
        }
    }

    /// What a job's row keeps of its last failure, for operators: the error's own words when it
    /// is one of ours (problems and job errors say nothing secret), its type otherwise.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let problem as Problem: return "\(problem.code): \(problem.detail)"
        case let described as any CustomStringConvertible & Error where !(error is PSQLError): return described.description
        default: return DatabaseError.loggable(error)
        }
    }

    struct UnknownJob: Error, CustomStringConvertible {
        let kind: String
        var description: String { "no handler for jobs of kind \(kind)" }
    }
}
