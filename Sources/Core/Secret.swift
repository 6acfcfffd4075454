/// A setting or credential that must never reach a log line, an error message or a debugger's
/// dump. Every way Swift turns a value into text (`description`, `debugDescription`, `dump` and
/// other mirrors) prints `<redacted>`, so any type holding a `Secret` is safe to print.
/// Reading the value takes the deliberate `revealed`.
public struct Secret: Sendable, Equatable, Hashable {
    public let revealed: String

    public init(_ value: String) {
        self.revealed = value
    }

    public var isEmpty: Bool { revealed.isEmpty }
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
