import AsyncHTTPClient
import Daraja
import DarajaSimulator
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct OAuthAndErrorTests {
    @Test func wrongConsumerCredentialsAreATypedErrorWithDarajasCode() async throws {
        try await DarajaHarness.run { harness in
            let client = harness.client(consumerSecret: "not-the-secret")

            let error = await #expect(throws: DarajaError.self) {
                try await client.stkPush(harness.pushRequest(phone: "0712345600"))
            }

            #expect(error?.errorCode == "400.008.01")
            #expect(error?.errorMessage == "Invalid Authentication passed")
            #expect(error?.isNoAnswer == false)
            #expect(await harness.state.requests(to: "/mpesa/stkpush/v1/processrequest").isEmpty)
        }
    }

    @Test func anUnknownShortcodeIsABadRequestAndAWrongPasskeyIsWrongCredentials() async throws {
        try await DarajaHarness.run { harness in
            let unknownShortcode = await #expect(throws: DarajaError.self) {
                try await harness.client(shortcode: "999999").stkPush(harness.pushRequest(phone: "0712345600"))
            }
            let wrongPasskey = await #expect(throws: DarajaError.self) {
                try await harness.client(passkey: "wrong").stkPush(harness.pushRequest(phone: "0712345600"))
            }
            let wrongPasskeyQuery = await #expect(throws: DarajaError.self) {
                try await harness.client(passkey: "wrong").stkQuery(checkoutRequestID: "ws_CO_1")
            }

            guard case .rejected(let status, let code, let message, let requestID) = unknownShortcode else {
                Issue.record("expected a rejection, got \(String(describing: unknownShortcode))")
                return
            }
            #expect(status == 400)
            #expect(code == "400.002.02")
            #expect(message == "Bad Request - Invalid BusinessShortCode")
            #expect(requestID?.isEmpty == false)
            #expect(wrongPasskey?.errorCode == "500.001.1001")
            #expect(wrongPasskey?.errorMessage == "Wrong credentials")
            // The same code means "pending" on a query, but never when it says the credentials are wrong.
            #expect(wrongPasskeyQuery?.errorCode == "500.001.1001")
        }
    }

    @Test func anUnknownCheckoutRequestIsABadRequest() async throws {
        try await DarajaHarness.run { harness in
            let error = await #expect(throws: DarajaError.self) {
                try await harness.client().stkQuery(checkoutRequestID: "ws_CO_unknown")
            }

            #expect(error?.errorCode == "400.002.02")
            #expect(error?.errorMessage == "Bad Request - Invalid CheckoutRequestID")
        }
    }

    @Test func concurrentFirstCallsShareOneOAuthRequest() async throws {
        try await DarajaHarness.run { harness in
            // Setup
            let client = harness.client()

            // Act
            let accepted = try await pushConcurrently(8, client: client, harness: harness)

            // Check
            #expect(Set(accepted.map(\.checkoutRequestID)).count == 8)
            #expect(await harness.state.oauthRequestCount == 1)
        }
    }

    @Test func aTokenThatDiesMidRunIsRenewedOnceAndTheCallsRetried() async throws {
        let simulatorTime = ManualClock()
        try await DarajaHarness.run(now: simulatorTime.now) { harness in
            // Setup: one token issued; its real hour passes on Daraja's side only, so it dies
            // while the client still trusts Daraja's "3599".
            let client = harness.client()
            _ = try await client.stkPush(harness.pushRequest(phone: "0712345600"))
            simulatorTime.advance(by: .seconds(3600))
            let tokensBefore = await harness.state.oauthRequestCount

            // Act
            let accepted = try await pushConcurrently(5, client: client, harness: harness)

            // Check
            #expect(accepted.count == 5)
            #expect(await harness.state.oauthRequestCount == tokensBefore + 1)
            let refused = await harness.state.requests(to: "/mpesa/stkpush/v1/processrequest").filter { $0.status == 404 }
            #expect((1...5).contains(refused.count))
        }
    }

    @Test func aReplacedTokenIsRefusedWith404AndTheClientRecovers() async throws {
        try await DarajaHarness.run { harness in
            // Setup
            let client = harness.client()
            _ = try await client.stkPush(harness.pushRequest(phone: "0712345600"))
            await harness.state.expireTokens()

            // Act
            let accepted = try await client.stkPush(harness.pushRequest(phone: "0712345600"))

            // Check
            #expect(accepted.checkoutRequestID.hasPrefix("ws_CO_"))
            #expect(await harness.state.oauthRequestCount == 2)
            let statuses = await harness.state.requests(to: "/mpesa/stkpush/v1/processrequest").map(\.status)
            #expect(statuses == [200, 404, 200])
        }
    }

    @Test(.timeLimit(.minutes(5))) func aServerThatDoesNotAnswerInTimeIsATimeout() async throws {
        // Setup: an OAuth endpoint that stays silent until the client has given up, so the
        // call can only end by the client's own timeout (the limit turns one that never fires
        // into a failure rather than a hang).
        let clientGaveUp = Gate()
        let router = Router()
        router.get("/oauth/v1/generate") { _, _ -> String in
            await clientGaveUp.wait()
            return #"{"access_token":"late","expires_in":"3599"}"#
        }
        try await Application(router: router, logger: DarajaHarness.quietLogger).test(.live) { server in
            let port = try #require(server.port)
            // The one real wait left in these tests: a timeout has to run out to fire. Short, so
            // the test is quick; nothing checks how long it took.
            let client = DarajaClient(
                configuration: DarajaConfiguration(
                    baseURL: "http://localhost:\(port)", consumerKey: "key", consumerSecret: "secret", shortcode: "174379",
                    passkey: "passkey", b2cShortcode: "600000", initiatorName: "api", securityCredential: "credential",
                    requestTimeout: .milliseconds(100)),
                logger: DarajaHarness.quietLogger)

            // Act
            let error = await #expect(throws: DarajaError.self) { try await client.stkQuery(checkoutRequestID: "ws_CO_1") }
            await clientGaveUp.open()

            // Check
            #expect(error == .timeout)
            #expect(error?.isNoAnswer == true)
        }
    }
}

private func pushConcurrently(_ count: Int, client: DarajaClient, harness: DarajaHarness) async throws -> [STKPushAccepted] {
    try await withThrowingTaskGroup(of: STKPushAccepted.self) { group in
        for index in 0..<count {
            group.addTask { try await client.stkPush(harness.pushRequest(phone: String(format: "07123456%02d", 20 + index))) }
        }
        return try await group.reduce(into: []) { $0.append($1) }
    }
}
