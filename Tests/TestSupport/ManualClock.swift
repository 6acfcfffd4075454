import Core
import Foundation
import Synchronization

/// A clock tests move by hand.
public final class ManualClock: Sendable {
    private let state: Mutex<Date>

    public init(start: Date) { state = Mutex(start) }

    public var now: Date { state.withLock { $0 } }

    public func advance(by seconds: TimeInterval) { state.withLock { $0 += seconds } }

    /// The live randomness with this clock's time, for services under test.
    public var effects: Effects { Effects(now: { self.now }, randomBytes: Effects.live.randomBytes) }
}
