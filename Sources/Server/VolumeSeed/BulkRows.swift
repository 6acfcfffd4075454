import Core
import Foundation
import Logging
import PostgresNIO

/// Rows for one table, written by one multi-row `INSERT ... SELECT FROM unnest(...)` per batch.
/// Values travel as text and are cast by the column's kind; an empty text is NULL (the seeder
/// never writes an empty text), times are whole seconds since 1970.
struct BulkRows {
    enum Kind: String {
        case uuid, text, bigint, int = "integer", bool = "boolean", time = "timestamptz", hex = "bytea"
        /// Text that may be empty (an empty text is otherwise NULL).
        case plainText = "plain"
    }

    let table: String
    let columns: [(name: String, kind: Kind)]
    private var values: [[String]]

    init(_ table: String, _ columns: [(String, Kind)]) {
        self.table = table
        self.columns = columns.map { (name: $0.0, kind: $0.1) }
        self.values = Array(repeating: [], count: columns.count)
    }

    var count: Int { values.first?.count ?? 0 }

    mutating func append(_ row: [String]) {
        precondition(row.count == columns.count, "\(table): \(row.count) values for \(columns.count) columns")
        for index in row.indices { values[index].append(row[index]) }
    }

    /// Writes the rows gathered so far and starts empty again.
    mutating func flush(on connection: PostgresConnection, logger: Logger) async throws {
        guard count > 0 else { return }
        var binds = PostgresBindings()
        var casts: [String] = []
        var names: [String] = []
        for (index, column) in columns.enumerated() {
            binds.append(values[index])
            names.append("c\(index)")
            let value = "NULLIF(c\(index), '')"
            switch column.kind {
            case .time: casts.append("'epoch'::timestamptz + \(value)::bigint * interval '1 second'")
            case .hex: casts.append("decode(\(value), 'hex')")
            case .plainText: casts.append("c\(index)")
            default: casts.append("\(value)::\(column.kind.rawValue)")
            }
        }
        let sql = """
            INSERT INTO \(table) (\(columns.map(\.name).joined(separator: ", ")))
            SELECT \(casts.joined(separator: ", "))
            FROM unnest(\((1...columns.count).map { "$\($0)::text[]" }.joined(separator: ", "))) AS u(\(names.joined(separator: ", ")))
            """
        try await connection.exec(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        values = Array(repeating: [], count: columns.count)
    }
}

/// Text of the values the seeder writes.
enum Cell {
    static let null = ""
    static func of(_ id: UUID) -> String { id.lowercased }
    static func of(_ id: UUID?) -> String { id.map(of) ?? null }
    static func of(_ number: Int64) -> String { String(number) }
    static func of(_ number: Int) -> String { String(number) }
    static func of(_ flag: Bool) -> String { flag ? "true" : "false" }
    static func time(_ seconds: Int64?) -> String { seconds.map(String.init) ?? null }
}

/// SplitMix64: a small, fast generator whose sequence depends only on its seed, so a seed gives
/// the same world every time.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 0 ..< count.
    mutating func below(_ count: Int) -> Int {
        Int(next() % UInt64(max(count, 1)))
    }

    mutating func between(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    mutating func between(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(below(Int(range.upperBound - range.lowerBound) + 1))
    }

    /// True `perMille` times in a thousand.
    mutating func chance(_ perMille: Int) -> Bool {
        below(1000) < perMille
    }

    /// An index of `weights`, each as likely as its weight.
    mutating func weighted(_ weights: [Int]) -> Int {
        var pick = below(weights.reduce(0, +))
        for (index, weight) in weights.enumerated() {
            if pick < weight { return index }
            pick -= weight
        }
        return weights.count - 1
    }

    /// Skewed towards the start: a few merchants and products sell most.
    mutating func popular(_ count: Int) -> Int {
        let u = below(1000)
        return min(count - 1, u * u / 1000 * count / 1000)
    }

    mutating func uuid() -> UUID {
        let (high, low) = (next(), next())
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (8 * index))
            bytes[index + 8] = UInt8(truncatingIfNeeded: low >> (8 * index))
        }
        bytes[6] = bytes[6] & 0x0F | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3F | 0x80  // RFC 4122 variant
        return UUID(
            uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                   bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
