import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import _ConnectionPoolModule

/// The service's access to PostgreSQL: a connection pool, time limits, availability, and the
/// mapping of database failures to problems.
///
/// Time limits: every statement is limited on the server (`statement_timeout` and
/// `lock_timeout`, set when a connection opens); waiting for a connection is limited here. Once
/// a call has found the database unreachable, calls fail at once with 503 until a probe sees it
/// answer again, so a database outage costs clients milliseconds, not the full timeout each.
public struct Database: Sendable {
    public let logger: Logger
    /// How long a call may wait for a pooled connection.
    public let timeout: Duration
    let pools: PoolSupervisor

    public init(configuration: PostgresClient.Configuration, logger: Logger, timeout: Duration, probeInterval: Duration = .milliseconds(250)) {
        self.logger = logger
        self.timeout = timeout
        self.pools = PoolSupervisor(configuration: configuration, logger: logger, probeInterval: probeInterval)
    }

    /// Runs the connection pool and, while the database is unreachable, the probe that notices
    /// its return, until the task is cancelled. The service group runs it; commands and tests run
    /// it beside their work.
    public func run() async {
        await pools.run()
    }

    /// False from the moment a call found the database unreachable until the probe reaches it.
    public var isAvailable: Bool { pools.isAvailable }

    /// Pool configuration for a `postgres://user:password@host:port/database` URL.
    ///
    /// `keepingConnectionsOpen`: the service keeps every connection of its pool open, without
    /// keep-alive pings. The pool otherwise starts an idle timer and a keep-alive timer (each a
    /// task group with a sleeping task) every time a connection comes back, and cancels them at
    /// the next lease: about a tenth of the service's CPU in the checkout profile. A connection
    /// the server closes is noticed at once either way (its socket closes). Tests, with a pool
    /// per test database, open connections only as they need them.
    public static func configuration(
        url: String, maximumConnections: Int, statementTimeout: Duration, keepingConnectionsOpen: Bool = true
    ) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), let host = components.host,
            let user = components.user,
            components.scheme == "postgres" || components.scheme == "postgresql"
        else {
            throw ConfigurationError(setting: "DATABASE_URL", message: "must be postgres://user[:password]@host[:port]/database")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user,
            password: components.password?.removingPercentEncoding,
            database: database.isEmpty ? nil : database,
            tls: .disable)
        configuration.options.maximumConnections = maximumConnections
        if keepingConnectionsOpen {
            configuration.options.minimumConnections = maximumConnections
            configuration.options.keepAliveBehavior = nil
        }
        configuration.options.connectTimeout = statementTimeout
        let milliseconds = statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "\(milliseconds)"),
            ("lock_timeout", "\(milliseconds)"),
            ("TimeZone", "UTC"),
            // The planner compiles a statement whose estimated cost passes jit_above_cost; for a
            // search that stops at a page of rows the estimate is the whole scan, and compiling
            // took 15-25 ms of a 37 ms read (bench plans at 100,000 orders) to save almost nothing.
            ("jit", "off"),
        ]
        return configuration
    }

    private enum Wait<Result: Sendable>: Sendable {
        case done(Result)
        /// Waiting for a connection long enough to ask whether the database is there at all.
        case checkpoint
        case deadline
    }

    /// Runs `body` on one pooled connection, outside a transaction.
    ///
    /// A call that got its connection runs on, its statements limited by the server. One still
    /// waiting for a connection after a moment asks (one direct connection for all waiters)
    /// whether the database answers: if not, it and every call after it fail at once. A pool
    /// that is merely busy is waited for until `timeout`.
    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        guard pools.isAvailable else { throw Problem.databaseUnavailable }
        let client = pools.current
        let leased = Flag()
        let checkpoint = min(timeout / 2, .milliseconds(500))
        do {
            return try await withThrowingTaskGroup(of: Wait<Result>.self) { group in
                group.addTask {
                    .done(try await client.withConnection { connection in
                        leased.set()
                        return try await body(connection)
                    })
                }
                group.addTask {
                    try await Self.alarm(after: checkpoint)
                    return .checkpoint
                }
                defer { group.cancelAll() }
                while let outcome = try await group.next() {
                    switch outcome {
                    case .done(let result):
                        return result
                    case .checkpoint where !leased.isSet:
                        guard await pools.confirmReachable() else {
                            pools.reportUnreachable()
                            throw Problem.databaseUnavailable
                        }
                        group.addTask {
                            try await Self.alarm(after: timeout - checkpoint)
                            return .deadline
                        }
                    case .deadline where !leased.isSet:
                        logger.warning("no database connection free within the time limit")
                        throw Problem.databaseUnavailable
                    case .checkpoint, .deadline:
                        continue
                    }
                }
                throw Problem.databaseUnavailable
            }
        } catch let error as PSQLError {
            throw DatabaseError.map(error, logger: logger, pools: pools)
        } catch let error as ConnectionPoolError {
            // The pool's own breaker tripped after its connection attempts kept failing.
            logger.warning("database pool refused a connection", metadata: ["error": "\(error)"])
            pools.reportUnreachable()
            throw Problem.databaseUnavailable
        } catch is ConnectionClosed {
            pools.reportUnreachable()
            throw Problem.databaseUnavailable
        }
    }

    /// Returns after `delay`, on an event loop's timer. Cancelling removes the timer at once; a
    /// cancelled `Task.sleep` would still fire later and wake a thread, once for every database
    /// call, which showed in the checkout profile.
    static func alarm(after delay: Duration) async throws {
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        let scheduled = PostgresClient.defaultEventLoopGroup.any().scheduleTask(in: .nanoseconds(nanoseconds)) {}
        try await withTaskCancellationHandler {
            try await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }

    /// Runs `body` inside one transaction: committed when it returns, rolled back when it throws.
    /// A `Problem` thrown by `body` passes through unchanged. A connection whose transaction
    /// could not be rolled back (cut off, cancelled, broken) is closed, never handed to the next
    /// caller in the middle of a transaction.
    @discardableResult
    public func transaction<Result: Sendable>(
        _ isolation: TransactionIsolation = .readCommitted,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            try await connection.exec(isolation.begin, logger: logger)
            do {
                let result = try await body(connection)
                // Cancelled meanwhile (the service is stopping): nothing is committed half-known.
                try Task.checkCancellation()
                try await connection.exec("COMMIT", logger: logger)
                return result
            } catch {
                if Task.isCancelled {
                    await connection.discard()
                } else {
                    do { try await connection.exec("ROLLBACK", logger: logger) } catch { await connection.discard() }
                }
                throw error
            }
        }
    }

    /// One statement on a pooled connection, rows collected.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await withConnection { connection in
            try await connection.exec(query, logger: logger)
        }
    }

    /// One prepared statement on a pooled connection, rows collected.
    @discardableResult
    public func query<Statement: PreparedStatement>(_ statement: Statement) async throws -> [PostgresRow] {
        try await withConnection { connection in
            try await connection.exec(statement, logger: logger)
        }
    }
}

