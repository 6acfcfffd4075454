import Foundation

/// Lower-case hexadecimal text of bytes, for digests stored or compared as text. Written out by
/// hand: `String(format:)` per byte showed in the checkout path's profile.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digit(byte >> 4))
            text.append(digit(byte & 0x0F))
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func digit(_ nibble: UInt8) -> UInt8 { digits[Int(nibble)] }
}

extension UUID {
    /// The id as the API, the console and the database's text show it: lower-case, hyphenated.
    /// Written out by hand: `uuidString` formats through `sprintf`, which showed in the profiles
    /// of order pages and analytics exports.
    public var lowercased: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { text in
                var position = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    text[position] = Hex.digit(byte >> 4)
                    text[position + 1] = Hex.digit(byte & 0x0F)
                    position += 2
                }
                return position
            }
        }
    }
}
