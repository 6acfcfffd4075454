import PostgresNIO

/// Builds a statement whose WHERE clause depends on which filters a request sets; every value
/// is still a bound parameter.
public struct FilterQuery: Sendable {
    private var binds = PostgresBindings()
    private var conditions: [String] = []

    public init() {}

    /// Binds a value and returns its placeholder (`$n`).
    public mutating func bind(_ value: some PostgresEncodable & Sendable) throws -> String {
        try binds.append(value)
        return "$\(binds.count)"
    }

    /// Adds a condition built from placeholders returned by `bind`.
    public mutating func filter(_ condition: String) {
        conditions.append(condition)
    }

    /// `LIKE` pattern matching `text` anywhere, with the pattern's own wildcards escaped.
    public static func containsPattern(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return "%\(escaped)%"
    }

    /// `select` + the WHERE clause + `tail` (ORDER BY, LIMIT ...).
    public func query(_ select: String, _ tail: String) -> PostgresQuery {
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return PostgresQuery(unsafeSQL: select + whereClause + " " + tail, binds: binds)
    }
}