/// A one-way switch shared between tasks.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Owns the connection pool and knows whether the database answers. When a call finds it
/// unreachable, a probe connects directly every `probeInterval`; once the database answers, the
/// pool is tried and, if it is still backing off from the outage (PostgresNIO's pool retries
/// with growing pauses and trips a breaker of its own), replaced by a fresh one, so service
/// resumes within about a probe interval of the database's return.
final class PoolSupervisor: Sendable {
    private enum Change {
        case start(PostgresClient)
        case stop(PostgresClient)
    }

    private let configuration: PostgresClient.Configuration
    private let logger: Logger
    private let probeInterval: Duration
    private let pool: Mutex<PostgresClient>
    private let availability = Atomic<Bool>(true)
    private let changes: AsyncStream<Change>
    private let change: AsyncStream<Change>.Continuation

    init(configuration: PostgresClient.Configuration, logger: Logger, probeInterval: Duration) {
        self.configuration = configuration
        self.logger = logger
        self.probeInterval = probeInterval
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.pool = Mutex(client)
        (changes, change) = AsyncStream.makeStream(of: Change.self)
        change.yield(.start(client))
    }

    var current: PostgresClient { pool.withLock { $0 } }
    var isAvailable: Bool { availability.load(ordering: .relaxed) }

    /// The last direct check, shared by every caller that asks while it runs or shortly after.
    private let lastCheck = Mutex<(answer: Task<Probe, Never>, at: ContinuousClock.Instant)?>(nil)

