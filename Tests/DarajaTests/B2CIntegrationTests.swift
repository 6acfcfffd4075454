import AsyncHTTPClient
import Daraja
import DarajaSimulator
import Foundation
import Testing

@Suite struct B2CIntegrationTests {
    @Test func aPayoutIsAcceptedAndItsResultArrivesAtTheResultURL() async throws {
        try await DarajaHarness.run { harness in
            // Setup
            let request = harness.payoutRequest(phone: "0712345678", amountCents: 50_000)

            // Act
            let accepted = try await harness.client().b2cPayment(request)
            let beforeRelease = await harness.receiver.received(at: CallbackReceiver.b2cResultPath)
            let delivered = await harness.simulator.release(originatorConversationID: request.originatorConversationID)
            let bodies = await harness.receiver.received(at: CallbackReceiver.b2cResultPath)

            // Check: the request as Daraja sees it.
            let sent = try #require(await harness.state.requests(to: "/mpesa/b2c/v3/paymentrequest").first)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(sent.body.utf8)) as? [String: Any])
            #expect(fields["CommandID"] as? String == "BusinessPayment")
            #expect(fields["PartyA"] as? String == "600000")
            #expect(fields["PartyB"] as? String == "254712345678")
            #expect(fields["Amount"] as? Int == 500)
            #expect(fields["Occassion"] as? String == "Refund")
            // Check: the answer and the result.
            #expect(accepted.originatorConversationID == request.originatorConversationID)
            #expect(accepted.conversationID.hasPrefix("AG_"))
            #expect(accepted.responseDescription == "Accept the service request successfully.")
            #expect(beforeRelease.isEmpty)
            #expect(delivered.map(\.status) == [200])
            #expect(bodies.count == 1)
            let result = try B2CResult.parse(try #require(bodies.first))
            #expect(result.isSuccess)
            #expect(result.originatorConversationID == request.originatorConversationID)
            #expect(result.conversationID == accepted.conversationID)
            #expect(result.transactionAmountCents == 50_000)
            #expect(result.transactionReceipt == result.transactionID)
            #expect(result.transactionReceipt?.wholeMatch(of: /SIM[A-Z0-9]{7}/) != nil)
            #expect(result.receiverPartyPublicName?.hasPrefix("254712345678") == true)
            #expect(await harness.receiver.received(at: CallbackReceiver.b2cTimeoutPath).isEmpty)
        }
    }

    @Test func aPayoutToAPhoneEnding09Fails() async throws {
        try await DarajaHarness.run { harness in
            let request = harness.payoutRequest(phone: "0712345609")

            _ = try await harness.client().b2cPayment(request)
            await harness.simulator.release(originatorConversationID: request.originatorConversationID)
            let bodies = await harness.receiver.received(at: CallbackReceiver.b2cResultPath)

            let result = try B2CResult.parse(try #require(bodies.first))
            #expect(!result.isSuccess)
            #expect(result.resultCode == "2001")
            #expect(result.resultDescription == "The initiator information is invalid.")
            #expect(result.originatorConversationID == request.originatorConversationID)
            #expect(result.parameters.isEmpty)
        }
    }

    @Test func theSecurityCredentialMustDecryptToTheInitiatorPassword() async throws {
        // Setup: the simulator's own RSA key pair; the credential encrypted as Safaricom's tool does.
        let credentials = try InitiatorCredentials.generate(initiatorPassword: "Safaricom999!*!")
        let configuration = DarajaHarness.configuration(initiatorCredentials: credentials)
        try await DarajaHarness.run(configuration) { harness in
            let good = harness.client(securityCredential: try credentials.securityCredential(for: "Safaricom999!*!"))
            let bad = harness.client(securityCredential: try credentials.securityCredential(for: "wrong password"))
            let goodRequest = harness.payoutRequest(phone: "0712345678")
            let badRequest = harness.payoutRequest(phone: "0712345678")

            // Act
            _ = try await good.b2cPayment(goodRequest)
            _ = try await bad.b2cPayment(badRequest)
            await harness.simulator.releaseAll()
            let bodies = await harness.receiver.received(at: CallbackReceiver.b2cResultPath)

            // Check
            let codes = Dictionary(uniqueKeysWithValues: try bodies.map { body in
                let result = try B2CResult.parse(body)
                return (result.originatorConversationID, result.resultCode)
            })
            #expect(codes == [goodRequest.originatorConversationID: "0", badRequest.originatorConversationID: "2001"])
            let served = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: harness.baseURL + "/simulator/public-key.pem"), timeout: .seconds(5))
            let pem = String(decoding: try await served.body.collect(upTo: 1 << 16).readableBytesView, as: UTF8.self)
            #expect(pem == credentials.publicKeyPEM)
            #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        }
    }
}
