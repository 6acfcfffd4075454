import Core
import Foundation
import Synchronization

/// The services' clock in a test: it stands still unless the test moves it, so a test makes
/// time pass (a job coming due) instead of waiting for it.
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date()) {
        current = Mutex(start)
    }

    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.addingTimeInterval(TimeInterval(duration.components.seconds)) }
    }

    /// Moves the clock on to `instant`; an instant already past leaves it where it is.
    public func advance(to instant: Date) {
        current.withLock { $0 = max($0, instant) }
    }

    public var effects: Effects {
        Effects(now: { self.current.withLock { $0 } }, randomBytes: Effects.live.randomBytes)
    }
}
