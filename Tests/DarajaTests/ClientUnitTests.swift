import Core
import Foundation
import Testing

@testable import Daraja

@Suite struct STKPasswordTests {
    @Test func timestampIsNairobiTimeAndPasswordUsesTheSameTimestamp() throws {
        // Setup: 21:05:09 UTC is 00:05:09 the next day in Nairobi (UTC+3).
        let instant = try #require(ISO8601DateFormatter().date(from: "2026-11-23T21:05:09Z"))

        // Act
        let credentials = STKPassword(shortcode: "174379", passkey: "test-passkey", at: instant)

        // Check
        #expect(credentials.timestamp == "20261124000509")
        #expect(credentials.password == Data("174379test-passkey20261124000509".utf8).base64EncodedString())
        #expect(!credentials.description.contains(credentials.password))
    }

    @Test func nairobiTimestampsRoundTripAndImpossibleDatesAreRefused() {
        #expect(NairobiTime.instant(fromTimestamp: "20261124000509").map(NairobiTime.timestamp) == "20261124000509")
        #expect(NairobiTime.instant(fromTimestamp: "20260230120000") == nil)
        #expect(NairobiTime.instant(fromTimestamp: "2026112400050") == nil)
    }
}

@Suite struct AccessTokenTests {
    @Test(arguments: [#"{"access_token":"abc","expires_in":"3599"}"#, #"{"access_token":"abc","expires_in":3599}"#])
    func expiresInIsReadAsAStringOrANumber(json: String) throws {
        // Act
        let answer = try JSONDecoder().decode(Wire.TokenAnswer.self, from: Data(json.utf8))

        // Check
        #expect(answer.access_token == "abc")
        #expect(answer.expires_in.text == "3599")
    }

    @Test func concurrentCallersShareOneRenewal() async throws {
        // Setup: a renewal that stays in flight until the last caller is on its way.
        // Whoever comes after it finished finds the token cached, so the outcome is the same
        // in every interleaving; holding the answer only makes the callers really overlap.
        let fetches = Counter()
        let asked = Counter()
        let everyoneAsked = Gate()
        let cache = AccessTokenCache(renewalMargin: .zero, now: ManualClock().now) { () async throws(DarajaError) in
            let number = await fetches.increment()
            await everyoneAsked.wait()
            return ("token-\(number)", .seconds(3600))
        }

        // Act
        let tokens = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    if await asked.increment() == 10 { await everyoneAsked.open() }
                    return try? await cache.token()
                }
            }
            return await group.reduce(into: [String?]()) { $0.append($1) }
        }

        // Check
        #expect(tokens == Array(repeating: "token-1", count: 10))
        #expect(await fetches.value == 1)
    }

    @Test func aTokenIsRenewedBeforeItExpiresAndAfterItIsRefused() async throws {
        // Setup: an hour's token renewed a minute early, i.e. after 59 minutes.
        let fetches = Counter()
        let clock = ManualClock()
        let cache = AccessTokenCache(renewalMargin: .seconds(60), now: clock.now) { () async throws(DarajaError) in
            ("token-\(await fetches.increment())", .seconds(3600))
        }

        // Act
        let first = try await cache.token()
        clock.advance(by: .seconds(3539))
        let cached = try await cache.token()
        clock.advance(by: .seconds(1))
        let renewed = try await cache.token()
        await cache.invalidate("token-1")  // a stale refusal must not throw away the newer token
        let stillRenewed = try await cache.token()
        await cache.invalidate(renewed)
        let afterRefusal = try await cache.token()

        // Check
        #expect([first, cached, renewed, stillRenewed, afterRefusal] == ["token-1", "token-1", "token-2", "token-2", "token-3"])
    }

    @Test func aFailedRenewalReachesEveryWaiterAndTheNextCallTriesAgain() async throws {
        // Setup
        let fetches = Counter()
        let cache = AccessTokenCache(renewalMargin: .zero, now: ManualClock().now) { () async throws(DarajaError) in
            if await fetches.increment() == 1 { throw DarajaError.timeout }
            return ("token", .seconds(3600))
        }

        // Act
        let failure = await #expect(throws: DarajaError.self) { try await cache.token() }
        let token = try await cache.token()

        // Check
        #expect(failure == .timeout)
        #expect(token == "token")
    }
}

@Suite struct ClientValidationTests {
    /// Nothing listens on port 1: a call that reached the network would fail as unreachable.
    let client = DarajaClient(
        configuration: DarajaConfiguration(
            baseURL: "http://127.0.0.1:1", consumerKey: "key", consumerSecret: "secret", shortcode: "174379",
            passkey: "passkey", b2cShortcode: "600000", initiatorName: "api", securityCredential: "credential",
            requestTimeout: .milliseconds(500)),
        logger: DarajaHarness.quietLogger)

