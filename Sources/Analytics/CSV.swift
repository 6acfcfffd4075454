/// The fields of a CSV export (RFC 4180), written as bytes: an export is tens of thousands of
/// fields, and a `String` per field cost more than reading the rows.
enum CSV {
    /// A text field: one holding a comma, quote or line break is quoted, its quotes doubled.
    static func appendField(_ text: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        let quote = UInt8(ascii: "\"")
        let special = { (byte: UInt8) in byte == UInt8(ascii: ",") || byte == quote || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") }
        guard text.contains(where: special) else { return bytes.append(contentsOf: text) }
        bytes.append(quote)
        for byte in text {
            if byte == quote { bytes.append(quote) }
            bytes.append(byte)
        }
        bytes.append(quote)
    }

    static func appendField(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendField(UnsafeRawBufferPointer($0), to: &bytes) }
    }

    /// `number` in decimal digits, written straight into `bytes`.
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
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// One line of `count` fields, each written by `field` given its index; CRLF at its end.
    static func appendLine(fields count: Int, to bytes: inout [UInt8], _ field: (Int, inout [UInt8]) -> Void) {
        for index in 0..<count {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            field(index, &bytes)
        }
        bytes.append(UInt8(ascii: "\r"))
        bytes.append(UInt8(ascii: "\n"))
    }
}
