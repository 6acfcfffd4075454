import NIOCore
import PostgresNIO

/// A `numeric` as the decimal text of its exact value, read straight from PostgreSQL's binary
/// form, trailing fractional zeros dropped ("3.90" reads "3.9", "0.0000" reads "0").
///
/// Foundation's `Decimal` went through a string twice for each cell (PostgresNIO parses
/// `Decimal(string:)`, and writing it out formats it again): in a year's CSV export that was a
/// sixth of the service's time. Reports only show these figures, so they stay text.
struct NumericText: PostgresDecodable {
    let text: String

    init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat, context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        guard type == .numeric else { throw PostgresDecodingError.Code.typeMismatch }
        switch format {
        case .text:
            guard let text = buffer.readString(length: buffer.readableBytes) else { throw PostgresDecodingError.Code.failure }
            self.text = Self.trimmed(text)
        case .binary:
            guard let text = buffer.readWithUnsafeReadableBytes({ ($0.count, Self.text(binary: $0)) }) else {
                throw PostgresDecodingError.Code.failure
            }
            self.text = text
        }
    }

    /// The decimal text of a `numeric` in binary form; nil when `bytes` are not one.
    static func text(binary bytes: UnsafeRawBufferPointer) -> String? {
        var text: [UInt8] = []
        guard append(binary: bytes, to: &text) else { return nil }
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether `bytes` are a `numeric` in binary form that has a decimal text.
    static func isNumeric(binary bytes: UnsafeRawBufferPointer) -> Bool {
        Digits(bytes) != nil
    }

    /// Appends the decimal text of a `numeric` in binary form to `text`; false, appending
    /// nothing, when `bytes` are not one. Written into the caller's bytes: a CSV export writes
    /// thousands of these without a `String` each.
    @discardableResult
    static func append(binary bytes: UnsafeRawBufferPointer, to text: inout [UInt8]) -> Bool {
        guard let number = Digits(bytes) else { return false }
        if number.negative { text.append(UInt8(ascii: "-")) }
        if number.weight < 0 {
            text.append(UInt8(ascii: "0"))
        } else {
            for exponent in stride(from: number.weight, through: 0, by: -1) {
                appendGroup(number.digit(at: exponent), padded: exponent != number.weight, to: &text)
            }
        }
        let lowestExponent = number.weight - number.count + 1
        if lowestExponent < 0 {
            text.append(UInt8(ascii: "."))
            for exponent in stride(from: -1, through: lowestExponent, by: -1) {
                appendGroup(number.digit(at: exponent), padded: true, to: &text)
            }
            // Trailing fractional zeros dropped, and the point if nothing is left after it; the
            // point written above keeps this within what was appended.
            while text.last == UInt8(ascii: "0") { text.removeLast() }
            if text.last == UInt8(ascii: ".") { text.removeLast() }
        }
        return true
    }

    /// The wire form, checked: digit count, weight (the base-10,000 exponent of the first
    /// digit), sign, display scale, then the base-10,000 digits. NaN and infinities have no
    /// decimal text.
    private struct Digits {
        let bytes: UnsafeRawBufferPointer
        let count: Int
        let weight: Int
        let negative: Bool

        init?(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count >= 8 else { return nil }
            let count = Int(Self.integer(bytes, at: 0))
            let sign = UInt16(bitPattern: Self.integer(bytes, at: 4))
            guard count >= 0, sign == 0 || sign == 0x4000, bytes.count == 8 + 2 * count,
                (0..<count).allSatisfy({ (0..<10_000).contains(Self.integer(bytes, at: 8 + 2 * $0)) })
            else { return nil }
            self.bytes = bytes
            self.count = count
            self.weight = Int(Self.integer(bytes, at: 2))
            self.negative = sign == 0x4000
        }

        /// Digit i stands for digit × 10,000^(weight − i); positions outside 0..<count are zero.
        func digit(at exponent: Int) -> Int16 {
            let index = weight - exponent
            return (0..<count).contains(index) ? Self.integer(bytes, at: 8 + 2 * index) : 0
        }

        private static func integer(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int16 {
            Int16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int16.self))
        }
    }

    /// One base-10,000 digit as its decimal digits: all four when `padded`, else without
    /// leading zeros. Written byte by byte: a `String` per group showed in a year's export.
    private static func appendGroup(_ group: Int16, padded: Bool, to bytes: inout [UInt8]) {
        var divisor: Int16 = 1000
        var writing = padded
        while divisor > 0 {
            let digit = group / divisor % 10
            if writing || digit != 0 || divisor == 1 {
                bytes.append(UInt8(ascii: "0") + UInt8(digit))
                writing = true
            }
            divisor /= 10
        }
    }

    /// Drops trailing fractional zeros and a point left bare.
    private static func trimmed(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: ".")) else { return text }
        var utf8 = Substring(text).utf8
        while utf8.last == UInt8(ascii: "0") { utf8.removeLast() }
        if utf8.last == UInt8(ascii: ".") { utf8.removeLast() }
        return String(Substring(utf8))
    }
}
