import Crypto
import Foundation

/// The time and randomness the services use, passed in so tests can fix them.
public struct Effects: Sendable {
    public var now: @Sendable () -> Date
    public var randomBytes: @Sendable (Int) -> [UInt8]

    public init(now: @escaping @Sendable () -> Date, randomBytes: @escaping @Sendable (Int) -> [UInt8]) {
        self.now = now
        self.randomBytes = randomBytes
    }

    public static let live = Effects(
        now: { Date() },
        randomBytes: { count in
            var generator = SystemRandomNumberGenerator()
            return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        })

    /// A random token for a URL or header: 32 bytes, base64url without padding.
    public func opaqueToken() -> String {
        Data(randomBytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension SHA256 {
    /// The digest of a token as bytes PostgreSQL stores as `bytea`.
    public static func digestData(_ text: String) -> Data {
        Data(hash(data: Data(text.utf8)))
    }
}
