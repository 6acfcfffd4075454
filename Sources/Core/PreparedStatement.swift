import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// A statement that PostgreSQL parses and plans once per connection, then only binds and runs.
///
/// For the reads every page makes, planning cost more than running: on an admin page of 20
/// completed orders the statements took 28.7 ms unprepared and 11.8 ms prepared (pgbench at
/// 30,000 orders). A statement's text is fixed (`sql`, with `$1`...), so one whose shape varies
/// with its filters stays an ordinary `PostgresQuery`.
public protocol PreparedStatement: PostgresPreparedStatement where Row == PostgresRow {}

extension PreparedStatement {
    public func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

extension PostgresConnection {
    /// Runs a prepared statement to its end and returns its rows, with `exec(_:logger:)`'s
    /// guarantees: handed over only while the connection is open, read to completion.
    ///
    /// The check and the hand-over run on the connection's event loop in one step (the task
    /// prefers that loop as its executor, and PostgresNIO writes the statement before its first
    /// suspension), so no close can come between them.
    ///
    /// PostgresNIO remembers a failed preparation for the rest of the connection's life and
    /// answers every later use of the statement with that error: one lock timeout while a
    /// migration held a table would break the statement on that connection for good. A
    /// connection on which a prepared statement failed is therefore closed; the pool opens a
    /// fresh one. Not for a failure of the values (a data exception or a constraint, classes 22
    /// and 23): those come from running the statement, never from preparing it.
    @discardableResult
    public func exec<Statement: PreparedStatement>(_ statement: Statement, logger: Logger) async throws -> [PostgresRow] {
        do {
            let answer = try await withTaskExecutorPreference(EventLoopExecutor.of(eventLoop)) {
                guard !self.isClosed else { throw ConnectionClosed() }
                return try await self.execute(statement, logger: logger)
            }
            // Read off the loop's preference: every row's await would otherwise look it up again.
            var rows: [PostgresRow] = []
            for try await row in answer {
                rows.append(row)
            }
            return rows
        } catch let error as PSQLError where error.code == .server && !Self.isAboutTheValues(error) {
            await self.discard()
            throw error
        }
    }
}

extension PostgresConnection {
    fileprivate static func isAboutTheValues(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23")
    }
}

/// A prepared statement given its parameters in `$n` order.
public protocol PreparedStatementOfBindings: PreparedStatement {
    var bindings: PostgresBindings { get }
}

extension PreparedStatementOfBindings {
    public func makeBindings() -> PostgresBindings { bindings }
}

extension PostgresBindings {
    /// Bindings appended by `build`, in the order of the statement's `$n`.
    public init(_ build: (inout PostgresBindings) throws -> Void) rethrows {
        self.init()
        try build(&self)
    }
}

/// Runs a task's jobs on one NIO event loop.
final class EventLoopExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    private init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    private static let executors = Mutex<[ObjectIdentifier: EventLoopExecutor]>([:])

    /// The executor of `eventLoop`, one for each loop.
    static func of(_ eventLoop: any EventLoop) -> EventLoopExecutor {
        executors.withLock { executors in
            if let executor = executors[ObjectIdentifier(eventLoop)] { return executor }
            let executor = EventLoopExecutor(eventLoop)
            executors[ObjectIdentifier(eventLoop)] = executor
            return executor
        }
    }
}

/// A prepared statement whose one parameter (`$1`) is a list of ids.
public protocol PreparedStatementOfIDs: PreparedStatement {
    var ids: [UUID] { get }
}

extension PreparedStatementOfIDs {
    public func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(ids)
        return bindings
    }
}
