import Foundation
import Server
import TestSupport
import Testing

@Suite struct AuthTests {
    @Test func registerLoginAndMe() async throws {
        try await TestApp.run { http, _ in
            // Act
            let session = try await http.register("  Wanjiku@Example.COM ", phone: "+254 712 000 111", name: "Wanjiku")
            let me = try await http.send(.get, "/api/v1/auth/me", token: session["access_token"].string)
            let login = try await http.login("wanjiku@example.com")

            // Check
            #expect(session["user"]["email"].string == "wanjiku@example.com")
            #expect(session["user"]["phone"].string == "254712000111")
            #expect(session["user"]["role"].string == "customer")
            #expect(session["token_type"].string == "Bearer")
            #expect(session["expires_in"].int == 900)
            #expect(session["refresh_token"].string?.count ?? 0 >= 40)
            #expect(me.status == 200)
            #expect(me.json["id"] == session["user"]["id"])
            #expect(me.json["is_active"].bool == true)
            #expect(login.status == 200)
            #expect(login.json["user"]["id"] == session["user"]["id"])
            #expect(login.json["access_token"].string != session["access_token"].string)
        }
    }

    @Test func emailsAreUniqueWhateverTheirCase() async throws {
        try await TestApp.run { http, _ in
            try await http.register("amina@example.com")
            let duplicate = try await http.send(
                .post, "/api/v1/auth/register",
                json: ["email": "AMINA@example.com", "password": .string(password), "full_name": "Other", "phone": "0712345679"])
            expectProblem(duplicate, 409, "email_taken")
        }
    }

    @Test func registrationRulesAreValidationErrors() async throws {
        try await TestApp.run { http, services in
            let reply = try await http.send(
                .post, "/api/v1/auth/register",
                json: ["email": "not-an-email", "password": "short", "full_name": " ", "phone": "12345"])
            expectProblem(reply, 422, "validation_failed")
            let fields = Set(reply.json["errors"].array.compactMap { $0["field"].string })
            #expect(fields == ["email", "password", "full_name", "phone"])
            let users = try await services.database.query("SELECT count(*) FROM users")
            #expect(try users[0].decode(Int.self) == 0)
        }
    }

