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
        // Binary integers and text are read from the cell's bytes as they are: through
        // `cell.decode`, each of an export's tens of thousands of cells paid for its generic
        // checks and error context. Anything else (text format, other widths) takes that path.
        switch (cell.dataType, cell.format) {
        case (.int8, .binary) where bytes.readableBytes == 8:
            self = .integer(try Self.read(&bytes, as: Int64.self))
        case (.int4, .binary) where bytes.readableBytes == 4:
            self = .integer(Int64(try Self.read(&bytes, as: Int32.self)))
        case (.text, .binary), (.varchar, .binary), (.name, .binary):
            self = .text(String(buffer: bytes))
        case (.int2, _), (.int4, _), (.int8, _): self = .integer(try cell.decode(Int64.self))
        case (.numeric, _): self = .decimal(try cell.decode(NumericText.self).text)
        case (.text, _), (.varchar, _), (.name, _): self = .text(try cell.decode(String.self))
        case (.uuid, _): self = .text(try cell.decode(UUID.self).lowercased)
        default: throw AnalyticsError.unexpectedType(column: cell.columnName)
        }
    }

    private static func read<Integer: FixedWidthInteger>(_ bytes: inout ByteBuffer, as: Integer.Type) throws -> Integer {
        guard let value = bytes.readInteger(endianness: .big, as: Integer.self) else {
            throw PostgresDecodingError.Code.failure
        }
        return value
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
    case unpageable
    case neverRefreshed

    var description: String {
        switch self {
        case .columnsDiffer(let expected, let got): "an analytics statement answered \(got) columns, its report names \(expected)"
        case .unexpectedType(let column): "analytics column \(column) has a type reports do not carry"
        case .unpageable: "an analytics page's last row has no sort key"
        case .neverRefreshed: "analytics_refreshes has no row for the views read"
        }
    }
}
