import AsyncHTTPClient
import DarajaSimulator
import Foundation
import Testing

/// The simulator refuses what Daraja refuses, in Daraja's error shape. Raw requests, so the
/// client's own validation does not stand in the way.
@Suite struct SimulatorValidationTests {
    static let pushPath = "/mpesa/stkpush/v1/processrequest"

    /// A valid push body with one field replaced by raw JSON text.
    static func pushBody(replacing field: String? = nil, with rawValue: String = "") -> String {
        let timestamp = "20261124000509"
        let password = Data("174379\(DarajaHarness.passkey)\(timestamp)".utf8).base64EncodedString()
        var fields: [(String, String)] = [
            ("BusinessShortCode", #""174379""#), ("Password", "\"\(password)\""), ("Timestamp", "\"\(timestamp)\""),
            ("TransactionType", #""CustomerPayBillOnline""#), ("Amount", "10"), ("PartyA", #""254712345600""#),
            ("PartyB", #""174379""#), ("PhoneNumber", #""254712345600""#), ("CallBackURL", #""https://example.com/cb""#),
            ("AccountReference", #""HR-1""#), ("TransactionDesc", #""Payment""#),
        ]
        if let field, let index = fields.firstIndex(where: { $0.0 == field }) {
            fields[index].1 = rawValue
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    @Test(arguments: [
        ("Amount", "10.5"), ("Amount", #""10""#), ("Amount", "0"), ("Amount", "250001"),
        ("PhoneNumber", #""0712345600""#), ("PartyA", #""254812345600""#), ("CallBackURL", #""ftp://example.com""#),
        ("AccountReference", #""ABCDEFGHIJKLM""#), ("TransactionDesc", #""ABCDEFGHIJKLMN""#),
        ("TransactionType", #""CustomerPayBill""#), ("Timestamp", #""20261324000509""#), ("BusinessShortCode", #""123""#),
    ])
    func invalidFieldsAreRefusedWithDarajasBadRequest(field: String, rawValue: String) async throws {
        try await DarajaHarness.run { harness in
            let token = try await harness.rawToken()
            let json = Self.pushBody(replacing: field, with: rawValue)

            let (status, body) = try await harness.rawPost(Self.pushPath, json: json, bearer: token)

            #expect(status == 400)
            #expect(body["errorCode"] == "400.002.02")
            #expect(body["errorMessage"] == "Bad Request - Invalid \(field)")
            #expect(body["requestId"]?.isEmpty == false)
        }
    }

    @Test func aValidRawPushIsAccepted() async throws {
        try await DarajaHarness.run { harness in
            let token = try await harness.rawToken()

            let (status, body) = try await harness.rawPost(Self.pushPath, json: Self.pushBody(), bearer: token)

            #expect(status == 200)
            #expect(body["ResponseCode"] == "0")
            #expect(body["CheckoutRequestID"]?.hasPrefix("ws_CO_") == true)
            #expect(body["MerchantRequestID"]?.isEmpty == false)
        }
    }

    @Test func aMissingOrReplacedBearerIsAnInvalidAccessToken() async throws {
        try await DarajaHarness.run { harness in
            let firstToken = try await harness.rawToken()
            _ = try await harness.rawToken()

            let missing = try await harness.rawPost(Self.pushPath, json: Self.pushBody(), bearer: nil)
            let replaced = try await harness.rawPost(Self.pushPath, json: Self.pushBody(), bearer: firstToken)

            for answer in [missing, replaced] {
                #expect(answer.status == 404)
                #expect(answer.body["errorCode"] == "404.001.03")
                #expect(answer.body["errorMessage"] == "Invalid Access Token")
            }
        }
    }

    @Test func theTokenAnswerSaysExpiresInAsAString() async throws {
        try await DarajaHarness.run { harness in
            var request = HTTPClientRequest(url: harness.baseURL + "/oauth/v1/generate?grant_type=client_credentials")
            request.headers.add(
                name: "Authorization",
                value: "Basic " + Data("\(DarajaHarness.consumerKey):\(DarajaHarness.consumerSecret)".utf8).base64EncodedString())

            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            let text = String(decoding: try await response.body.collect(upTo: 1 << 16).readableBytesView, as: UTF8.self)

            #expect(response.status.code == 200)
            #expect(text.contains(#""expires_in":"3599""#))
            #expect(text.contains(#""access_token":""#))
        }
    }
}
