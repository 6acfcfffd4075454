import Core
import Foundation
import PostgresNIO

/// Fixed-window counters in PostgreSQL, so a limit holds across service instances.
public struct RateLimiter: Sendable {
    let database: Database
    let window: Duration

    public init(database: Database, window: Duration) {
        self.database = database
        self.window = window
    }

    /// Counts one hit on each key; throws 429 with `Retry-After` when any is over its limit.
    /// All keys are counted in one statement.
    public func hit(_ keys: [(key: String, limit: Int)], now: Date) async throws {
        let windowSeconds = Double(window.components.seconds)
        let windowStart = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / windowSeconds).rounded(.down) * windowSeconds)
        let names = keys.map(\.key)
        let rows = try await database.query(
            """
            INSERT INTO rate_limits (key, window_start, hits)
            SELECT key, \(windowStart), 1 FROM unnest(\(names)::text[]) AS key
            ON CONFLICT (key) DO UPDATE
            SET hits = CASE WHEN rate_limits.window_start = EXCLUDED.window_start THEN rate_limits.hits + 1 ELSE 1 END,
                window_start = EXCLUDED.window_start
            RETURNING key, hits
            """)
        var hits: [String: Int] = [:]
        for row in rows {
            let (key, count) = try row.decode((String, Int).self)
            hits[key] = count
        }
        if keys.contains(where: { (hits[$0.key] ?? 0) > $0.limit }) {
            let retryAfter = Int((windowStart.timeIntervalSince1970 + windowSeconds - now.timeIntervalSince1970).rounded(.up))
            throw Problem.rateLimited(retryAfterSeconds: max(1, retryAfter))
        }
    }
}
