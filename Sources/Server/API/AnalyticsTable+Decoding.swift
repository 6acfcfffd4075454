import Analytics
import Foundation

extension AnalyticsTable {
    /// The rows as the document's type: the table's columns are its properties, so the database's
    /// figures go out unchanged (a column the document lacks fails here, in tests, not at a client).
    /// Read straight from the table's values: a year of days through JSON text and back cost more
    /// than the query.
    func decoded<Row: Decodable>() throws -> [Row] {
        try rows.map { try Row(from: RowDecoder(columns: columns, values: $0)) }
    }

    /// The one row of a table that always has one (totals, a merchant's own row).
    func decodedRow<Row: Decodable>() throws -> Row {
        let rows: [Row] = try decoded()
        guard let row = rows.first else { throw UnmappedValue(type: "\(Row.self)") }
        return row
    }
}

extension Optional where Wrapped == AnalyticsTable {
    func decoded<Row: Decodable>() throws -> [Row] {
        try (self ?? AnalyticsTable(columns: [], rows: [])).decoded()
    }

    func decodedRow<Row: Decodable>() throws -> Row {
        try (self ?? AnalyticsTable(columns: [], rows: [])).decodedRow()
    }
}

/// Decodes one table row as an object whose keys are the column names: integers as integers
/// (or numbers), decimals as numbers, text as strings, nulls as absent.
private struct RowDecoder: Decoder {
    let columns: [String]
    let values: [AnalyticsTable.Value]
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowContainer<Key>(row: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "a table row is an object"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "a table row is an object"))
    }

    func value(_ key: some CodingKey) -> AnalyticsTable.Value {
        guard let index = columns.firstIndex(of: key.stringValue) else { return .null }
        return values[index]
    }
}

private struct RowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let row: RowDecoder
    var codingPath: [any CodingKey] { row.codingPath }
    var allKeys: [Key] { row.columns.compactMap(Key.init(stringValue:)) }

    func contains(_ key: Key) -> Bool {
        row.value(key) != .null
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        row.value(key) == .null
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try cell(key).decode(type)
    }

    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try cell(key).decode(type)
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try cell(key).decode(type)
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try cell(key).decode(type)
    }

    /// Anything else decodes itself from the cell (the document's enums from their text).
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try cell(key).decode(type)
    }

    private func cell(_ key: Key) -> CellDecoder {
        CellDecoder(value: row.value(key), codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw mismatch([String: Any].self, key)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw mismatch([Any].self, key)
    }

    func superDecoder() throws -> any Decoder {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "a table row has no super"))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        throw mismatch([String: Any].self, key)
    }

    private func mismatch(_ type: Any.Type, _ key: Key) -> DecodingError {
        DecodingError.typeMismatch(
            type, .init(codingPath: codingPath + [key], debugDescription: "column \(key.stringValue) holds \(row.value(key))"))
    }
}

/// One value of a row: text, an integer or a number; anything else is a type mismatch.
private struct CellDecoder: Decoder, SingleValueDecodingContainer {
    let value: AnalyticsTable.Value
    let codingPath: [any CodingKey]
    /// Set once a type has asked to decode itself from this cell: a type that asks again (a
    /// Bool, whose decoding lands back in the generic method) has no form here.
    var delegated = false
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        throw mismatch([String: Any].self)
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw mismatch([Any].self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: String.Type) throws -> String {
        guard case .text(let text) = value else { throw mismatch(type) }
        return text
    }

    func decode(_ type: Int64.Type) throws -> Int64 {
        guard case .integer(let number) = value else { throw mismatch(type) }
        return number
    }

    func decode(_ type: Int.Type) throws -> Int {
        guard case .integer(let number) = value, let exact = Int(exactly: number) else { throw mismatch(type) }
        return exact
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .integer(let number): return Double(number)
        case .decimal(let text):
            guard let number = Double(text) else { throw mismatch(type) }
            return number
        default: throw mismatch(type)
        }
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard !delegated else { throw mismatch(type) }
        return try T(from: CellDecoder(value: value, codingPath: codingPath, delegated: true))
    }

    private func mismatch(_ type: Any.Type) -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "the column holds \(value)"))
    }
}
