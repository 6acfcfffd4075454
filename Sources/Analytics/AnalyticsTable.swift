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
    public let rows: [[Value]]

    public init(columns: [String], rows: [[Value]]) {
        self.columns = columns
        self.rows = rows
    }

    init(columns: [String], reading rows: [PostgresRow]) throws {
        self.columns = columns
        self.rows = try rows.map { row in
            let values = try row.map(Value.init(cell:))
            guard values.count == columns.count else { throw AnalyticsError.columnsDiffer(expected: columns.count, got: values.count) }
            return values
        }
    }

    public subscript(row: Int, column: String) -> Value {
        guard rows.indices.contains(row), let index = columns.firstIndex(of: column) else { return .null }
        return rows[row][index]
    }

    /// The rows of a statement read as one row holding an array per column (`Statement.table(_:_:page:on:logger:)`):
    /// element `i` of every array is row `i`.
    init(columns: [String], readingArrays row: PostgresRow) throws {
        let arrays = try row.map(Value.elements(of:))
        guard arrays.count == columns.count else { throw AnalyticsError.columnsDiffer(expected: columns.count, got: arrays.count) }
        let count = arrays.first?.count ?? 0
        guard arrays.allSatisfy({ $0.count == count }) else { throw AnalyticsError.arraysDiffer }
        self.columns = columns
        self.rows = (0..<count).map { index in arrays.map { $0[index] } }
    }

    /// The first `count` rows.
    func prefix(_ count: Int) -> AnalyticsTable {
        AnalyticsTable(columns: columns, rows: Array(rows.prefix(count)))
    }

    /// RFC 4180: a header row, CRLF line ends, fields holding a comma, quote or line break
    /// quoted with their quotes doubled; amounts in cents, nulls empty. Written as bytes: an
    /// export is thousands of rows, and appending Strings field by field cost more than reading them.
    public var csv: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity((rows.count + 1) * columns.count * 12)
        func line(_ fields: some Sequence<Value>) {
            var first = true
            for field in fields {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                field.appendCSV(to: &bytes)
            }
            bytes.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        }
        line(columns.lazy.map { .text($0) })
        for row in rows { line(row) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension AnalyticsTable.Value {
    init(cell: PostgresCell) throws {
        guard var bytes = cell.bytes else {
            self = .null
            return
        }
        switch cell.format {
        case .binary: self = try Self(binary: cell.dataType, length: bytes.readableBytes, from: &bytes, column: cell.columnName)
        case .text: self = try Self(text: cell.dataType, from: &bytes, column: cell.columnName)
        }
    }

    /// The value of `type` in binary form in the next `length` bytes of `bytes`.
    ///
    /// Integers, text and ids are read from the bytes as they are, rather than through
    /// PostgresNIO's generic decoders or a slice per value: with those, each of an export's tens
    /// of thousands of values paid for checks and reference counts.
    init(binary type: PostgresDataType, length: Int, from bytes: inout ByteBuffer, column: String) throws {
        let value: Self?
        switch (type, length) {
        case (.int8, 8): value = bytes.readInteger(endianness: .big, as: Int64.self).map { .integer($0) }
        case (.int4, 4): value = bytes.readInteger(endianness: .big, as: Int32.self).map { .integer(Int64($0)) }
        case (.int2, 2): value = bytes.readInteger(endianness: .big, as: Int16.self).map { .integer(Int64($0)) }
        case (.text, _), (.varchar, _), (.name, _): value = bytes.readString(length: length).map { .text($0) }
        case (.uuid, 16):
            value = bytes.readMultipleIntegers(endianness: .big, as: (UInt64, UInt64).self).map { halves in
                .text(withUnsafeBytes(of: (halves.0.bigEndian, halves.1.bigEndian)) { UUID(uuid: $0.load(as: uuid_t.self)) }.lowercased)
            }
        case (.numeric, _):
            var digits = bytes.readSlice(length: length) ?? ByteBuffer()
            value = NumericText.text(binary: &digits).map { .decimal($0) }
        default: throw AnalyticsError.unexpectedType(column: column)
        }
        guard let value else { throw AnalyticsError.malformedValue(column: column) }
        self = value
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

    /// The elements of a one-dimensional array in PostgreSQL's binary form: dimensions, a
    /// has-nulls flag, the element type, each dimension's length and lower bound, then each
    /// element as its length (-1 for null) and bytes. A null cell (an aggregate over no rows)
    /// has none.
    static func elements(of cell: PostgresCell) throws -> [Self] {
        guard var bytes = cell.bytes else { return [] }
        guard cell.format == .binary,
            let (dimensions, _, element) = bytes.readMultipleIntegers(endianness: .big, as: (Int32, Int32, UInt32).self)
        else { throw AnalyticsError.malformedValue(column: cell.columnName) }
        if dimensions == 0 { return [] }
        guard dimensions == 1, let (count, _) = bytes.readMultipleIntegers(endianness: .big, as: (Int32, Int32).self), count >= 0
        else { throw AnalyticsError.malformedValue(column: cell.columnName) }
        let type = PostgresDataType(element)
        var values: [Self] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let length = bytes.readInteger(endianness: .big, as: Int32.self) else {
                throw AnalyticsError.malformedValue(column: cell.columnName)
            }
            values.append(length < 0 ? .null : try Self(binary: type, length: Int(length), from: &bytes, column: cell.columnName))
        }
        return values
    }

    /// The value as one CSV field: text holding a comma, quote or line break is quoted, its
    /// quotes doubled.
    func appendCSV(to bytes: inout [UInt8]) {
        switch self {
        case .integer(let number): Self.appendDecimal(number, to: &bytes)
        case .decimal(let text): bytes.append(contentsOf: text.utf8)
        case .text(let text):
            let quote = UInt8(ascii: "\"")
            let special = { (byte: UInt8) in byte == UInt8(ascii: ",") || byte == quote || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") }
            guard text.utf8.contains(where: special) else { return bytes.append(contentsOf: text.utf8) }
            bytes.append(quote)
            for byte in text.utf8 {
                if byte == quote { bytes.append(quote) }
                bytes.append(byte)
            }
            bytes.append(quote)
        case .null: break
        }
    }

    /// `number` in decimal digits, written straight into `bytes` rather than through a `String`
    /// per figure: an export is tens of thousands of them.
    static func appendDecimal(_ number: Int64, to bytes: inout [UInt8]) {
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: UInt64's 20 digits fit
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: buffer[start...])
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
