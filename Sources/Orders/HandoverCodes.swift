import Core
import Crypto
import Foundation

/// The 6-digit code a customer shows at the hub's door. Only its HMAC-SHA256 under a server key
/// is stored: a plain hash of six digits is reversed by trying all million, and bcrypt is too
/// slow for the checkout path.
public struct HandoverCodes: Sendable, CustomReflectable {
    private let key: SymmetricKey
    private let randomBytes: @Sendable (Int) -> [UInt8]

    public init(key: Secret, randomBytes: @escaping @Sendable (Int) -> [UInt8]) {
        self.key = SymmetricKey(data: Data(key.revealed.utf8))
        self.randomBytes = randomBytes
    }

    // The key never shows in a dump of a value that holds this.
    public var customMirror: Mirror { Mirror(self, children: []) }

    /// A uniformly random code, 000000 to 999999.
    public func generate() -> String {
        while true {
            let bytes = randomBytes(4)
            let value = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            // Rejection sampling keeps every code equally likely.
            if value < UInt32.max - UInt32.max % 1_000_000 {
                let digits = String(value % 1_000_000)
                return String(repeating: "0", count: 6 - digits.count) + digits
            }
        }
    }

    /// The stored form of a sub-order's code; bound to the sub-order so equal codes differ.
    public func digest(_ code: String, subOrderID: UUID) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("\(subOrderID.lowercased):\(code)".utf8), using: key))
    }

    /// Constant-time comparison of a presented code with the stored digest.
    public func matches(_ code: String, subOrderID: UUID, digest: Data) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(digest, authenticating: Data("\(subOrderID.lowercased):\(code)".utf8), using: key)
    }
}
