import Core
import Foundation

/// A range of business days, both included, as `yyyy-MM-dd` in the business time zone.
public struct DateRange: Sendable, Equatable {
    public let from: String
    public let to: String
    /// Days in the range, both ends counted.
    public let days: Int

    /// Without `to`, the range ends today; without `from`, it starts `defaultDays - 1` days
    /// before its end. A date that is not a real `yyyy-MM-dd` day, a reversed range or one longer
    /// than `maximumDays` is 422.
    public init(from: String?, to: String?, today: Date, calendar business: BusinessCalendar, maximumDays: Int, defaultDays: Int = 30)
        throws(Problem)
    {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = business.timeZone
        let toText = try to.map { text throws(Problem) in try Self.canonical(text, field: "to", business, calendar) }
            ?? Self.text(of: today, calendar)
        let fromText: String
        if let from {
            fromText = try Self.canonical(from, field: "from", business, calendar)
        } else {
            let end = try business.startOfDay(toText, field: "to")
            fromText = calendar.date(byAdding: .day, value: 1 - defaultDays, to: end).map { Self.text(of: $0, calendar) } ?? toText
        }
        let bounds = try business.range(from: fromText, to: toText)
        guard let start = bounds.from, let end = bounds.to, let days = calendar.dateComponents([.day], from: start, to: end).day else {
            throw Problem.validation(field: "to", "must be a date like 2026-11-23")
        }
        guard days <= maximumDays else {
            throw Problem.validation(field: "to", "the range may span at most \(maximumDays) days")
        }
        self.from = fromText
        self.to = toText
        self.days = days
    }

    /// The day as given, when it is a real day of the common era written `yyyy-MM-dd`; a text that
    /// reads as another day (year 0, a sign) is refused rather than reinterpreted.
    private static func canonical(_ text: String, field: String, _ business: BusinessCalendar, _ calendar: Calendar) throws(Problem)
        -> String
    {
        let day = try business.startOfDay(text, field: field)
        guard calendar.component(.era, from: day) == 1, Self.text(of: day, calendar) == text else {
            throw Problem.validation(field: field, "must be a date like 2026-11-23")
        }
        return text
    }

    static func text(of date: Date, _ calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
