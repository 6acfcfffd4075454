import PostgresNIO

/// Every row of a list read as one row holding an array per column
/// (`AnalyticsTable(columns:readingArrays:)`), kept as PostgreSQL sent it.
///
/// Each array is in PostgreSQL's binary form: the dimensions, a has-nulls flag, the element
/// type, each dimension's length and lower bound, then each element as its length (-1 for null)
/// and bytes; a null array (an aggregate over no rows) has no elements. Every element is checked
/// when the arrays are read, and stays bytes: a CSV export is written from them, and values are
/// made only when asked for.
struct ColumnArrays: Sendable {
    /// The rows.
    let count: Int
    private let kinds: [AnalyticsTable.Value.Binary]
    /// Every array's bytes, one after another.
    private let bytes: [UInt8]
    /// Where each element is in `bytes`, row by row: row `r`'s element of column `c` is at
    /// `r * width + c`.
    private let spans: [Span]

    /// Where an element's bytes are; a null has a negative length.
    private struct Span: Sendable {
        let start: Int
        let length: Int

        static let null = Span(start: 0, length: -1)

        var range: Range<Int> { start..<start + length }
    }

    init(_ row: PostgresRow) throws {
        var kinds: [AnalyticsTable.Value.Binary] = []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(row.reduce(0) { $0 + ($1.bytes?.readableBytes ?? 0) })
        var columns: [[Span]] = []
        for cell in row {
            let (kind, spans) = try Self.elements(of: cell, into: &bytes)
            kinds.append(kind)
            columns.append(spans)
        }
        let count = columns.first?.count ?? 0
        guard columns.allSatisfy({ $0.count == count }) else { throw AnalyticsError.arraysDiffer }
        var spans: [Span] = []
        spans.reserveCapacity(count * columns.count)
        for row in 0..<count {
            for column in columns { spans.append(column[row]) }
        }
        self.count = count
        self.kinds = kinds
        self.bytes = bytes
        self.spans = spans
    }

    var width: Int { kinds.count }

    subscript(row: Int, column: Int) -> AnalyticsTable.Value {
        let span = spans[row * width + column]
        guard span.length >= 0 else { return .null }
        // Every element was checked when the arrays were read.
        return bytes.withUnsafeBytes { all in kinds[column].value(UnsafeRawBufferPointer(rebasing: all[span.range])) } ?? .null
    }

    /// Every row as a CSV line (`CSV`), written from the bytes.
    func appendCSV(to out: inout [UInt8]) {
        bytes.withUnsafeBytes { all in
            spans.withUnsafeBufferPointer { spans in
                kinds.withUnsafeBufferPointer { kinds in
                    for row in 0..<count {
                        CSV.appendLine(fields: kinds.count, to: &out) { column, out in
                            let span = spans[row * kinds.count + column]
                            if span.length >= 0 { kinds[column].appendCSV(UnsafeRawBufferPointer(rebasing: all[span.range]), to: &out) }
                        }
                    }
                }
            }
        }
    }

    /// How the elements of the array in `cell` are written and where each is, the array's bytes
    /// appended to `bytes`.
    private static func elements(of cell: PostgresCell, into bytes: inout [UInt8]) throws -> (AnalyticsTable.Value.Binary, [Span]) {
        let malformed = AnalyticsError.malformedValue(column: cell.columnName)
        // A null array has no elements, so how they would be written never matters.
        guard var array = cell.bytes else { return (.text, []) }
        guard cell.format == .binary, let (dimensions, _, element) = array.readMultipleIntegers(endianness: .big, as: (Int32, Int32, UInt32).self)
        else { throw malformed }
        let kind = try AnalyticsTable.Value.Binary(PostgresDataType(element), column: cell.columnName)
        if dimensions == 0 { return (kind, []) }
        guard dimensions == 1, let (count, _) = array.readMultipleIntegers(endianness: .big, as: (Int32, Int32).self), count >= 0
        else { throw malformed }
        // An element's offset in `array` is its offset in `bytes` less `base`.
        let base = bytes.count - array.readerIndex
        bytes.append(contentsOf: array.readableBytesView)
        var spans: [Span] = []
        spans.reserveCapacity(Int(count))
        try bytes.withUnsafeBytes { all in
            for _ in 0..<count {
                guard let length = array.readInteger(endianness: .big, as: Int32.self).map(Int.init) else { throw malformed }
                guard length >= 0 else {
                    spans.append(.null)
                    continue
                }
                guard array.readableBytes >= length else { throw malformed }
                let span = Span(start: base + array.readerIndex, length: length)
                array.moveReaderIndex(forwardBy: length)
                guard kind.holds(UnsafeRawBufferPointer(rebasing: all[span.range])) else { throw malformed }
                spans.append(span)
            }
        }
        return (kind, spans)
    }
}
