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

    /// Trims the text and checks its length; returns the trimmed text.
    @discardableResult
    public mutating func text(_ value: String, _ field: String, min: Int = 1, max: Int) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count < min {
            fail(field, min == 1 ? "must not be empty" : "must be at least \(min) characters")
        } else if trimmed.count > max {
            fail(field, "must be at most \(max) characters")
        }
        return trimmed
    }

    public func validate() throws(Problem) {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}

