/// Kenyan mobile numbers in the form M-Pesa expects: `2547XXXXXXXX` or `2541XXXXXXXX`.
///
/// The one place phone numbers are normalised: accepts `07…`/`01…`, `+254…`, `254…`, with spaces
/// or dashes, and rejects anything else.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init?(normalising raw: String) {
        var digits = raw.filter { !$0.isWhitespace && $0 != "-" }
        if digits.hasPrefix("+") { digits.removeFirst() }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        if digits.hasPrefix("0"), digits.count == 10 {
            digits = "254" + digits.dropFirst()
        }
        guard digits.count == 12, digits.hasPrefix("2547") || digits.hasPrefix("2541") else { return nil }
        self.value = digits
    }

    public var description: String { value }
}
