import Core
import Daraja
import DarajaSimulator
import Foundation
import Testing

/// The client against the simulator over real HTTP, callbacks included (SPEC section 6's table).
@Suite struct STKIntegrationTests {
    @Test func aSuccessfulPushCallsBackWithTheAmountAReceiptAndThePhone() async throws {
        try await DarajaHarness.run { harness in
            // Setup: a fixed clock, so the password the simulator checked is the one expected.
            let instant = try #require(ISO8601DateFormatter().date(from: "2026-11-23T21:05:09Z"))
            let client = harness.client(effects: Effects(now: { instant }, randomBytes: Effects.live.randomBytes))

            // Act
            let accepted = try await client.stkPush(harness.pushRequest(phone: "0712 345 600", amountCents: 150_000))
            let delivered = await harness.simulator.release(checkoutRequestID: accepted.checkoutRequestID)
            let bodies = await harness.receiver.received(at: CallbackReceiver.stkPath)
            let query = try await client.stkQuery(checkoutRequestID: accepted.checkoutRequestID)

            // Check: the request as Daraja sees it.
            let sent = try #require(await harness.state.requests(to: "/mpesa/stkpush/v1/processrequest").first)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(sent.body.utf8)) as? [String: Any])
            #expect(sent.status == 200)
            #expect(fields["Timestamp"] as? String == "20261124000509")
            #expect(
                fields["Password"] as? String
                    == Data("174379\(DarajaHarness.passkey)20261124000509".utf8).base64EncodedString())
            #expect(fields["Amount"] as? Int == 1_500)
            #expect(fields["PhoneNumber"] as? String == "254712345600")
            #expect(fields["PartyA"] as? String == "254712345600")
            #expect(fields["PartyB"] as? String == "174379")
            #expect(fields["TransactionType"] as? String == "CustomerPayBillOnline")
            // Check: the answer and the callback.
            #expect(accepted.checkoutRequestID.hasPrefix("ws_CO_"))
            #expect(accepted.customerMessage == "Success. Request accepted for processing")
            #expect(delivered.map(\.status) == [200])
            #expect(bodies.count == 1)
            let callback = try STKCallback.parse(try #require(bodies.first))
            #expect(callback.isSuccess)
            #expect(callback.checkoutRequestID == accepted.checkoutRequestID)
            #expect(callback.merchantRequestID == accepted.merchantRequestID)
            let payment = try #require(callback.payment)
            #expect(payment.amountCents == 150_000)
            #expect(payment.phoneNumber == "254712345600")
            let receipt = try #require(payment.receiptNumber)
            #expect(receipt.wholeMatch(of: /SIM[A-Z0-9]{7}/) != nil)
            #expect(await harness.state.push(checkoutRequestID: accepted.checkoutRequestID)?.receipt == receipt)
            #expect(payment.transactionDate != nil)
            #expect(query == .succeeded)
        }
    }

