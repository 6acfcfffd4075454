import Core
import Foundation
import JWTKit
import Synchronization

/// Short-lived JWT access tokens carrying only the user id (SPEC section 12).
public struct AccessTokens: Sendable {
    struct Payload: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim

        func verify(using algorithm: some JWTAlgorithm) throws {
            try exp.verifyNotExpired()
        }
    }

    private let keys: JWTKeyCollection
    private let verified = VerifiedTokens()
    public let lifetime: Duration

    public init(secret: Secret, lifetime: Duration) async {
        self.keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret.revealed), digestAlgorithm: .sha256)
        self.lifetime = lifetime
    }

    public var lifetimeSeconds: Int { Int(lifetime.components.seconds) }

    public func issue(for userID: UUID, now: Date) async throws -> String {
        let payload = Payload(
            sub: .init(value: userID.uuidString), exp: .init(value: now.addingTimeInterval(TimeInterval(lifetimeSeconds))),
            iat: .init(value: now))
        return try await keys.sign(payload)
    }

    /// The user id of a valid, unexpired token.
    public func verify(_ token: String) async throws(Problem) -> UUID {
        if let id = verified.user(of: token, at: Date()) { return id }
        do {
            let payload = try await keys.verify(token, as: Payload.self)
            guard let id = UUID(uuidString: payload.sub.value) else { throw Problem.unauthorized }
            verified.remember(token, user: id, until: payload.exp.value)
            return id
        } catch {
            throw Problem.unauthorized("The access token is invalid or expired.")
        }
    }
}

/// Tokens whose signature has been checked, each until it expires. A client sends the same token
/// with every request for its lifetime, and checking the signature and decoding the JSON again
/// was 4% of a small request's profile. A token is found only by its exact text, so nothing is
/// accepted that did not pass the full check.
final class VerifiedTokens: Sendable {
    /// Enough for every client of a busy quarter of an hour; when full, it starts again.
    static let capacity = 10_000

    private let tokens = Mutex<[String: (user: UUID, expiry: Date)]>([:])

    func user(of token: String, at now: Date) -> UUID? {
        tokens.withLock { tokens in
            guard let entry = tokens[token] else { return nil }
            guard entry.expiry > now else {
                tokens[token] = nil
                return nil
            }
            return entry.user
        }
    }

    func remember(_ token: String, user: UUID, until expiry: Date) {
        tokens.withLock { tokens in
            if tokens.count >= Self.capacity { tokens.removeAll(keepingCapacity: true) }
            tokens[token] = (user, expiry)
        }
    }
}
