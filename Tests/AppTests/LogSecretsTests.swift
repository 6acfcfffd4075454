import Foundation
import Server
import TestSupport
import Testing

/// What reaches the logs when requests fail in ways nobody planned for (issue 9): the
/// operation, route template, request id and the error's type, never a header, a body, a raw
/// path or a configured secret.
@Suite struct LogSecretsTests {
    static let secrets = [
        "JWT_SECRET": "jwt-secret-4f1e9d8c7b6a5f4e3d2c1b0a9f8e7d6c",
        "HANDOVER_CODE_KEY": "handover-key-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d",
        "MPESA_CALLBACK_SECRET": "callback-secret-9e8d7c6b5a4f3e2d",
        "DARAJA_PASSKEY": "passkey-5c4b3a2f1e0d",
        "DARAJA_CONSUMER_SECRET": "consumer-secret-7a6b5c4d",
    ]

    @Test func unhandledErrorsLogNoSecretTokenPasswordOrPath() async throws {
        let capture = LogCapture()
        try await TestApp.run(settings: Self.secrets, logger: capture.logger()) { http, services in
            // Setup: an account and its tokens, then tables the requests need are gone, so the
            // failures are ones no handler expects.
            let password = "a password nobody may log"
            let session = try await http.send(
                .post, "/api/v1/auth/register",
                json: ["email": "victim@example.com", "password": .string(password), "full_name": "Victim", "phone": "0712345678"]
            ).json
            let accessToken = session["access_token"].string ?? "missing"
            let refreshToken = session["refresh_token"].string ?? "missing"
            for table in ["refresh_tokens", "hub_staff", "unmatched_callbacks", "payments"] {
                try await services.database.query(.init(unsafeSQL: "ALTER TABLE \(table) RENAME TO \(table)_gone"))
            }
            let callbackPath = "/api/v1/payments/mpesa/callback/\(Self.secrets["MPESA_CALLBACK_SECRET"]!)"

            // Act
            let login = try await http.send(
                .post, "/api/v1/auth/login", json: ["email": "victim@example.com", "password": .string(password)])
            let refresh = try await http.send(.post, "/api/v1/auth/refresh", json: ["refresh_token": .string(refreshToken)])
            let me = try await http.send(.get, "/api/v1/auth/me", token: accessToken)
            let callback = try await http.send(
                .post, callbackPath,
                rawBody: #"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"ws_CO_9","ResultCode":1032,"ResultDesc":"Cancelled"}}}"#)

            // Check: each failed as a plain 500, and was logged...
            for reply in [login, refresh, me, callback] {
                #expect(reply.status == 500, "\(reply.text)")
                #expect(reply.json["code"].string == "internal_error")
                #expect(!reply.text.contains("refresh_tokens"))
            }
            let errors = capture.all.filter { $0.hasPrefix("error") }
            #expect(errors.count >= 4)
            #expect(errors.allSatisfy { $0.contains("request_id=") && $0.contains("route=") && $0.contains("error=PSQLError") })
            #expect(errors.contains { $0.contains("route=/api/v1/payments/mpesa/callback/{secret}") })
            // ... without anything a reader of the logs could use.
            let forbidden = Array(Self.secrets.values) + [password, accessToken, refreshToken, callbackPath, "Bearer", "victim@example.com"]
            for line in capture.all {
                for secret in forbidden {
                    #expect(!line.contains(secret), "a log line holds \(secret.prefix(12))…: \(line.prefix(200))")
                }
            }
        }
    }
}
