import Foundation
import PostgresNIO

/// `?limit=` and `?cursor=` of every list (SPEC section 12): newest first, keyset-paginated on
/// `(created_at, id)`, so pages stay stable while rows are added. A list with several sort
/// orders (products by price or rating) keys its cursor on the sort column instead and names
/// the order in it, so a cursor is only ever read back by the order that issued it.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 20
    public static let maximumLimit = 100

    public let limit: Int
    public let after: Cursor?

    /// A page of a newest-first list.
    public init(limit: Int?, cursor: String?) throws(Problem) {
        try self.init(limit: limit, cursor: cursor, ordering: nil)
    }

    /// A page of a list sorted by `ordering` (`nil`: the default newest-first order).
    public init(limit: Int?, cursor: String?, ordering: String?) throws(Problem) {
        let limit = limit ?? Self.defaultLimit
        guard (1...Self.maximumLimit).contains(limit) else {
            throw Problem.validation(field: "limit", "must be between 1 and \(Self.maximumLimit)")
        }
        self.limit = limit
        if let cursor {
            guard let decoded = Cursor(encoded: cursor) else {
                throw Problem.invalidCursor("is not a cursor this service issued")
            }
            guard decoded.ordering == ordering else {
                throw Problem.invalidCursor("belongs to another sort order; start again without a cursor")
            }
            self.after = decoded
        } else {
            self.after = nil
        }
    }
}

/// The position after the last row of a page: its sort key and id (the tie-breaker).
///
/// The default key is the row's creation time in microseconds since 1970; a list with other sort
/// orders keys on a whole number of its own (a price in cents, a rating key) and names the
/// order. The encoding stays `key|id` for the default order, so cursors issued before sort
/// orders existed still read back.
public struct Cursor: Sendable, Equatable {
    /// The sort order the key belongs to; `nil` for newest first by `created_at`.
    public let ordering: String?
    public let key: Int64
    public let id: UUID

    public init(createdAt: Date, id: UUID) {
        self.ordering = nil
        self.key = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
        self.id = id
    }

    /// A position in a named sort order; `ordering` is letters, digits and `_`.
    public init(ordering: String, key: Int64, id: UUID) {
        precondition(Self.isOrderingName(ordering), "a cursor ordering is letters, digits and _")
        self.ordering = ordering
        self.key = key
        self.id = id
    }

    init?(encoded: String) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 2:
            self.ordering = nil
        case 3 where Self.isOrderingName(parts[0]):
            self.ordering = parts[0]
        default:
            return nil
        }
        guard let key = Int64(parts[parts.count - 2]), let id = UUID(uuidString: parts[parts.count - 1]) else { return nil }
        // The default order's key is a time; one no row can have is not a cursor we issued (and
        // far enough out it would not even fit PostgreSQL's timestamps).
        if ordering == nil && !ExactTimestamp.representable.contains(key) { return nil }
        self.key = key
        self.id = id
    }

    public var encoded: String {
        let text = [ordering, String(key), id.uuidString].compactMap { $0 }.joined(separator: "|")
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The creation time of the default order's key, in microseconds since 1970.
    public var createdAtMicroseconds: Int64 { key }

    /// The default order's key as a timestamp to bind, equal to the row's `created_at` to the
    /// microsecond, so rows created in the same microsecond page correctly.
    public var createdAt: ExactTimestamp { ExactTimestamp(microsecondsSince1970: key) }

    private static func isOrderingName(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

/// A `timestamptz` bound to the exact microsecond. PostgresNIO binds a `Date` by truncating a
/// `Double` count of microseconds, which can land one microsecond early; a cursor compared with
/// `(created_at, id) < (...)` would then skip the rows sharing its row's timestamp.
public struct ExactTimestamp: PostgresNonThrowingEncodable, Sendable, Equatable {
    public let microsecondsSince1970: Int64

    public init(microsecondsSince1970: Int64) {
        self.microsecondsSince1970 = microsecondsSince1970
    }

    public static var psqlType: PostgresDataType { .timestamptz }
    public static var psqlFormat: PostgresFormat { .binary }

    /// Years 1 to 9999, in microseconds since 1970: what a row's timestamp can hold.
    public static let representable: ClosedRange<Int64> = -62_135_596_800_000_000...253_402_300_799_999_999

    /// PostgreSQL's binary `timestamptz`: microseconds since 2000-01-01 00:00 UTC. Values outside
    /// `representable` are clamped to it rather than overflow.
    public func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        let clamped = min(max(microsecondsSince1970, Self.representable.lowerBound), Self.representable.upperBound)
        byteBuffer.writeInteger(clamped - Self.postgresEpochMicroseconds)
    }

    private static let postgresEpochMicroseconds: Int64 = 946_684_800 * 1_000_000
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
