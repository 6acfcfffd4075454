import Core
import Foundation
import PostgresNIO
import TestSupport
import Testing

/// How the service's database access behaves when PostgreSQL goes away, is slow, or a caller
/// gives up (issue 10). The database "goes away" by refusing connections and ending its
/// sessions, the way a restart or a network cut looks to a client.
@Suite struct DatabaseFaultTests {
    static func cut(_ name: String) async throws {
        try await TestDatabase.admin("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try await TestDatabase.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
    }

    static func restore(_ name: String) async throws {
        try await TestDatabase.admin("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
    }

    /// Runs `body` with a pool of its own on the test database, under the given limits.
    static func withPool<Result: Sendable>(
        _ url: String, connections: Int = 2, statementTimeout: Duration = .seconds(20), timeout: Duration = .seconds(120),
        _ body: @escaping @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        let database = try TestDatabase.makeDatabase(url: url, connections: connections, statementTimeout: statementTimeout, timeout: timeout)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func whileTheDatabaseIsGoneCallsFailAtOnceAndServiceResumesWhenItReturns() async throws {
        try await TestDatabase.with { _, url in
            let name = TestDatabase.name(of: url)
            // A two-minute wait for a connection: a call that waited for it would blow the test's limit.
            try await Self.withPool(url, timeout: .seconds(120)) { database in
                // Setup
                try await database.query("SELECT 1")

                // Act: the database goes away.
                try await Self.cut(name)
                let first = await Self.outcome { _ = try await database.query("SELECT 1") }
                var later: [String] = []
                for _ in 0..<50 { later.append(await Self.outcome { _ = try await database.query("SELECT 1") }) }
                let availableWhileGone = database.isAvailable

                // ... and comes back.
                try await Self.restore(name)
                while !database.isAvailable { try await Task.sleep(for: .milliseconds(20)) }
                let after = try await database.query("SELECT 42")

                // Check
                #expect(first == "database_unavailable")
                #expect(later.allSatisfy { $0 == "database_unavailable" })
                #expect(!availableWhileGone)
                #expect(try after[0].decode(Int.self) == 42)
            }
        }
    }

    @Test func aStatementCutOffByTheTimeLimitLeavesNoTransactionOpen() async throws {
        try await TestDatabase.with { _, url in
            // One connection, so the next call gets the very connection the cut-off one had.
            try await Self.withPool(url, connections: 1, statementTimeout: .seconds(1)) { database in
                // Setup
                try await database.query("CREATE TABLE marks (id int)")

                // Act
                let cut = await Self.outcome {
                    try await database.transaction { connection in
                        try await connection.exec("INSERT INTO marks VALUES (1)", logger: database.logger)
                        _ = try await connection.exec("SELECT pg_sleep(3)", logger: database.logger)
                    }
                }
                let next = try await database.transaction { connection in
                    try await connection.exec("INSERT INTO marks VALUES (2)", logger: database.logger)
                    return try await connection.exec("SELECT id FROM marks ORDER BY id", logger: database.logger).map { try $0.decode(Int.self) }
                }

                // Check: the first transaction's row is gone, the second one committed on its own.
                #expect(cut == "database_unavailable")
                #expect(next == [2])
                #expect(try await database.query("SELECT count(*) FROM marks")[0].decode(Int.self) == 1)
            }
        }
    }

    @Test func aCancelledTransactionIsNeverCommittedNorItsConnectionReused() async throws {
        try await TestDatabase.with { _, url in
            try await Self.withPool(url, connections: 1) { database in
                // Setup
                try await database.query("CREATE TABLE marks (id int)")
                let (started, signal) = AsyncStream.makeStream(of: Void.self)

                // Act: the caller goes away while the transaction is in a statement.
                let work = Task {
                    try await database.transaction { connection in
                        try await connection.exec("INSERT INTO marks VALUES (1)", logger: database.logger)
                        signal.yield()
                        try await connection.exec("SELECT pg_sleep(0.5)", logger: database.logger)
                        try await connection.exec("INSERT INTO marks VALUES (2)", logger: database.logger)
                    }
                }
                for await _ in started { break }
                work.cancel()
                let outcome = await work.result
                let inTransaction = try await database.query("SELECT count(*) FROM marks")[0].decode(Int.self)

                // Check
                #expect(throws: (any Error).self) { try outcome.get() }
                #expect(inTransaction == 0)
            }
        }
    }

    /// Found by scripts/faults.sh (outage): PostgreSQL went down while transactions sat between
    /// two statements, and their next statement never came back; the requests hung for good and
    /// held up the service's shutdown. PostgresNIO drops a statement written to a connection that
    /// has already closed.
    @Test(.timeLimit(.minutes(1)))
    func aStatementOnAConnectionTheServerClosedFailsInsteadOfWaitingForever() async throws {
        try await TestDatabase.with { _, url in
            try await Self.withPool(url) { database in
                // Act: the server ends the transaction's session between two statements.
                let outcome = await Self.outcomeOfNextStatementAfterTheServerEndsTheSession(database) { connection in
                    try await connection.exec("SELECT 1", logger: database.logger)
                }
                while !database.isAvailable { try await Task.sleep(for: .milliseconds(20)) }
                let after = try await database.query("SELECT 42")

                // Check: a 503 at once, and the service works again.
                #expect(outcome == "database_unavailable")
                #expect(try after[0].decode(Int.self) == 42)
            }
        }
    }

    /// Opens a transaction, has the server end its session, waits until the connection has
    /// seen it closed, then runs `next` on it; answers how that went (`outcome`).
    static func outcomeOfNextStatementAfterTheServerEndsTheSession(
        _ database: Database, _ next: @escaping @Sendable (PostgresConnection) async throws -> Void
    ) async -> String {
        await outcome {
            try await database.transaction { connection in
                let pid = try await connection.exec("SELECT pg_backend_pid()", logger: database.logger)[0].decode(Int.self)
                try await TestDatabase.admin("SELECT pg_terminate_backend(\(pid))")
                let deadline = ContinuousClock.now + .seconds(10)
                while !connection.isClosed, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                try await next(connection)
            }
        }
    }

    static func outcome(_ call: () async throws -> Void) async -> String {
        do {
            try await call()
            return "ok"
        } catch let problem as Problem {
            return problem.code
        } catch {
            return String(describing: type(of: error))
        }
    }
}
