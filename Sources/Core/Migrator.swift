import Crypto
import Foundation
import Logging
import PostgresNIO

/// Applies the numbered `.sql` files of `Migrations/` in order, each once, inside its own
/// transaction, recording name and checksum in `schema_migrations`.
///
/// A file that changed after it was applied is an error: landed migrations are never edited,
/// a change is a new file.
public struct Migrator: Sendable {
    public struct Migration: Sendable, Equatable {
        public let version: Int
        public let name: String
        public let sql: String

        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
        }

        public var checksum: String {
            Hex.encode(SHA256.hash(data: Data(sql.utf8)))
        }
    }

    public enum Status: Sendable, Equatable {
        case current
        case pending([String])
    }

    public let migrations: [Migration]

    public init(migrations: [Migration] = Migrator.bundled()) {
        self.migrations = migrations
    }

    /// The migrations shipped with the service, ordered by their number prefix.
    public static func bundled() -> [Migration] {
        let urls = Bundle.module.urls(forResourcesWithExtension: "sql", subdirectory: "Migrations") ?? []
        return urls.compactMap { url -> Migration? in
            let url = url as URL
            let name = url.lastPathComponent
            guard let version = Int(name.prefix(while: { $0.isNumber })), let sql = try? String(contentsOf: url, encoding: .utf8)
            else { return nil }
            return Migration(version: version, name: name, sql: sql)
        }.sorted { $0.version < $1.version }
    }

    /// Applies every pending migration; returns the names applied.
    @discardableResult
    public func migrate(_ database: Database) async throws -> [String] {
        try await ensureTable(database)
        var applied: [String] = []
        for migration in migrations {
            let didApply = try await database.transaction { connection in
                // A migration may rewrite a large table: the request path's statement limit does
                // not apply. Waiting for locks stays limited, so a busy table fails the run
                // rather than queueing every request behind it.
                try await connection.exec("SET LOCAL statement_timeout = 0", logger: database.logger)
                try await connection.exec("SET LOCAL lock_timeout = '60s'", logger: database.logger)
                // Serialises concurrent `migrate` runs of several instances.
                try await connection.exec("SELECT pg_advisory_xact_lock(7253001)", logger: database.logger)
                let existing = try await connection.exec(
                    "SELECT checksum FROM schema_migrations WHERE version = \(migration.version)", logger: database.logger
                )
                if let row = existing.first {
                    try Self.check(migration, storedChecksum: try row.decode(String.self))
                    return false
                }
                // The extended protocol takes one statement at a time; PL/pgSQL's EXECUTE runs a
                // whole file, passed as a bound parameter so nothing in it needs quoting.
                try await connection.exec(
                    """
                    CREATE FUNCTION pg_temp.apply_migration(sql text) RETURNS void
                    LANGUAGE plpgsql AS $$ BEGIN EXECUTE sql; END $$
                    """, logger: database.logger)
                try await connection.exec("SELECT pg_temp.apply_migration(\(migration.sql))", logger: database.logger)
                try await connection.exec("DROP FUNCTION pg_temp.apply_migration(text)", logger: database.logger)
                try await connection.exec(
                    """
                    INSERT INTO schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """, logger: database.logger)
                return true
            }
            if didApply {
                applied.append(migration.name)
                database.logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
            }
        }
        return applied
    }

    /// Whether the database holds exactly the shipped migrations; throws when an applied file changed.
    public func status(_ database: Database) async throws -> Status {
        let exists = try await database.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        let rows = try exists[0].decode(Bool.self) ? try await database.query("SELECT version, checksum FROM schema_migrations") : []
        var stored: [Int: String] = [:]
        for row in rows {
            let (version, checksum) = try row.decode((Int, String).self)
            stored[version] = checksum
        }
        var pending: [String] = []
        for migration in migrations {
            if let checksum = stored[migration.version] {
                try Self.check(migration, storedChecksum: checksum)
            } else {
                pending.append(migration.name)
            }
        }
        return pending.isEmpty ? .current : .pending(pending)
    }

    private func ensureTable(_ database: Database) async throws {
        _ = try await database.transaction { connection in
            try await connection.exec("SELECT pg_advisory_xact_lock(7253001)", logger: database.logger)
            try await connection.exec(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: database.logger)
        }
    }

    private static func check(_ migration: Migration, storedChecksum: String) throws {
        guard storedChecksum == migration.checksum else {
            throw MigrationError.edited(migration.name)
        }
    }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case edited(String)

    public var description: String {
        switch self {
        case .edited(let name):
            "migration \(name) changed after it was applied; landed migrations are never edited, add a new one"
        }
    }
}