    /// Whether the database is known to refuse connections now. A check that takes too long
    /// proves nothing (a loaded machine is slow, not down), so only a refusal says no.
    func confirmReachable() async -> Bool {
        let now = ContinuousClock.now
        let check = lastCheck.withLock { last in
            if let last, now - last.at < probeInterval { return last.answer }
            let answer = Task { await self.probe() }
            last = (answer, now)
            return answer
        }
        return await check.value != .refused
    }

    func reportUnreachable() {
        if availability.exchange(false, ordering: .relaxed) {
            logger.error("database unreachable; answering 503 until it is back")
        }
    }

    /// Runs the pools (the current one, and a retired one until it has shut down) and the probe.
    func run() async {
        async let probing: Void = probeWhileUnavailable()
        var running: [ObjectIdentifier: Task<Void, Never>] = [:]
        for await change in changes {
            switch change {
            case .start(let client): running[ObjectIdentifier(client)] = Task { await client.run() }
            case .stop(let client): running.removeValue(forKey: ObjectIdentifier(client))?.cancel()
            }
        }
        // Cancelled: shut every pool down.
        for task in running.values { task.cancel() }
        for task in running.values { await task.value }
        await probing
    }

    private func probeWhileUnavailable() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: probeInterval)
            guard !isAvailable, await probe() == .answered else { continue }
            let client = current
            let logger = self.logger
            let poolRecovered = await Self.succeeds(within: probeInterval) {
                _ = try await client.withConnection { try await $0.exec("SELECT 1", logger: logger) }
            }
            if !poolRecovered {
                let fresh = PostgresClient(configuration: configuration, backgroundLogger: logger)
                pool.withLock { $0 = fresh }
                change.yield(.start(fresh))
                change.yield(.stop(client))
            }
            availability.store(true, ordering: .relaxed)
            logger.notice("database reachable again", metadata: ["fresh_pool": "\(!poolRecovered)"])
        }
    }

    enum Probe: Sendable, Equatable {
        case answered
        /// The connection was refused or closed by the server: the database is not there.
        case refused
        /// No answer in time: proves nothing either way.
        case slow
    }

    /// Tries a new connection, outside the pool, and a statement on it.
    private func probe() async -> Probe {
        guard let host = self.configuration.host else { return .refused }
        var configuration = PostgresConnection.Configuration(
            host: host, port: self.configuration.port ?? 5432, username: self.configuration.username,
            password: self.configuration.password, database: self.configuration.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.additionalStartupParameters = [("statement_timeout", "3000")]
        let direct = configuration
        let logger = self.logger
        return await withTaskGroup(of: Probe.self) { group in
            group.addTask {
                do {
                    let connection = try await PostgresConnection.connect(configuration: direct, id: 0, logger: logger)
                    let outcome: Probe
                    do {
                        try await connection.exec("SELECT 1", logger: logger)
                        outcome = .answered
                    } catch {
                        outcome = Self.judge(error)
                    }
                    try? await connection.close()
                    return outcome
                } catch {
                    return Self.judge(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(4))
                return .slow
            }
            defer { group.cancelAll() }
            return await group.next() ?? .slow
        }
    }

    private static func judge(_ error: any Error) -> Probe {
        if error is ConnectionClosed { return .refused }
        guard let psql = error as? PSQLError else { return .slow }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown: return .refused
        case .server:
            // FATAL at connection time: shutting down, starting up, not accepting connections.
            let state = psql.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("57") || state == "55000" || state == "53300" ? .refused : .slow
        default: return .slow
        }
    }

    private static func succeeds(within limit: Duration, _ attempt: @escaping @Sendable () async throws -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await attempt()) != nil }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
    }
}

/// Translates PostgreSQL failures into problems a client can act on.
public enum DatabaseError {
    public static func map(_ error: PSQLError, logger: Logger) -> any Error {
        map(error, logger: logger, pools: nil)
    }