    func push(amountCents: Int64 = 10_000, phone: String = "0712345678", callbackURL: String = "https://example.com/cb")
        -> STKPushRequest
    {
        STKPushRequest(
            amountCents: amountCents, phone: phone, callbackURL: callbackURL, accountReference: "HR-1",
            transactionDescription: "Payment")
    }

    @Test(arguments: [Int64(150), 0, -100, 25_000_100])
    func amountsThatAreNotWholeShillingsWithinTheLimitAreRefusedBeforeAnyCall(cents: Int64) async {
        let error = await #expect(throws: DarajaError.self) { try await client.stkPush(push(amountCents: cents)) }
        guard case .invalidRequest(let field, _) = error else {
            Issue.record("expected invalidRequest, got \(String(describing: error))")
            return
        }
        #expect(field == "Amount")
    }

    @Test func wholeShillingsAreConvertedFromCents() throws {
        #expect(try DarajaClient.wholeShillings(100) == 1)
        #expect(try DarajaClient.wholeShillings(25_000_000) == 250_000)
    }

    @Test func badPhonesAndCallbackURLsAreRefusedBeforeAnyCall() async {
        let badPhone = await #expect(throws: DarajaError.self) { try await client.stkPush(push(phone: "0812345678")) }
        let badURL = await #expect(throws: DarajaError.self) { try await client.stkPush(push(callbackURL: "ftp://example.com")) }
        let badPayout = await #expect(throws: DarajaError.self) {
            try await client.b2cPayment(
                B2CPaymentRequest(
                    originatorConversationID: "id", amountCents: 10_050, phone: "0712345678", remarks: "Refund",
                    resultURL: "https://example.com/r", queueTimeOutURL: "https://example.com/t"))
        }
        #expect(badPhone?.description.hasPrefix("Invalid PhoneNumber") == true)
        #expect(badURL?.description.hasPrefix("Invalid CallBackURL") == true)
        #expect(badPayout?.description.hasPrefix("Invalid Amount") == true)
    }

    @Test func nothingListeningIsNoAnswer() async {
        let error = await #expect(throws: DarajaError.self) { try await client.stkPush(push()) }
        #expect(error?.isNoAnswer == true)
    }

    @Test func secretsStayOutOfDescriptions() {
        let configuration = DarajaConfiguration(
            baseURL: "https://sandbox.example", consumerKey: "key-7f3a", consumerSecret: "secret-9c1d", shortcode: "174379",
            passkey: "passkey-2b8e", b2cShortcode: "600000", initiatorName: "api", securityCredential: "credential-5d0f")

        let described = [
            "\(configuration)", String(reflecting: configuration),
            Mirror(reflecting: configuration).children.map { "\($0.value)" }.joined(),
        ].joined()

        for secret in ["key-7f3a", "secret-9c1d", "passkey-2b8e", "credential-5d0f"] {
            #expect(!described.contains(secret))
        }
        #expect(described.contains("174379"))
    }
}

@Suite struct CallbackParsingTests {
    @Test func successReadsItemsByNameInAnyOrderWithBalanceWithoutValue() throws {
        // Setup: Daraja's order shuffled; Amount as Daraja writes it, 1.00.
        let body = """
            {"Body":{"stkCallback":{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_191220191020363925",
            "ResultCode":0,"ResultDesc":"The service request is processed successfully.","CallbackMetadata":{"Item":[
            {"Name":"PhoneNumber","Value":254708374149},{"Name":"Balance"},{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"},
            {"Name":"TransactionDate","Value":20191219102115},{"Name":"Amount","Value":1500.00}]}}}}
            """

        // Act
        let callback = try STKCallback.parse(Data(body.utf8))

        // Check
        #expect(callback.isSuccess)
        #expect(callback.checkoutRequestID == "ws_CO_191220191020363925")
        #expect(callback.merchantRequestID == "29115-34620561-1")
        let payment = try #require(callback.payment)
        #expect(payment.amountCents == 150_000)
        #expect(payment.amountShillings == 1_500)
        #expect(payment.receiptNumber == "NLJ7RT61SV")
        #expect(payment.phoneNumber == "254708374149")
        #expect(payment.transactionTimestamp == "20191219102115")
        #expect(payment.transactionDate == ISO8601DateFormatter().date(from: "2019-12-19T07:21:15Z"))
    }

