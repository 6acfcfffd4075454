import Foundation
import HTTPTypes
@testable import Server
import TestSupport
import Testing

@Suite struct HTTPConventionsTests {
    @Test func malformedJSONIs400() async throws {
        try await TestApp.run { http, _ in
            for body in ["{", "not json", "{\"email\": }", "[1,2"] {
                let reply = try await http.send(.post, "/api/v1/auth/login", rawBody: body)
                expectProblem(reply, 400, "malformed_request")
            }
        }
    }

    @Test func wellFormedButInvalidInputIs422NamingTheField() async throws {
        try await TestApp.run { http, services in
            let cast = try await Cast.make(http, services)
            let cases: [(HTTPRequest.Method, String, String, String)] = [
                (.post, "/api/v1/auth/login", #"{"email": 42, "password": "x"}"#, "email"),
                (.post, "/api/v1/auth/login", #"{"email": "a@b.c"}"#, "password"),
                (.post, "/api/v1/auth/login", #"{"email": null, "password": "x"}"#, "email"),
                (.patch, "/api/v1/admin/users/\(cast.customerID)", #"{"role": "superuser"}"#, "role"),
                (.patch, "/api/v1/admin/users/\(cast.customerID)", #"{"is_active": "yes"}"#, "is_active"),
                (.post, "/api/v1/admin/zones", #"{"name": "Z", "hub_id": "x", "delivery_fee_cents": "100"}"#, "delivery_fee_cents"),
                (.post, "/api/v1/admin/zones", #"{"name": "Z", "hub_id": "x", "delivery_fee_cents": 1.5}"#, "body"),
            ]
            for (method, path, body, field) in cases {
                let reply = try await http.send(method, path, token: cast.admin, rawBody: body)
                expectProblem(reply, 422, "validation_failed")
                #expect(reply.json["errors"][0]["field"].string == field, "\(body): \(reply.text)")
            }
            let role = try await services.database.query("SELECT role FROM users WHERE id = \(UUID(uuidString: cast.customerID)!)")
            #expect(try role[0].decode(String.self) == "customer")
        }
    }

    /// Request bodies are `additionalProperties: false` in openapi.yaml: a member the request does
    /// not have (a typo of an optional field, say) is refused by name instead of ignored.
    @Test func unknownBodyMembersAre422NamingTheMember() async throws {
        try await TestApp.run { http, services in
            let cast = try await Cast.make(http, services)

            let typo = try await http.send(
                .patch, "/api/v1/admin/users/\(cast.customerID)", token: cast.admin, rawBody: #"{"is_activ": false}"#)
            let merchant = try await http.send(
                .patch, "/api/v1/admin/users/\(cast.customerID)", token: cast.admin, rawBody: #"{"role": "merchant"}"#)
            let register = try await http.send(
                .post, "/api/v1/auth/register",
                rawBody: #"{"email": "x@example.com", "password": "long enough password", "full_name": "X Y", "phone": "0712345678", "role": "admin"}"#)

            expectProblem(typo, 422, "validation_failed")
            #expect(typo.json["errors"][0]["field"].string == "is_activ")
            #expect(typo.json["errors"][0]["message"].string == "is not a field of this request")
            expectProblem(merchant, 422, "validation_failed")
            #expect(merchant.json["errors"][0]["field"].string == "role")
            expectProblem(register, 422, "validation_failed")
            #expect(register.json["errors"][0]["field"].string == "role")
            let rows = try await services.database.query(
                "SELECT role, is_active FROM users WHERE id = \(UUID(uuidString: cast.customerID)!)")
            let (role, active) = try rows[0].decode((String, Bool).self)
            #expect(role == "customer" && active)
            #expect(try await services.database.query("SELECT 1 FROM users WHERE email = 'x@example.com'").isEmpty)
        }
    }

    @Test func badParametersAreClientErrors() async throws {
        try await TestApp.run { http, services in
            let cast = try await Cast.make(http, services)
            let badLimit = try await http.send(.get, "/api/v1/admin/users?limit=abc", token: cast.admin)
            expectProblem(badLimit, 422, "validation_failed")
            let bigLimit = try await http.send(.get, "/api/v1/admin/users?limit=500", token: cast.admin)
            expectProblem(bigLimit, 422, "validation_failed")
            let badEnum = try await http.send(.get, "/api/v1/admin/users?role=king", token: cast.admin)
            #expect((400..<500).contains(badEnum.status))
            #expect(badEnum.contentType == "application/problem+json")
            let badCursor = try await http.send(.get, "/api/v1/admin/users?cursor=zzz", token: cast.admin)
            expectProblem(badCursor, 422, "invalid_cursor")
            let noBody = try await http.send(.post, "/api/v1/auth/login")
            #expect((400..<500).contains(noBody.status))
            #expect(noBody.contentType == "application/problem+json")
        }
    }

    @Test func oversizedBodiesAre413() async throws {
        try await TestApp.run { http, _ in
            let huge = "{\"email\": \"" + String(repeating: "a", count: 1 << 20) + "\", \"password\": \"x\"}"
            let reply = try await http.send(.post, "/api/v1/auth/login", rawBody: huge)
            expectProblem(reply, 413, "payload_too_large")
        }
    }

    @Test func unknownRoutesAre404Problems() async throws {
        try await TestApp.run { http, _ in
            expectProblem(try await http.send(.get, "/api/v1/nothing-here"), 404, "not_found")
            expectProblem(try await http.send(.post, "/nope", rawBody: "{}"), 404, "not_found")
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        try await TestApp.run { http, _ in
            let health = try await http.send(.get, "/health")
            let ready = try await http.send(.get, "/ready")
            let metrics = try await http.send(.get, "/metrics")

            #expect(health.status == 200)
            #expect(health.json["status"].string == "ok")
            #expect(ready.status == 200)
            #expect(ready.json == ["status": "ready", "database": "ok", "migrations": "current"])
            #expect(metrics.status == 200)
            #expect(metrics.text.contains(#"http_requests_total{method="GET",route="/health",status="200"} 1"#))
            #expect(metrics.text.contains("http_request_duration_seconds_bucket"))
            #expect(health.headers[HTTPField.Name("X-Request-Id")!]?.isEmpty == false)
            let echoed = try await http.send(.get, "/health", headers: ["X-Request-Id": "abc-123"])
            #expect(echoed.headers[HTTPField.Name("X-Request-Id")!] == "abc-123")

            // The same route and status count on in the same series; another status has its own.
            _ = try await http.send(.get, "/api/v1/nothing-here")
            let again = try await http.send(.get, "/metrics")
            #expect(again.text.contains(#"http_requests_total{method="GET",route="/health",status="200"} 2"#))
            #expect(again.text.contains(#"http_requests_total{method="GET",route="/metrics",status="200"} 1"#))
            #expect(again.text.contains(#"status="404"} 1"#))
            #expect(again.text.contains(#"http_request_duration_seconds_count{method="GET",route="/health"} 2"#))
        }
    }

    @Test func readinessReportsPendingMigrations() async throws {
        try await TestApp.run { http, services in
            _ = try await services.database.query("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
            let ready = try await http.send(.get, "/ready")
            #expect(ready.status == 503)
            #expect(ready.json["migrations"].string == "pending")
        }
    }

    @Test func theOpenAPIDocumentIsServedAsYAMLAndJSON() async throws {
        try await TestApp.run { http, _ in
            let yaml = try await http.send(.get, "/openapi.yaml")
            let json = try await http.send(.get, "/openapi.json")
            #expect(yaml.status == 200)
            #expect(yaml.text.hasPrefix("openapi: \"3.1.0\""))
            #expect(json.status == 200)
            #expect(json.json["openapi"].string == "3.1.0")
            #expect(json.json["paths"]["/api/v1/auth/login"]["post"]["operationId"].string == "login")
            #expect(json.json["paths"].keys.contains("/api/v1/admin/merchant-applications/{id}/approve"))
        }
    }

    /// The bulk reads run off the event loops by operation id: a renamed operation would
    /// quietly go back onto them.
    @Test func everyOffloadedOperationIsInTheDocument() async throws {
        try await TestApp.run { http, _ in
            let paths = try await http.send(.get, "/openapi.json").json["paths"]
            let operations = Set(paths.keys.flatMap { path in paths[path].keys.compactMap { paths[path][$0]["operationId"].string } })
            #expect(BulkReadOffload.operations.isSubset(of: operations), "\(BulkReadOffload.operations.subtracting(operations))")
        }
    }
}
