import Crypto
import Foundation

/// Comparing secrets a client presents (callback paths, CSRF tokens) without a timing that
/// tells how much of a guess was right: both sides go through an HMAC under a random key and
/// the codes are compared by CryptoKit's constant-time check.
public enum ConstantTime {
    public static func equal(_ given: String, _ expected: String) -> Bool {
        let key = SymmetricKey(size: .bits256)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(expected.utf8), using: key)
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(given.utf8), using: key)
    }
}
