import Foundation

/// `?limit=` and `?cursor=` of every list (SPEC section 12): newest first, keyset-paginated on
/// `(created_at, id)`, so pages stay stable while rows are added.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 20
    public static let maximumLimit = 100

    public let limit: Int
    public let after: Cursor?

    public init(limit: Int?, cursor: String?) throws(Problem) {
        let limit = limit ?? Self.defaultLimit
        guard (1...Self.maximumLimit).contains(limit) else {
            throw Problem.validation(field: "limit", "must be between 1 and \(Self.maximumLimit)")
        }
        self.limit = limit
        if let cursor {
            guard let decoded = Cursor(encoded: cursor) else {
                throw Problem.validation(field: "cursor", "is not a cursor this service issued")
            }
            self.after = decoded
        } else {
            self.after = nil
        }
    }
}

/// The position after the last row of a page: its creation time (microseconds since 1970) and id.
public struct Cursor: Sendable, Equatable {
    public let createdAtMicroseconds: Int64
    public let id: UUID

    public init(createdAt: Date, id: UUID) {
        self.createdAtMicroseconds = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
        self.id = id
    }

    init?(encoded: String) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "|")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.createdAtMicroseconds = micros
        self.id = id
    }

    public var encoded: String {
        Data("\(createdAtMicroseconds)|\(id.uuidString)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The cursor as a timestamp PostgreSQL compares exactly (microsecond precision).
    public var createdAt: Date {
        Date(timeIntervalSince1970: Double(createdAtMicroseconds) / 1_000_000)
    }
}

/// One page of a list: `{items, next_cursor}`.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// Builds a page from `limit + 1` fetched rows: the extra row only says another page exists.
    public init(fetched: [Item], limit: Int, position: (Item) -> Cursor) {
        if fetched.count > limit {
            let items = Array(fetched.prefix(limit))
            self.items = items
            self.nextCursor = items.last.map { position($0).encoded }
        } else {
            self.items = fetched
            self.nextCursor = nil
        }
    }

    public func map<T: Sendable>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try items.map(transform), nextCursor: nextCursor)
    }
}