    static func map(_ error: PSQLError, logger: Logger, pools: PoolSupervisor?) -> any Error {
        if let state = error.serverInfo?[.sqlState] {
            let constraint = error.serverInfo?[.constraintName] ?? "constraint"
            switch state {
            case "23505":
                var problem = Problem.conflict("A record with the same \(readable(constraint)) already exists.")
                problem.constraint = constraint
                return problem
            case "23503":
                return Problem.validation(field: readable(constraint), "refers to something that does not exist")
            case "23514", "23502":
                return Problem.validation(field: readable(constraint), "is not acceptable")
            case _ where state.hasPrefix("22"):
                // Data exceptions: text PostgreSQL cannot store (a NUL byte), a number out of
                // range, a malformed value. The client sent it; it is never a server failure.
                return Problem.validation(field: error.serverInfo?[.columnName] ?? "body", "holds a value the database cannot store")
            case "57014", "55P03":
                logger.warning("database statement timed out", metadata: ["sqlstate": "\(state)"])
                return Problem.databaseUnavailable
            case "57P01", "57P02", "57P03", "53300":
                pools?.reportUnreachable()
                return Problem.databaseUnavailable
            default:
                return error
            }
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .poolClosed, .uncleanShutdown:
            pools?.reportUnreachable()
            return Problem.databaseUnavailable
        case .clientClosedConnection, .queryCancelled, .unexpectedBackendMessage:
            return Problem.databaseUnavailable
        default:
            return error
        }
    }

    /// What may be logged of an error: its type and, for database errors, the SQLSTATE,
    /// constraint and table. Never a message, a statement or a bound value (server messages
    /// quote the values that failed, which can be passwords' hashes, codes or anything a client
    /// sent).
    public static func loggable(_ error: any Error) -> String {
        switch error {
        case let psql as PSQLError:
            let info = psql.serverInfo
            return "PSQLError(code: \(psql.code), sqlState: \(info?[.sqlState] ?? "-"), "
                + "constraint: \(info?[.constraintName] ?? "-"), table: \(info?[.tableName] ?? "-"))"
        case let problem as Problem:
            return "Problem(status: \(problem.status), code: \(problem.code))"
        case let configuration as ConfigurationError:
            return configuration.description
        case let io as IOError:
            // A socket's failure (an address in use, a refused connection): no request data in it.
            return "IOError(\(io.description))"
        default:
            return String(describing: type(of: error))
        }
    }

    /// The unique-violation constraint of a failed statement, for services that translate their own.
    public static func uniqueViolation(_ error: any Error) -> String? {
        if let problem = error as? Problem, problem.status == 409 { return problem.constraint }
        guard let psql = error as? PSQLError, psql.serverInfo?[.sqlState] == "23505" else { return nil }
        return psql.serverInfo?[.constraintName]
    }

    private static func readable(_ constraint: String) -> String {
        constraint.replacingOccurrences(of: "_key", with: "").replacingOccurrences(of: "_fkey", with: "")
            .replacingOccurrences(of: "_check", with: "")
    }
}

extension PostgresRandomAccessRow {
    /// Reads a column by name, so a reordered SELECT cannot swap fields.
    public func get<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self, context: .default)
    }
}

extension PostgresConnection {
    /// Closes the connection at once and waits until it is closed: the pool hears of the close
    /// before the connection is given back, and drops it instead of lending it again.
    func discard() async {
        try? await self.close()
    }

    /// Runs a statement to its end and returns its rows. A statement's error can arrive with its
    /// rows, so every statement is read to completion: an unread failure would only surface at
    /// COMMIT, which PostgreSQL then answers with a silent ROLLBACK.
    ///
    /// The statement is handed over on the connection's event loop, and only while the connection
    /// is open: PostgresNIO drops a statement written to a connection that has already closed
    /// without ever answering it, so a transaction whose connection the server closed between two
    /// statements (a restart, a crash, a terminated backend) would wait for its next statement
    /// forever. Checked and handed over in one step on the event loop, no close can come between.
    @discardableResult
    public func exec(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await eventLoop.flatSubmit { () -> EventLoopFuture<[PostgresRow]> in
            guard !self.isClosed else { return self.eventLoop.makeFailedFuture(ConnectionClosed()) }
            return self.query(query, logger: logger).map(\.rows)
        }.get()
    }
}

/// A statement was not sent because its connection had already closed.
public struct ConnectionClosed: Error, CustomStringConvertible {
    public var description: String { "the database connection had closed" }
}

/// How a transaction sees the database; the `BEGIN` says it, so setting it costs no round trip.
public enum TransactionIsolation: Sendable {
    /// PostgreSQL's default: each statement sees what was committed when it started.
    case readCommitted
    /// One snapshot for the whole transaction.
    case repeatableRead
    /// One snapshot for the whole transaction, and no writes.
    case repeatableReadOnly

    var begin: PostgresQuery {
        switch self {
        case .readCommitted: "BEGIN"
        case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
        case .repeatableReadOnly: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        }
    }
}
