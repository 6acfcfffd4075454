import Crypto
import CryptoExtras
import Foundation

/// The simulator's stand-in for the M-Pesa certificate: its own RSA key pair and the initiator
/// password a B2C `SecurityCredential` must carry.
///
/// Daraja's credential is the password encrypted with the certificate's public key using
/// PKCS#1 v1.5 padding, base64 (SPEC section 6). Only swift-crypto 4.5's CryptoExtras
/// (`_WEAK_AND_INSECURE_PKCS_V1_5`) does that padding.
public struct InitiatorCredentials: Sendable {
    /// Give this to whoever must produce a `SecurityCredential` for the simulator.
    public let publicKeyPEM: String
    // The encryption key types are not `Sendable`; the DER bytes are, and rebuilding the key
    // for the rare B2C request costs little.
    private let privateKeyDER: Data
    private let initiatorPassword: String

    private static let padding = _RSA.Encryption.Padding._WEAK_AND_INSECURE_PKCS_V1_5

    /// Generates a fresh 2048-bit key pair (takes a moment; share one between tests).
    public static func generate(initiatorPassword: String) throws -> InitiatorCredentials {
        let privateKey = try _RSA.Encryption.PrivateKey(keySize: .bits2048)
        return InitiatorCredentials(
            publicKeyPEM: privateKey.publicKey.pemRepresentation, privateKeyDER: privateKey.derRepresentation,
            initiatorPassword: initiatorPassword)
    }

    private init(publicKeyPEM: String, privateKeyDER: Data, initiatorPassword: String) {
        self.publicKeyPEM = publicKeyPEM
        self.privateKeyDER = privateKeyDER
        self.initiatorPassword = initiatorPassword
    }

    /// What Safaricom's portal produces from `password`: base64(RSA PKCS#1 v1.5 encryption).
    public func securityCredential(for password: String) throws -> String {
        let publicKey = try _RSA.Encryption.PublicKey(pemRepresentation: publicKeyPEM)
        return try publicKey.encrypt(Data(password.utf8), padding: Self.padding).base64EncodedString()
    }

    /// Whether `securityCredential` decrypts to the initiator password.
    func accepts(_ securityCredential: String) -> Bool {
        guard let ciphertext = Data(base64Encoded: securityCredential),
            let privateKey = try? _RSA.Encryption.PrivateKey(derRepresentation: privateKeyDER),
            let plaintext = try? privateKey.decrypt(ciphertext, padding: Self.padding)
        else { return false }
        return plaintext == Data(initiatorPassword.utf8)
    }
}