    @Test func failureHasNoMetadata() throws {
        let body = """
            {"Body":{"stkCallback":{"MerchantRequestID":"1-2-1","CheckoutRequestID":"ws_CO_1","ResultCode":1032,
            "ResultDesc":"Request cancelled by user"}}}
            """

        let callback = try STKCallback.parse(Data(body.utf8))

        #expect(!callback.isSuccess)
        #expect(callback.resultCode == "1032")
        #expect(callback.resultDescription == "Request cancelled by user")
        #expect(callback.payment == nil)
    }

    @Test(arguments: [("\"TP40\"", "TP40"), ("\"0\"", "0"), ("\"1037\"", "1037")])
    func resultCodeMayBeAString(raw: String, expected: String) throws {
        let body = #"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"c","ResultCode":\#(raw),"ResultDesc":"d"}}}"#

        let callback = try STKCallback.parse(Data(body.utf8))

        #expect(callback.resultCode == expected)
        #expect(callback.isSuccess == (expected == "0"))
    }

    @Test func anUnreadableAmountStillParsesSoTheMoneyIsNotDropped() throws {
        let body = """
            {"Body":{"stkCallback":{"CheckoutRequestID":"ws_CO_2","ResultCode":0,"ResultDesc":"ok",
            "CallbackMetadata":{"Item":[{"Name":"Amount","Value":"1.005"},{"Name":"MpesaReceiptNumber","Value":"ABC"}]}}}}
            """

        let payment = try #require(try STKCallback.parse(Data(body.utf8)).payment)

        #expect(payment.amountCents == nil)
        #expect(payment.receiptNumber == "ABC")
    }

    @Test(arguments: ["", "{}", #"{"Body":{"stkCallback":{"ResultCode":0}}}"#, #"{"Result":{}}"#])
    func otherShapesAreRefused(body: String) {
        let error = #expect(throws: DarajaCallbackError.self) { try STKCallback.parse(Data(body.utf8)) }
        #expect(error?.description.hasPrefix("Malformed Daraja callback") == true)
    }

    @Test func b2cSuccessReadsResultParametersByKey() throws {
        let body = """
            {"Result":{"ResultType":0,"ResultCode":0,"ResultDesc":"The service request is processed successfully.",
            "OriginatorConversationID":"refund-42","ConversationID":"AG_20191219_00005797af5d7d75f652","TransactionID":"NLJ41HAY6Q",
            "ResultParameters":{"ResultParameter":[{"Key":"TransactionAmount","Value":10},{"Key":"TransactionReceipt","Value":"NLJ41HAY6Q"},
            {"Key":"ReceiverPartyPublicName","Value":"254708374149 - John Doe"},
            {"Key":"B2CChargesPaidAccountAvailableFunds","Value":-4510.00}]},
            "ReferenceData":{"ReferenceItem":{"Key":"QueueTimeoutURL","Value":"https://example.com/t"}}}}
            """

        let result = try B2CResult.parse(Data(body.utf8))

        #expect(result.isSuccess)
        #expect(result.originatorConversationID == "refund-42")
        #expect(result.conversationID == "AG_20191219_00005797af5d7d75f652")
        #expect(result.transactionID == "NLJ41HAY6Q")
        #expect(result.transactionReceipt == "NLJ41HAY6Q")
        #expect(result.transactionAmountCents == 1_000)
        #expect(result.receiverPartyPublicName == "254708374149 - John Doe")
        #expect(result.parameters["B2CChargesPaidAccountAvailableFunds"] == "-4510")
    }

    @Test func b2cFailureAndASingleParameterObject() throws {
        let failure = """
            {"Result":{"ResultType":0,"ResultCode":2001,"ResultDesc":"The initiator information is invalid.",
            "OriginatorConversationID":"refund-43","ConversationID":"AG_1","TransactionID":"NLJ0000000"}}
            """
        let single = """
            {"Result":{"ResultType":"0","ResultCode":"0","ResultDesc":"ok","OriginatorConversationID":"refund-44",
            "ResultParameters":{"ResultParameter":{"Key":"TransactionReceipt","Value":"QWE"}}}}
            """

        let failed = try B2CResult.parse(Data(failure.utf8))
        let succeeded = try B2CResult.parse(Data(single.utf8))

        #expect(!failed.isSuccess)
        #expect(failed.resultCode == "2001")
        #expect(failed.parameters.isEmpty)
        #expect(succeeded.isSuccess)
        #expect(succeeded.transactionReceipt == "QWE")
        #expect(succeeded.conversationID == nil)
    }
}

actor Counter {
    private(set) var value = 0

    func increment() -> Int {
        value += 1
        return value
    }
}
