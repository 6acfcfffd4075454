import Configuration
import Core
import Foundation
import HummingbirdTesting
import Logging
import PostgresNIO
import Server
import TestSupport
import Testing

@Suite struct DatabaseOutageTests {
    @Test func withTheDatabaseDownRequestsFailFastWith503() async throws {
        // Setup: a service whose database does not answer (nothing listens on the port).
        let config = try TestApp.config(
            databaseURL: "postgres://postgres@127.0.0.1:9/nothing", settings: ["DATABASE_TIMEOUT_SECONDS": "1"])
        let logger = Logger(label: "outage")
        let database = try Services.makeDatabase(config: config, logger: logger)
        let services = await Services(config: config, database: database)
        let app = try HubRouteApplication.build(services: services, logger: logger)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            try await app.test(.live) { client in
                // Act
                let started = ContinuousClock.now
                let ready = try await client.execute(uri: "/ready", method: .get)
                let login = try await client.execute(
                    uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"email": "a@example.com", "password": "whatever password"}"#))
                let elapsed = ContinuousClock.now - started

                // Check: both answered within about the database timeout each, with the reason.
                #expect(ready.status.code == 503)
                #expect(String(buffer: ready.body).contains("unreachable"))
                #expect(login.status.code == 503)
                #expect(login.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: login.body).contains("database_unavailable"))
                #expect(elapsed < .seconds(5))
                let health = try await client.execute(uri: "/health", method: .get)
                #expect(health.status.code == 200)
            }
        }
    }
}
