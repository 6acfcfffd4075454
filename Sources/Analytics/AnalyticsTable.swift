import Foundation
import PostgresNIO

/// Rows of an analytics view as the database answered them: the columns in the order the
/// report names them, each value typed by its column. Endpoints turn a table into the OpenAPI
/// document's JSON or into CSV without computing anything: every figure is the database's.
public struct AnalyticsTable: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        /// Counts and amounts in cents.
        case integer(Int64)
        /// Rates, averages and medians, rounded by the view to a fixed number of decimals.
        case decimal(Decimal)
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
    /// quoted with their quotes doubled; amounts in cents, nulls empty.
    public var csv: String {
        var text = ""
        text.reserveCapacity((rows.count + 1) * columns.count * 12)
        func line(_ fields: some Sequence<String>) {
            for (index, field) in fields.enumerated() {
                if index > 0 { text.append(",") }
                text.append(Self.field(field))
            }
            text.append("\r\n")
        }
        line(columns)
        for row in rows { line(row.lazy.map(\.csvText)) }
        return text
    }

    static func field(_ text: String) -> String {
        // Scalars, not Characters: "\r\n" is one Character and would match neither.
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension AnalyticsTable.Value {
    init(cell: PostgresCell) throws {
        guard cell.bytes != nil else {
            self = .null
            return
        }
        switch cell.dataType {
        case .int2, .int4, .int8: self = .integer(try cell.decode(Int64.self))
        case .numeric: self = .decimal(try cell.decode(Decimal.self))
        case .text, .varchar, .name: self = .text(try cell.decode(String.self))
        case .uuid: self = .text(try cell.decode(UUID.self).lowercased)
        default: throw AnalyticsError.unexpectedType(column: cell.columnName)
        }
    }

    var csvText: String {
        switch self {
        case .integer(let number): String(number)
        case .decimal(let number): "\(number)"
        case .text(let text): text
        case .null: ""
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
