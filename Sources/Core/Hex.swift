import Foundation

/// Lower-case hexadecimal text of bytes, for digests stored or compared as text. Written out by
/// hand: `String(format:)` per byte showed in the checkout path's profile.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digit(byte >> 4))
            text.append(digit(byte & 0x0F))
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The digit of a value below 16.
    static func digit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble }
}

extension UUID {
    /// The id as the API, the console and the database's text show it: lower-case, hyphenated.
    /// Written out by hand: `uuidString` formats through `sprintf`, which showed in the profiles
    /// of order pages and analytics exports.
    public var lowercased: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: Hex.uuidLength) { Hex.writeUUID(bytes, into: $0) }
        }
    }
}

extension Hex {
    /// The length of an id's text.
    public static let uuidLength = 36

    /// The text of the id whose 16 bytes are `bytes` (`UUID.lowercased`), written into the first
    /// 36 bytes of `text`; answers how many it wrote.
    public static func writeUUID(_ bytes: UnsafeRawBufferPointer, into text: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var position = 0
        for (index, byte) in bytes.prefix(16).enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 {
                text[position] = UInt8(ascii: "-")
                position += 1
            }
            text[position] = digit(byte >> 4)
            text[position + 1] = digit(byte & 0x0F)
            position += 2
        }
        return position
    }
}
