import Core
import Foundation
import PostgresNIO

/// Rows of an analytics view as the database answered them: the columns in the order the
/// report names them, each value typed by its column. Endpoints turn a table into the OpenAPI
/// document's JSON or into CSV without computing anything: every figure is the database's.
public struct AnalyticsTable: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        /// Counts and amounts in cents.
        case integer(Int64)
        /// Rates, averages and medians, rounded by the view to a fixed number of decimals: the
        /// exact decimal text of the view's `numeric` (`NumericText`).
        case decimal(String)
        case text(String)
        case null
    }

    public let columns: [String]
    private let storage: Storage

    private enum Storage: Sendable {
        /// Rows read one by one (a page), or made by hand.
        case rows([[Value]])
        /// Every row of a list read as one array per column (`init(columns:readingArrays:)`):
        /// values are read from the arrays' bytes when asked for, and a CSV export is written
        /// from the bytes without reading them into values at all.
        case arrays(ColumnArrays)
    }

    public init(columns: [String], rows: [[Value]]) {
        self.columns = columns
        self.storage = .rows(rows)
    }

    init(columns: [String], reading rows: [PostgresRow]) throws {
        self.init(
            columns: columns,
            rows: try rows.map { row in
                let values = try row.map(Value.init(cell:))
                guard values.count == columns.count else { throw AnalyticsError.columnsDiffer(expected: columns.count, got: values.count) }
                return values
            })
    }

    /// The rows of a statement read as one row holding an array per column (`Statement.table(_:_:page:on:logger:)`):
    /// element `i` of every array is row `i`.
    init(columns: [String], readingArrays row: PostgresRow) throws {
        let arrays = try ColumnArrays(row)
        guard arrays.width == columns.count else { throw AnalyticsError.columnsDiffer(expected: columns.count, got: arrays.width) }
        self.columns = columns
        self.storage = .arrays(arrays)
    }

    public var count: Int {
        switch storage {
        case .rows(let rows): rows.count
        case .arrays(let arrays): arrays.count
        }
    }

    public var indices: Range<Int> { 0..<count }

    public var isEmpty: Bool { count == 0 }

    /// Every row's values, in the columns' order.
    public var rows: [[Value]] {
        switch storage {
        case .rows(let rows): rows
        case .arrays(let arrays): (0..<arrays.count).map { row in (0..<arrays.width).map { arrays[row, $0] } }
        }
    }

    public subscript(row: Int, column: String) -> Value {
        guard indices.contains(row), let index = columns.firstIndex(of: column) else { return .null }
        return switch storage {
        case .rows(let rows): rows[row][index]
        case .arrays(let arrays): arrays[row, index]
        }
    }

    public static func == (left: Self, right: Self) -> Bool {
        left.columns == right.columns && left.rows == right.rows
    }

    /// The first `count` rows.
    func prefix(_ count: Int) -> AnalyticsTable {
        AnalyticsTable(columns: columns, rows: Array(rows.prefix(count)))
    }

    /// RFC 4180 in UTF-8: a header row, CRLF line ends, fields holding a comma, quote or line
    /// break quoted with their quotes doubled; amounts in cents, nulls empty. Bytes, which the
    /// response sends as they are: an export is hundreds of kilobytes.
    public var csv: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity((count + 1) * columns.count * 12)
        CSV.appendLine(fields: columns.count, to: &bytes) { CSV.appendField(columns[$0], to: &$1) }
        switch storage {
        case .rows(let rows):
            for row in rows {
                CSV.appendLine(fields: row.count, to: &bytes) { row[$0].appendCSV(to: &$1) }
            }
        case .arrays(let arrays): arrays.appendCSV(to: &bytes)
        }
        return bytes
    }
}

extension AnalyticsTable.Value {
    init(cell: PostgresCell) throws {
        guard var bytes = cell.bytes else {
            self = .null
            return
        }
        switch cell.format {
        case .binary: self = try bytes.withUnsafeReadableBytes { try Self(binary: cell.dataType, $0, column: cell.columnName) }
        case .text: self = try Self(text: cell.dataType, from: &bytes, column: cell.columnName)
        }
    }

    /// The value of `type` whose binary form is `bytes`.
    init(binary type: PostgresDataType, _ bytes: UnsafeRawBufferPointer, column: String) throws {
        guard let value = try Binary(type, column: column).value(bytes) else { throw AnalyticsError.malformedValue(column: column) }
        self = value
    }

