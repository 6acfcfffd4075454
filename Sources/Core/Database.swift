import Foundation
import Logging
import PostgresNIO

/// The service's access to PostgreSQL: a connection pool, a time limit on every call, and the
/// mapping of database failures to problems.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// How long a call may wait for a connection; statements are limited on the server by the
    /// `statement_timeout` set when the connection opens.
    public let timeout: Duration

    public init(client: PostgresClient, logger: Logger, timeout: Duration) {
        self.client = client
        self.logger = logger
        self.timeout = timeout
    }

    /// Pool configuration for a `postgres://user:password@host:port/database` URL.
    public static func configuration(
        url: String, maximumConnections: Int, statementTimeout: Duration
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
        configuration.options.connectTimeout = statementTimeout
        let milliseconds = statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "\(milliseconds)"),
            ("lock_timeout", "\(milliseconds)"),
            ("TimeZone", "UTC"),
        ]
        return configuration
    }

    /// Runs `body` on one pooled connection, outside a transaction.
    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await limited {
            try await client.withConnection { connection in try await body(connection) }
        }
    }

    /// Runs `body` inside one transaction: committed when it returns, rolled back when it throws.
    /// A `Problem` thrown by `body` passes through unchanged.
    @discardableResult
    public func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            try await connection.exec("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.exec("COMMIT", logger: logger)
                return result
            } catch {
                // The connection may already be gone; the original error is what matters.
                _ = try? await connection.exec("ROLLBACK", logger: logger)
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

    private func limited<Result: Sendable>(_ work: @escaping @Sendable () async throws -> Result) async throws -> Result {
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask { try await work() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    throw Problem.databaseUnavailable
                }
                return result
            }
        } catch let error as PSQLError {
            throw DatabaseError.map(error, logger: logger)
        }
    }
}

/// Translates PostgreSQL failures into problems a client can act on.
public enum DatabaseError {
    public static func map(_ error: PSQLError, logger: Logger) -> any Error {
        if let state = error.serverInfo?[.sqlState] {
            let constraint = error.serverInfo?[.constraintName] ?? "constraint"
            switch state {
            case "23505":
                var problem = Problem.conflict("A record with the same \(readable(constraint)) already exists.")
                problem.constraint = constraint
                return problem
            case "23503":
                return Problem.validation(field: readable(constraint), "refers to something that does not exist")
            case "23514", "23502", "22P02", "22003", "22001":
                return Problem.validation(field: readable(constraint), "is not acceptable")
            case "57014", "55P03":
                logger.warning("database statement timed out", metadata: ["sqlstate": "\(state)"])
                return Problem.databaseUnavailable
            case "57P01", "57P02", "57P03", "53300":
                return Problem.databaseUnavailable
            default:
                return error
            }
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .queryCancelled, .unexpectedBackendMessage:
            return Problem.databaseUnavailable
        default:
            return error
        }
    }

    /// An error as it may be logged: for database errors the server's code, message and
    /// constraint only, never the statement's bound values (they can hold hashes and codes).
    public static func loggable(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return String(reflecting: error) }
        let info = psql.serverInfo
        return "PSQLError(code: \(psql.code), sqlState: \(info?[.sqlState] ?? "-"), message: \(info?[.message] ?? "-"), "
            + "constraint: \(info?[.constraintName] ?? "-"), table: \(info?[.tableName] ?? "-"))"
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
    /// Runs a statement to its end and returns its rows. A statement's error can arrive with its
    /// rows, so every statement is read to completion: an unread failure would only surface at
    /// COMMIT, which PostgreSQL then answers with a silent ROLLBACK.
    @discardableResult
    public func exec(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}
