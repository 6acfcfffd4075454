import Core
import Foundation
import Testing

@testable import Identity

@Suite struct AccessTokenTests {
    let secret = Secret("a-test-signing-secret-of-enough-length")

    @Test func aVerifiedTokenIsAcceptedAgainButNoAlteredCopyOfIt() async throws {
        // Setup
        let tokens = await AccessTokens(secret: secret, lifetime: .seconds(900))
        let user = UUID()
        let token = try await tokens.issue(for: user, now: Date())
        // The signature's first character, not its last: the last one's low bits are padding,
        // and changing only those leaves the same signature (1 token in 16 ends in such a pair).
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let signature = parts[2]
        let forged = "\(parts[0]).\(parts[1]).\(signature.hasPrefix("A") ? "B" : "A")\(signature.dropFirst())"

        // Act
        let first = try await tokens.verify(token)
        let again = try await tokens.verify(token)

        // Check
        #expect(first == user)
        #expect(again == user)
        await #expect(throws: Problem.self) { try await tokens.verify(forged) }
        await #expect(throws: Problem.self) { try await tokens.verify(token + ".") }
    }

    @Test func anExpiredTokenIsRefused() async throws {
        // Setup
        let tokens = await AccessTokens(secret: secret, lifetime: .seconds(900))
        let token = try await tokens.issue(for: UUID(), now: Date().addingTimeInterval(-901))

        // Act / Check
        await #expect(throws: Problem.self) { try await tokens.verify(token) }
    }

    @Test func aRememberedTokenIsForgottenAtItsExpiry() {
        // Setup
        let verified = VerifiedTokens()
        let user = UUID()
        let expiry = Date(timeIntervalSince1970: 1_800_000_000)
        verified.remember("token", user: user, until: expiry)

        // Act / Check: valid strictly before its expiry, as the token's own check is.
        #expect(verified.user(of: "token", at: expiry.addingTimeInterval(-1)) == user)
        #expect(verified.user(of: "token", at: expiry) == nil)
        #expect(verified.user(of: "token", at: expiry.addingTimeInterval(-1)) == nil)
        #expect(verified.user(of: "other", at: expiry.addingTimeInterval(-1)) == nil)
    }

    @Test func aFullMemoryStartsAgain() {
        // Setup
        let verified = VerifiedTokens()
        let expiry = Date(timeIntervalSince1970: 1_800_000_000)
        let now = expiry.addingTimeInterval(-60)
        for index in 0..<VerifiedTokens.capacity { verified.remember("token-\(index)", user: UUID(), until: expiry) }

        // Act
        verified.remember("one more", user: UUID(), until: expiry)

        // Check
        #expect(verified.user(of: "token-0", at: now) == nil)
        #expect(verified.user(of: "one more", at: now) != nil)
    }
}
