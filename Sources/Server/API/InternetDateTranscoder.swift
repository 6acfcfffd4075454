import Foundation
import OpenAPIRuntime

/// Dates in the API: ISO 8601 internet date-time in UTC, whole seconds (`2026-12-01T17:31:36Z`),
/// exactly as the runtime's default transcoder writes them. On Linux that one formats through
/// `ISO8601DateFormatter` behind a lock, and a page of orders carries hundreds of dates; this
/// writes the digits itself. Dates before 1970 or after 9999 and every date a client sends are
/// left to Foundation.
struct InternetDateTranscoder: DateTranscoder {
    private let foundation = ISO8601DateTranscoder()

    func encode(_ date: Date) throws -> String {
        // Foundation counts whole milliseconds from 2001 (rounded), then shows the second they fall in.
        let milliseconds = (date.timeIntervalSinceReferenceDate * 1000).rounded()
        let seconds = (milliseconds / 1000).rounded(.down) + Date.timeIntervalBetween1970AndReferenceDate
        guard seconds >= 0, seconds < 253_402_300_800 else { return try foundation.encode(date) }
        return Self.text(secondsSince1970: Int64(seconds))
    }

    func decode(_ dateString: String) throws -> Date {
        try foundation.decode(dateString)
    }

    /// `yyyy-MM-ddTHH:mm:ssZ` of a non-negative number of seconds since 1970 (before year 10000).
    static func text(secondsSince1970 seconds: Int64) -> String {
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (year, month, day) = civil(daysSince1970: days)
        var bytes = [UInt8]()
        bytes.reserveCapacity(20)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`, for days on or after 1970).
    static func civil(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