    @Test(arguments: [
        ("0712345601", "1032", "Request cancelled by user"),
        ("0712345602", "1", "The balance is insufficient for the transaction."),
        ("0712345603", "2001", "The initiator information is invalid."),
        ("0712345606", "1037", "DS timeout user cannot be reached"),
    ])
    func failuresCallBackWithTheirResultCode(phone: String, code: String, description: String) async throws {
        try await DarajaHarness.run { harness in
            // Setup
            let client = harness.client()

            // Act
            let accepted = try await client.stkPush(harness.pushRequest(phone: phone))
            await harness.simulator.release(checkoutRequestID: accepted.checkoutRequestID)
            let bodies = await harness.receiver.received(at: CallbackReceiver.stkPath)
            let query = try await client.stkQuery(checkoutRequestID: accepted.checkoutRequestID)

            // Check
            #expect(bodies.count == 1)
            let callback = try STKCallback.parse(try #require(bodies.first))
            #expect(callback.checkoutRequestID == accepted.checkoutRequestID)
            #expect(callback.resultCode == code)
            #expect(callback.resultDescription == description)
            #expect(callback.payment == nil)
            #expect(!String(decoding: bodies[0], as: UTF8.self).contains("CallbackMetadata"))
            #expect(query == .failed(code: code, description: description))
        }
    }

    @Test func phoneEnding05GetsTheSameSuccessCallbackTwice() async throws {
        try await DarajaHarness.run { harness in
            let accepted = try await harness.client().stkPush(harness.pushRequest(phone: "254712345605"))

            await harness.simulator.release(checkoutRequestID: accepted.checkoutRequestID, deliveries: 1)
            let afterFirst = await harness.receiver.received(at: CallbackReceiver.stkPath)
            await harness.simulator.release(checkoutRequestID: accepted.checkoutRequestID)
            let bodies = await harness.receiver.received(at: CallbackReceiver.stkPath)

            #expect(afterFirst.count == 1)
            #expect(bodies.count == 2)
            #expect(bodies[0] == bodies[1])
            let callback = try STKCallback.parse(bodies[0])
            #expect(callback.isSuccess)
            #expect(callback.checkoutRequestID == accepted.checkoutRequestID)
            #expect(callback.payment?.receiptNumber?.hasPrefix("SIM") == true)
        }
    }

    @Test func phoneEnding07IsPaidOneShillingLess() async throws {
        try await DarajaHarness.run { harness in
            let accepted = try await harness.client().stkPush(harness.pushRequest(phone: "0712345607", amountCents: 150_000))

            await harness.simulator.release(checkoutRequestID: accepted.checkoutRequestID)
            let bodies = await harness.receiver.received(at: CallbackReceiver.stkPath)

            let callback = try STKCallback.parse(try #require(bodies.first))
            #expect(callback.isSuccess)
            #expect(callback.payment?.amountCents == 149_900)
        }
    }

    @Test(arguments: [
        ("0712345604", STKQueryResult.succeeded),
        ("0712345608", .failed(code: "1032", description: "Request cancelled by user")),
    ])
    func phonesEnding04And08NeverCallBackButTheQueryKnows(phone: String, expected: STKQueryResult) async throws {
        try await DarajaHarness.run { harness in
            // Setup
            let client = harness.client()

            // Act
            let accepted = try await client.stkPush(harness.pushRequest(phone: phone))
            let early = try await client.stkQuery(checkoutRequestID: accepted.checkoutRequestID)
            let delivered = await harness.simulator.release(checkoutRequestID: accepted.checkoutRequestID)
            let settled = try await client.stkQuery(checkoutRequestID: accepted.checkoutRequestID)

            // Check
            #expect(delivered.isEmpty)
            #expect(early == .pending)
            #expect(settled == expected)
            #expect(await harness.receiver.received(at: CallbackReceiver.stkPath).isEmpty)
            #expect(await harness.state.deliveredCallbacks.isEmpty)
            let pendingAnswers = await harness.state.requests(to: "/mpesa/stkpushquery/v1/query").filter { $0.status == 500 }
            #expect(!pendingAnswers.isEmpty)
        }
    }

    @Test func aQueryBeforeTheDecisionIsPending() async throws {
        try await DarajaHarness.run { harness in
            let client = harness.client()
            let accepted = try await client.stkPush(harness.pushRequest(phone: "0712345600"))

            let result = try await client.stkQuery(checkoutRequestID: accepted.checkoutRequestID)

            #expect(result == .pending)
            #expect(await harness.state.push(checkoutRequestID: accepted.checkoutRequestID)?.decidedOutcome == nil)
        }
    }

    @Test func testsCanOverrideTheOutcomeOfAPushOrAPhone() async throws {
        try await DarajaHarness.run { harness in
            // Setup
            let client = harness.client()
            await harness.state.setOutcome(.insufficientFunds, forPhone: "254712345600")

            // Act
            let byPhone = try await client.stkPush(harness.pushRequest(phone: "0712345600"))
            let byPush = try await client.stkPush(harness.pushRequest(phone: "0712345611"))
            await harness.state.setOutcome(.expired, forCheckoutRequestID: byPush.checkoutRequestID)
            await harness.simulator.releaseAll()
            let bodies = await harness.receiver.received(at: CallbackReceiver.stkPath)

            // Check
            #expect(bodies.count == 2)
            let codes = Dictionary(uniqueKeysWithValues: try bodies.map { body in
                let callback = try STKCallback.parse(body)
                return (callback.checkoutRequestID, callback.resultCode)
            })
            #expect(codes == [byPhone.checkoutRequestID: "1", byPush.checkoutRequestID: "1019"])
        }
    }

    /// The development run's timing: nobody releases anything, the simulator calls back on its
    /// own once the delay is over. The test waits for the callback itself, not for a time; the
    /// limit only turns a callback that never comes into a failure rather than a hang.
    @Test(.timeLimit(.minutes(5))) func onATimerThePushEndsByItself() async throws {
        let timed = DarajaHarness.configuration(callbackTiming: .after(.milliseconds(10)))
        try await DarajaHarness.run(timed) { harness in
            let client = harness.client()
            let accepted = try await client.stkPush(harness.pushRequest(phone: "0712345600"))

            let bodies = await harness.receiver.waitFor(1, at: CallbackReceiver.stkPath)
            let query = try await client.stkQuery(checkoutRequestID: accepted.checkoutRequestID)

            #expect(try STKCallback.parse(bodies[0]).checkoutRequestID == accepted.checkoutRequestID)
            #expect(query == .succeeded)
        }
    }
}
