import Core
import PostgresNIO
import TestSupport
import Testing

@Suite struct MigratorTests {
    @Test func appliesEveryMigrationOnceInOrder() async throws {
        try await TestDatabase.with(migrated: false) { database, _ in
            let migrator = Migrator()
            #expect(!migrator.migrations.isEmpty)
            #expect(try await migrator.status(database) == .pending(migrator.migrations.map(\.name)))

            let applied = try await migrator.migrate(database)
            let again = try await migrator.migrate(database)

            #expect(applied == migrator.migrations.map(\.name))
            #expect(again.isEmpty)
            #expect(try await migrator.status(database) == .current)
            let versions = try await database.query("SELECT version FROM schema_migrations ORDER BY version")
                .map { try $0.decode(Int.self) }
            #expect(versions == migrator.migrations.map(\.version))
        }
    }

    @Test func aMigrationMayRunLongerThanARequestsStatementLimit() async throws {
        try await TestDatabase.with(migrated: false) { _, url in
            // Setup: requests may run a statement for one second; the migration takes longer.
            let database = try TestDatabase.makeDatabase(url: url, connections: 1, statementTimeout: .seconds(1), timeout: .seconds(1))
            let slow = Migrator.Migration(version: 1, name: "0001_slow.sql", sql: "SELECT pg_sleep(1.5);\nCREATE TABLE after_the_wait (id int);")

            // Act
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask { await database.run(); return [] }
                defer { group.cancelAll() }
                return try await Migrator(migrations: [slow]).migrate(database)
            }

            // Check
            #expect(applied == ["0001_slow.sql"])
        }
    }

    @Test func anEditedMigrationIsAnError() async throws {
        try await TestDatabase.with { database, _ in
            var migrations = Migrator().migrations
            let first = migrations[0]
            migrations[0] = .init(version: first.version, name: first.name, sql: first.sql + "\n-- edited")

            await #expect(throws: MigrationError.edited(first.name)) { try await Migrator(migrations: migrations).status(database) }
            await #expect(throws: MigrationError.edited(first.name)) { try await Migrator(migrations: migrations).migrate(database) }
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await TestDatabase.with { database, _ in
            let broken = Migrator.Migration(
                version: 9_999, name: "9999_broken.sql",
                sql: "CREATE TABLE half_done (id int);\nSELECT no_such_function();")
            let migrator = Migrator(migrations: Migrator().migrations + [broken])

            await #expect(throws: (any Error).self) { try await migrator.migrate(database) }

            let tables = try await database.query("SELECT to_regclass('half_done') IS NULL")
            #expect(try tables[0].decode(Bool.self))
            #expect(try await migrator.status(database) == .pending(["9999_broken.sql"]))
        }
    }
}

@Suite struct TransactionTests {
    @Test func aThrowingBodyRollsBackEverything() async throws {
        try await TestDatabase.with { database, _ in
            struct Stop: Error {}
            await #expect(throws: Stop.self) {
                try await database.transaction { connection in
                    try await connection.query(
                        "INSERT INTO rate_limits (key, window_start, hits) VALUES ('rolled-back', now(), 1)", logger: database.logger)
                    throw Stop()
                }
            }
            let rows = try await database.query("SELECT count(*) FROM rate_limits WHERE key = 'rolled-back'")
            #expect(try rows[0].decode(Int.self) == 0)
        }
    }

    @Test func constraintViolationsBecomeProblems() async throws {
        try await TestDatabase.with { database, _ in
            await #expect(throws: Problem.self) {
                try await database.query("INSERT INTO hubs (code, name, city, address, phone) VALUES ('bad code', 'x', 'y', 'z', '254700000000')")
            }
        }
    }
}
