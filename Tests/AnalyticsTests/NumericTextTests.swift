@testable import Analytics
import PostgresNIO
import TestSupport
import Testing

/// `NumericText` reads PostgreSQL's binary `numeric` itself; PostgreSQL's own text output of
/// the same values is the reference.
@Suite struct NumericTextTests {
    @Test func aNumericReadsAsPostgreSQLWritesIt() async throws {
        try await World.with { world in
            // Setup: values around every edge of the base-10,000 digits, the point and the sign.
            let values = [
                "0", "0.0000", "3.90", "-0.05", "0.0001", "0.00000001", "1", "9999", "10000", "10000.0001", "12345678.9",
                "-12000.5", "100000000.00000001", "4.29", "20", "0.5000", "-1", "123456789012345678901234567890.123456789",
            ]

            // Act: PostgreSQL sends each one in binary and as its own text.
            let rows = try await world.services.database.query(
                "SELECT v, v::text FROM unnest(\(values)::numeric[]) WITH ORDINALITY AS t(v, n) ORDER BY n")
            let read = try rows.map { row in try row.decode((NumericText, String).self) }

            // Check: the same digits, trailing fractional zeros dropped.
            let expected = [
                "0", "0", "3.9", "-0.05", "0.0001", "0.00000001", "1", "9999", "10000", "10000.0001", "12345678.9",
                "-12000.5", "100000000.00000001", "4.29", "20", "0.5", "-1", "123456789012345678901234567890.123456789",
            ]
            #expect(read.map(\.0.text) == expected)
            #expect(read.map(\.1) == values)
        }
    }

    @Test func notANumberHasNoDecimalText() async throws {
        try await World.with { world in
            let rows = try await world.services.database.query("SELECT 'NaN'::numeric")
            #expect(throws: (any Error).self) { try rows[0].decode(NumericText.self) }
        }
    }
}

/// Figures in a CSV export are written digit by digit; Swift's own decimal text is the reference.
@Suite struct CSVFigureTests {
    @Test(arguments: [0, 7, -1, 10, 99, 100, 1_234_567_890, -987_654_321_012, Int64.max, Int64.min])
    func anIntegerIsWrittenAsItsDecimalText(number: Int64) {
        var bytes: [UInt8] = Array("x,".utf8)
        CSV.appendDecimal(number, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "x,\(number)")
    }
}

/// An export writes each `numeric` after the fields before it; dropping the trailing zeros of a
/// fraction must stop at its own point.
@Suite struct CSVDecimalTests {
    /// A `numeric` in PostgreSQL's binary form: digit count, weight, sign, display scale, then
    /// the base-10,000 digits.
    static func binary(weight: Int16, negative: Bool = false, scale: Int16, digits: [Int16]) -> [UInt8] {
        let words = [Int16(digits.count), weight, Int16(bitPattern: negative ? 0x4000 : 0), scale] + digits
        return words.flatMap { word in withUnsafeBytes(of: word.bigEndian, Array.init) }
    }

    @Test(arguments: [
        (binary(weight: 0, scale: 1, digits: [10, 5000]), "10.5"),
        (binary(weight: 0, scale: 4, digits: []), "0"),
        (binary(weight: 1, scale: 0, digits: [100, 0]), "1000000"),
        (binary(weight: -1, negative: true, scale: 2, digits: [500]), "-0.05"),
        (binary(weight: 0, scale: 2, digits: [20]), "20"),
    ])
    func aDecimalIsWrittenAfterTheFieldsBeforeIt(bytes: [UInt8], text: String) {
        var line = Array("0,10,".utf8)
        let written = bytes.withUnsafeBytes { NumericText.append(binary: $0, to: &line) }
        #expect(written && String(decoding: line, as: UTF8.self) == "0,10,\(text)")
    }

    @Test func bytesThatAreNotANumericWriteNothing() {
        var line = Array("0,".utf8)
        let nan = Self.binary(weight: 0, scale: 0, digits: []).enumerated().map { $0.offset == 4 ? 0xC0 : $0.element }
        let short = Array(Self.binary(weight: 0, scale: 0, digits: [5]).dropLast())
        let bigDigit = Self.binary(weight: 0, scale: 0, digits: [10_000])
        for bytes in [nan, short, bigDigit, []] {
            #expect(!bytes.withUnsafeBytes { NumericText.append(binary: $0, to: &line) })
        }
        #expect(line == Array("0,".utf8))
    }
}
