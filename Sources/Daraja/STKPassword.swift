import Foundation

/// The `Timestamp` and `Password` pair every STK push and query carries.
///
/// Daraja recomputes the password from the timestamp it receives, so both come from one
/// instant, built once per request. The timestamp is Nairobi wall-clock time.
public struct STKPassword: Sendable, CustomStringConvertible {
    /// `yyyyMMddHHmmss` in Africa/Nairobi time.
    public let timestamp: String
    /// base64(shortcode + passkey + timestamp).
    public let password: String

    public init(shortcode: String, passkey: String, at instant: Date) {
        let timestamp = NairobiTime.timestamp(instant)
        self.timestamp = timestamp
        self.password = Data((shortcode + passkey + timestamp).utf8).base64EncodedString()
    }

    public var description: String { "STKPassword(timestamp: \(timestamp), password redacted)" }
}

/// Daraja's wall clock: `yyyyMMddHHmmss` in East Africa Time.
enum NairobiTime {
    // Kenya has kept UTC+3 without daylight saving since 1960; the fixed offset is the fallback
    // for machines without time zone data.
    static let timeZone = TimeZone(identifier: "Africa/Nairobi") ?? TimeZone(secondsFromGMT: 3 * 3600)!

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }()

    static func timestamp(_ instant: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        return String(
            format: "%04d%02d%02d%02d%02d%02d",
            parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }

    /// The instant a `yyyyMMddHHmmss` Nairobi timestamp names, or nil when it names none.
    static func instant(fromTimestamp text: String) -> Date? {
        guard text.count == 14, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let digits = Array(text)
        func number(_ range: Range<Int>) -> Int { Int(String(digits[range]))! }
        let parts = DateComponents(
            year: number(0..<4), month: number(4..<6), day: number(6..<8),
            hour: number(8..<10), minute: number(10..<12), second: number(12..<14))
        guard let instant = calendar.date(from: parts) else { return nil }
        // `Calendar` rolls impossible dates over (Feb 30 → Mar 2); only a round trip proves it exists.
        return timestamp(instant) == text ? instant : nil
    }
}