    /// How a report's values are written in binary form, by their PostgreSQL type. They are read
    /// from the bytes as they are, rather than through PostgresNIO's generic decoders or a slice
    /// per value: with those, each of an export's tens of thousands of values paid for checks
    /// and reference counts.
    enum Binary: Sendable {
        /// Big-endian, of this many bytes.
        case integer(size: Int)
        /// UTF-8.
        case text
        /// Sixteen bytes.
        case uuid
        /// `NumericText`.
        case numeric

        init(_ type: PostgresDataType, column: String) throws {
            switch type {
            case .int8: self = .integer(size: 8)
            case .int4: self = .integer(size: 4)
            case .int2: self = .integer(size: 2)
            case .text, .varchar, .name: self = .text
            case .uuid: self = .uuid
            case .numeric: self = .numeric
            default: throw AnalyticsError.unexpectedType(column: column)
            }
        }

        /// Whether `bytes` are a value of this type.
        func holds(_ bytes: UnsafeRawBufferPointer) -> Bool {
            switch self {
            case .integer(let size): bytes.count == size
            case .text: true
            case .uuid: bytes.count == 16
            case .numeric: NumericText.isNumeric(binary: bytes)
            }
        }

        /// The value in `bytes`; nil when they do not hold one.
        func value(_ bytes: UnsafeRawBufferPointer) -> AnalyticsTable.Value? {
            guard holds(bytes) else { return nil }
            return switch self {
            case .integer(let size): .integer(Self.integer(bytes, size: size))
            case .text: .text(String(decoding: bytes, as: UTF8.self))
            case .uuid: .text(String(unsafeUninitializedCapacity: Hex.uuidLength) { Hex.writeUUID(bytes, into: $0) })
            case .numeric: NumericText.text(binary: bytes).map { .decimal($0) }
            }
        }

        /// The value in `bytes`, which hold one, as a CSV field (`CSV`).
        func appendCSV(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
            switch self {
            case .integer(let size): CSV.appendDecimal(Self.integer(bytes, size: size), to: &out)
            case .text: CSV.appendField(bytes, to: &out)
            case .uuid:
                let end = out.count
                out.append(contentsOf: repeatElement(0, count: Hex.uuidLength))
                out.withUnsafeMutableBufferPointer { text in _ = Hex.writeUUID(bytes, into: UnsafeMutableBufferPointer(rebasing: text[end...])) }
            case .numeric: NumericText.append(binary: bytes, to: &out)
            }
        }

        private static func integer(_ bytes: UnsafeRawBufferPointer, size: Int) -> Int64 {
            switch size {
            case 8: Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
            case 4: Int64(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
            default: Int64(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self)))
            }
        }
    }

    /// A value in text form, which PostgresNIO does not ask for but PostgreSQL may send.
    private init(text type: PostgresDataType, from bytes: inout ByteBuffer, column: String) throws {
        switch type {
        case .int2, .int4, .int8: self = .integer(try Int64(from: &bytes, type: type, format: .text, context: .default))
        case .numeric: self = .decimal(try NumericText(from: &bytes, type: type, format: .text, context: .default).text)
        case .text, .varchar, .name: self = .text(try String(from: &bytes, type: type, format: .text, context: .default))
        case .uuid: self = .text(try UUID(from: &bytes, type: type, format: .text, context: .default).lowercased)
        default: throw AnalyticsError.unexpectedType(column: column)
        }
    }

    /// The value as one CSV field (`CSV`).
    func appendCSV(to bytes: inout [UInt8]) {
        switch self {
        case .integer(let number): CSV.appendDecimal(number, to: &bytes)
        case .decimal(let text): bytes.append(contentsOf: text.utf8)
        case .text(let text): CSV.appendField(text, to: &bytes)
        case .null: break
        }
    }

    var integer: Int64? {
        if case .integer(let number) = self { number } else { nil }
    }

    var text: String? {
        if case .text(let text) = self { text } else { nil }
    }
}

/// A view answered something its report does not describe: a bug of ours, logged by its type.
enum AnalyticsError: Error, CustomStringConvertible {
    case columnsDiffer(expected: Int, got: Int)
    case unexpectedType(column: String)
    case malformedValue(column: String)
    case arraysDiffer
    case unpageable
    case neverRefreshed

    var description: String {
        switch self {
        case .columnsDiffer(let expected, let got): "an analytics statement answered \(got) columns, its report names \(expected)"
        case .unexpectedType(let column): "analytics column \(column) has a type reports do not carry"
        case .malformedValue(let column): "analytics column \(column) holds bytes that are not a value of its type, or not a one-dimensional array"
        case .arraysDiffer: "the column arrays of an analytics statement differ in length"
        case .unpageable: "an analytics page's last row has no sort key"
        case .neverRefreshed: "analytics_refreshes has no row for the views read"
        }
    }
}
