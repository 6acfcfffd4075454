import Foundation

/// Collects field errors so a request reports every invalid field at once (422 `validation_failed`).
public struct Validator: Sendable {
    public private(set) var errors: [Problem.FieldError] = []

    public init() {}

    public mutating func check(_ condition: Bool, _ field: String, _ message: String) {
        if !condition { errors.append(.init(field: field, message: message)) }
    }

    public mutating func fail(_ field: String, _ message: String) {
        errors.append(.init(field: field, message: message))
    }

    /// Trims the text and checks its length; returns the trimmed text. Only `multiline` text
    /// (descriptions, notes) may hold line breaks and tabs; names, labels and the like are one
    /// line. Other control characters never get this far (`RouteGuard` refuses them).
    @discardableResult
    public mutating func text(_ value: String, _ field: String, min: Int = 1, max: Int, multiline: Bool = false) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if !multiline && trimmed.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            fail(field, "must be a single line of text")
        } else if trimmed.count < min {
            fail(field, min == 1 ? "must not be empty" : "must be at least \(min) characters")
        } else if trimmed.count > max {
            fail(field, "must be at most \(max) characters")
        }
        return trimmed
    }

    public func validate() throws(Problem) {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }

    /// A free-text note on a decision or a move (an admin's, a staff member's): optional, up to
    /// 500 characters, line breaks allowed.
    public static func note(_ note: String?, field: String = "note") throws(Problem) -> String? {
        var validator = Validator()
        let checked = note.map { validator.text($0, field, min: 0, max: 500, multiline: true) }
        try validator.validate()
        return checked
    }

    /// A value the rules above already required, after `validate()`: unwrapped without trapping,
    /// so a rule that was skipped answers 422 instead of killing the process.
    public func required<T>(_ value: T?, _ field: String) throws(Problem) -> T {
        guard let value else { throw Problem.validation(field: field, "is required") }
        return value
    }
}

