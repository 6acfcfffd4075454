import Foundation

/// Calendar days in the business time zone (`BUSINESS_TIME_ZONE`, default Africa/Nairobi): a day
/// filter `from=2026-11-23` means midnight in Nairobi, not in UTC.
public struct BusinessCalendar: Sendable {
    public let timeZone: TimeZone

    public init(identifier: String) {
        self.timeZone = TimeZone(identifier: identifier) ?? TimeZone(secondsFromGMT: 3 * 3600)!
    }

    /// The instant a `yyyy-MM-dd` day starts.
    public func startOfDay(_ text: String, field: String) throws(Problem) -> Date {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard parts.count == 3, text.count == 10,
            let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
            calendar.component(.day, from: date) == parts[2]
        else { throw Problem.validation(field: field, "must be a date like 2026-11-23") }
        return date
    }

    /// `[from 00:00, to + 1 day 00:00)`: both days included.
    public func range(from: String?, to: String?) throws(Problem) -> (from: Date?, to: Date?) {
        let start = try from.map { text throws(Problem) in try startOfDay(text, field: "from") }
        let end = try to.map { text throws(Problem) in try startOfDay(text, field: "to") }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let endExclusive = end.flatMap { calendar.date(byAdding: .day, value: 1, to: $0) }
        if let start, let endExclusive, start >= endExclusive {
            throw Problem.validation(field: "to", "must not be before from")
        }
        return (start, endExclusive)
    }
}
