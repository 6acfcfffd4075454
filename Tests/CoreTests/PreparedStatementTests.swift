import Core
import Foundation
import PostgresNIO
import TestSupport
import Testing

/// Prepared statements keep the guarantees of ordinary ones: a closed connection fails the call
/// instead of hanging it, and one failure does not break the statement for good.
@Suite struct PreparedStatementTests {
    struct CountMarks: PreparedStatement {
        static let sql = "SELECT count(*) FROM marks WHERE id > $1"
        let above: Int

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(above)
            return bindings
        }
    }

    @Test func theStatementIsPreparedOnceOnItsConnectionAndAnswersWithItsBindings() async throws {
        try await TestDatabase.with { _, url in
            try await DatabaseFaultTests.withPool(url, connections: 1) { database in
                // Setup
                try await database.query("CREATE TABLE marks (id int)")
                try await database.query("INSERT INTO marks SELECT generate_series(1, 10)")

                // Act
                let aboveThree = try await database.query(CountMarks(above: 3))
                let aboveEight = try await database.query(CountMarks(above: 8))
                let prepared = try await database.query("SELECT statement FROM pg_prepared_statements")

                // Check: one preparation on the one connection, used twice with different values.
                #expect(try aboveThree[0].decode(Int.self) == 7)
                #expect(try aboveEight[0].decode(Int.self) == 2)
                #expect(try prepared.map { try $0.decode(String.self) } == [CountMarks.sql])
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aPreparedStatementOnAConnectionTheServerClosedFailsInsteadOfWaitingForever() async throws {
        try await TestDatabase.with { _, url in
            try await DatabaseFaultTests.withPool(url) { database in
                // Setup
                try await database.query("CREATE TABLE marks (id int)")

                // Act: the server ends the transaction's session between two statements.
                let outcome = await DatabaseFaultTests.outcomeOfNextStatementAfterTheServerEndsTheSession(database) { connection in
                    try await connection.exec(CountMarks(above: 0), logger: database.logger)
                }
                while !database.isAvailable { try await Task.sleep(for: .milliseconds(20)) }
                let after = try await database.query(CountMarks(above: 0))

                // Check: a 503 at once, and the statement works again.
                #expect(outcome == "database_unavailable")
                #expect(try after[0].decode(Int.self) == 0)
            }
        }
    }

    /// PostgresNIO answers every later use of a statement whose preparation failed with that
    /// failure, for the connection's life.
    @Test(.timeLimit(.minutes(1)))
    func aPreparationThatTimedOutOnALockDoesNotBreakTheStatementForGood() async throws {
        try await TestDatabase.with { _, url in
            // One connection with a one-second lock limit: the retry gets whatever connection is left.
            try await DatabaseFaultTests.withPool(url, connections: 1, statementTimeout: .seconds(1)) { database in
                // Setup
                try await database.query("CREATE TABLE marks (id int)")
                try await database.query("INSERT INTO marks VALUES (1)")

                // Act: the first preparation waits for a table a migration holds, and gives up.
                let whileLocked = try await DatabaseFaultTests.withPool(url, connections: 1) { migration in
                    try await migration.transaction { connection in
                        try await connection.exec("LOCK TABLE marks IN ACCESS EXCLUSIVE MODE", logger: migration.logger)
                        return await DatabaseFaultTests.outcome { try await database.query(CountMarks(above: 0)) }
                    }
                }
                let afterwards = try await database.query(CountMarks(above: 0))

                // Check
                #expect(whileLocked == "database_unavailable")
                #expect(try afterwards[0].decode(Int.self) == 1)
            }
        }
    }
}
