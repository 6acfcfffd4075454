import Core
import Foundation
import Logging
import PostgresNIO

/// A fresh, migrated database for each test, cloned from a template that is migrated once per
/// test run. `scripts/test.sh` starts the server and sets `TEST_DATABASE_URL`.
public enum TestDatabase {
    public static let serverURL =
        ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:54339/postgres"

    static let logger = Logger(label: "test-database")

    /// Runs `body` with a connection pool on a new database, dropped afterwards; `migrated:
    /// false` gives an empty database.
    @discardableResult
    public static func with<T: Sendable>(
        migrated: Bool = true, _ body: @escaping @Sendable (Database, String) async throws -> T
    ) async throws -> T {
        try await TestSlots.shared.holding { try await withNewDatabase(migrated: migrated, body) }
    }

    private static func withNewDatabase<T: Sendable>(
        migrated: Bool, _ body: @escaping @Sendable (Database, String) async throws -> T
    ) async throws -> T {
        let name = try await Clones.shared.create(fromTemplate: migrated)
        let url = databaseURL(name)
        let database = try makeDatabase(url: url)
        let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            do { return .success(try await body(database, url)) } catch { return .failure(error) }
        }
        try await Clones.shared.drop(name)
        return try result.get()
    }

    public static func databaseURL(_ name: String) -> String {
        var components = URLComponents(string: serverURL)!
        components.path = "/" + name
        return components.string!
    }

    static func makeDatabase(url: String, connections: Int = 6) throws -> Database {
        try makeDatabase(url: url, connections: connections, statementTimeout: .seconds(20), timeout: .seconds(20))
    }

    /// A pool on a test's database with the limits the test chooses; the caller runs it.
    public static func makeDatabase(url: String, connections: Int, statementTimeout: Duration, timeout: Duration) throws -> Database {
        let configuration = try Database.configuration(
            url: url, maximumConnections: connections, statementTimeout: statementTimeout, keepingConnectionsOpen: false)
        return Database(configuration: configuration, logger: logger, timeout: timeout)
    }

    /// The name of a test database from its URL.
    public static func name(of url: String) -> String {
        String(URLComponents(string: url)?.path.dropFirst() ?? "")
    }

    /// Runs one statement on the server's maintenance database, on a connection of its own: no
    /// pool to start, lease from and give back for one statement (a pool leased from before its
    /// `run()` began kept a burst of these waiting until their time limit when all tests start).
    public static func admin(_ sql: String) async throws {
        guard let server = URLComponents(string: serverURL), let host = server.host else {
            throw TestDatabaseError(statement: sql, error: "TEST_DATABASE_URL is not a postgres:// URL")
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: server.port ?? 5432, username: server.user ?? "postgres", password: server.password,
            database: String(server.path.dropFirst()), tls: .disable)
        configuration.options.connectTimeout = .seconds(30)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            let outcome: Result<Void, any Error>
            do {
                try await connection.exec(PostgresQuery(unsafeSQL: sql), logger: logger)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            try? await connection.close()
            try outcome.get()
        } catch {
            throw TestDatabaseError(statement: sql, error: String(reflecting: error))
        }
    }
}

/// How many tests hold a database at once. Swift Testing starts every test together: 270 tests
/// with their pools went past PostgreSQL's `max_connections` (400; 344 connections to 214
/// test databases were seen at once) and failed with "too many clients" on a busy machine.
/// A test that opens a second database inside its first keeps its one slot.
actor TestSlots {
    static let shared = TestSlots(count: 48)

    @TaskLocal private static var held = false
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(count: Int) {
        free = count
    }

    nonisolated func holding<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if Self.held { return try await body() }
        await acquire()
        let result: Result<T, any Error>
        do {
            result = .success(try await Self.$held.withValue(true) { try await body() })
        } catch {
            result = .failure(error)
        }
        await release()
        return try result.get()
    }

    private func acquire() async {
        if free > 0 {
            free -= 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    private func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// Creates and drops the per-test databases; the template is migrated once per process.
actor Clones {
    static let shared = Clones()

    private var template: Task<String, any Error>?

    func create(fromTemplate: Bool) async throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        guard fromTemplate else {
            try await TestDatabase.admin("CREATE DATABASE \(name)")
            return name
        }
        let template = try await templateName()
        // The template's last session may still be closing right after migration.
        for attempt in 1...20 {
            do {
                try await TestDatabase.admin("CREATE DATABASE \(name) TEMPLATE \(template)")
                return name
            } catch where attempt < 20 && String(reflecting: error).contains("being accessed by other users") {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return name
    }

    func drop(_ name: String) async throws {
        try await TestDatabase.admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    private func templateName() async throws -> String {
        if let template { return try await template.value }
        let task = Task<String, any Error> {
            let name = "hubroute_template_\(ProcessInfo.processInfo.processIdentifier)"
            try await TestDatabase.admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            try await TestDatabase.admin("CREATE DATABASE \(name)")
            let database = try TestDatabase.makeDatabase(url: TestDatabase.databaseURL(name), connections: 1)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.run() }
                defer { group.cancelAll() }
                try await Migrator().migrate(database)
            }
            // Let the pool close its connection: a template must have no sessions when cloned.
            try await Task.sleep(for: .milliseconds(200))
            return name
        }
        template = task
        return try await task.value
    }
}

struct TestDatabaseError: Error, CustomStringConvertible {
    let statement: String
    let error: String
    var description: String { "\(statement): \(error)" }
}