    @Test func wrongPasswordsAndUnknownEmailsAreRefusedAlike() async throws {
        try await TestApp.run { http, _ in
            try await http.register("otieno@example.com")
            let wrong = try await http.login("otieno@example.com", "wrong password 123")
            let unknown = try await http.login("nobody@example.com", "wrong password 123")
            expectProblem(wrong, 401, "unauthorized")
            expectProblem(unknown, 401, "unauthorized")
            #expect(wrong.json["detail"] == unknown.json["detail"])
            let anonymous = try await http.send(.get, "/api/v1/auth/me")
            expectProblem(anonymous, 401, "unauthorized")
            let forged = try await http.send(.get, "/api/v1/auth/me", token: "eyJhbGciOiJIUzI1NiJ9.e30.forged")
            expectProblem(forged, 401, "unauthorized")
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        try await TestApp.run { http, _ in
            // Setup
            let session = try await http.register("baraka@example.com")
            let first = session["refresh_token"]

            // Act
            let rotated = try await http.send(.post, "/api/v1/auth/refresh", json: ["refresh_token": first])
            let second = rotated.json["refresh_token"]
            let reuse = try await http.send(.post, "/api/v1/auth/refresh", json: ["refresh_token": first])
            let afterReuse = try await http.send(.post, "/api/v1/auth/refresh", json: ["refresh_token": second])

            // Check
            #expect(rotated.status == 200)
            #expect(second.string != nil && second != first)
            #expect(rotated.json["user"]["email"].string == "baraka@example.com")
            expectProblem(reuse, 401, "unauthorized")
            expectProblem(afterReuse, 401, "unauthorized")  // the whole family is revoked
            let other = try await http.login("baraka@example.com")
            let independent = try await http.send(.post, "/api/v1/auth/refresh", json: ["refresh_token": other.json["refresh_token"]])
            #expect(independent.status == 200)  // another login's family is untouched
        }
    }

    @Test func logoutRevokesTheRefreshToken() async throws {
        try await TestApp.run { http, _ in
            let session = try await http.register("njeri@example.com")
            let logout = try await http.send(
                .post, "/api/v1/auth/logout", json: ["refresh_token": session["refresh_token"]], token: session["access_token"].string)
            let refresh = try await http.send(.post, "/api/v1/auth/refresh", json: ["refresh_token": session["refresh_token"]])
            #expect(logout.status == 204)
            expectProblem(refresh, 401, "unauthorized")
        }
    }

    @Test func aDeactivatedUserIsLockedOutAtOnce() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let session = try await http.login("customer@example.com")
            #expect(try await http.send(.get, "/api/v1/auth/me", token: cast.customer).status == 200)

            // Act
            let deactivate = try await http.send(
                .patch, "/api/v1/admin/users/\(cast.customerID)", json: ["is_active": false], token: cast.admin)

            // Check
            #expect(deactivate.status == 200)
            #expect(deactivate.json["is_active"].bool == false)
            expectProblem(try await http.send(.get, "/api/v1/auth/me", token: cast.customer), 401, "unauthorized")
            expectProblem(try await http.login("customer@example.com"), 401, "unauthorized")
            expectProblem(
                try await http.send(.post, "/api/v1/auth/refresh", json: ["refresh_token": session.json["refresh_token"]]), 401,
                "unauthorized")

            let reactivate = try await http.send(
                .patch, "/api/v1/admin/users/\(cast.customerID)", json: ["is_active": true], token: cast.admin)
            #expect(reactivate.status == 200)
            #expect(try await http.send(.get, "/api/v1/auth/me", token: cast.customer).status == 200)
        }
    }

    @Test func aRoleChangeTakesEffectWithTheSameToken() async throws {
        try await TestApp.run { http, services in
            let cast = try await Cast.make(http, services)
            expectProblem(try await http.send(.get, "/api/v1/admin/users", token: cast.customer), 403, "forbidden")

            let promote = try await http.send(.patch, "/api/v1/admin/users/\(cast.customerID)", json: ["role": "admin"], token: cast.admin)

            #expect(promote.json["role"].string == "admin")
            #expect(try await http.send(.get, "/api/v1/admin/users", token: cast.customer).status == 200)
        }
    }

    @Test func loginIsRateLimitedPerEmail() async throws {
        // The clock stands still: the limit's window cannot roll over between the attempts.
        try await TestApp.run(settings: ["AUTH_RATE_LIMIT_PER_EMAIL": "3"], effects: TestClock().effects) { http, _ in
            try await http.register("kiprop@example.com")
            for _ in 1...3 {
                #expect(try await http.login("kiprop@example.com", "wrong password 123").status == 401)
            }
            let limited = try await http.login("KIPROP@example.com")
            expectProblem(limited, 429, "rate_limited")
            let retryAfter = Int(limited.headers[.retryAfter] ?? "") ?? 0
            #expect((1...60).contains(retryAfter))
            // Another email from the same address is still let through.
            try await http.register("other@example.com")
            #expect(try await http.login("other@example.com").status == 200)
        }
    }

    @Test func loginAndRegisterAreRateLimitedPerIP() async throws {
        try await TestApp.run(settings: ["AUTH_RATE_LIMIT_PER_IP": "2"], effects: TestClock().effects) { http, services in
            try await http.register("a@example.com")
            try await http.register("b@example.com")
            let third = try await http.send(
                .post, "/api/v1/auth/register",
                json: ["email": "c@example.com", "password": .string(password), "full_name": "C", "phone": "0712345678"])
            expectProblem(third, 429, "rate_limited")
            #expect(third.headers[.retryAfter] != nil)
            let users = try await services.database.query("SELECT count(*) FROM users WHERE email = 'c@example.com'")
            #expect(try users[0].decode(Int.self) == 0)
            #expect(try await http.login("a@example.com").status == 200)
            #expect(try await http.login("b@example.com").status == 200)
            expectProblem(try await http.login("a@example.com"), 429, "rate_limited")
        }
    }
}
