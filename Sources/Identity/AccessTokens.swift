import Core
import Foundation
import JWTKit

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
        do {
            let payload = try await keys.verify(token, as: Payload.self)
            guard let id = UUID(uuidString: payload.sub.value) else { throw Problem.unauthorized }
            return id
        } catch {
            throw Problem.unauthorized("The access token is invalid or expired.")
        }
    }
}
