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
            guard let text = Self.text(binary: &buffer) else { throw PostgresDecodingError.Code.failure }
            self.text = text
        }
    }

    /// The wire form: digit count, weight (the base-10,000 exponent of the first digit), sign,
    /// display scale, then the base-10,000 digits. NaN and infinities have no decimal text.
    static func text(binary buffer: inout ByteBuffer) -> String? {
        guard let (count, weight, sign, _) = buffer.readMultipleIntegers(endianness: .big, as: (Int16, Int16, UInt16, Int16).self),
            count >= 0, sign == 0 || sign == 0x4000
        else { return nil }
        var digits: [Int16] = []
        digits.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let digit = buffer.readInteger(endianness: .big, as: Int16.self), (0..<10_000).contains(digit) else { return nil }
            digits.append(digit)
        }
        // Digit i stands for digit × 10,000^(weight − i); positions outside 0..<count are zero.
        func digit(at exponent: Int) -> Int16 {
            let index = Int(weight) - exponent
            return digits.indices.contains(index) ? digits[index] : 0
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * Int(count) + 8)
        if sign == 0x4000 { bytes.append(UInt8(ascii: "-")) }
        if weight < 0 {
            bytes.append(UInt8(ascii: "0"))
        } else {
            for exponent in stride(from: Int(weight), through: 0, by: -1) {
                appendGroup(digit(at: exponent), padded: exponent != Int(weight), to: &bytes)
            }
        }
        let lowestExponent = Int(weight) - Int(count) + 1
        if lowestExponent < 0 {
            bytes.append(UInt8(ascii: "."))
            for exponent in stride(from: -1, through: lowestExponent, by: -1) {
                appendGroup(digit(at: exponent), padded: true, to: &bytes)
            }
            // Trailing fractional zeros dropped, and the point if nothing is left after it.
            while bytes.last == UInt8(ascii: "0") { bytes.removeLast() }
            if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        }
        return String(decoding: bytes, as: UTF8.self)
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
