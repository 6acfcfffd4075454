import Core
import Foundation
import Identity
import Server
import TestSupport
import Testing

@Suite struct IdentityConcurrencyTests {
    @Test func aRefreshTokenIsSpentOnceUnderRacingRefreshes() async throws {
        try await withServices { services in
            // Setup
            let session = try await services.customer("race@example.com")

            // Act: ten clients present the same token at once.
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 {
                    group.addTask { (try? await services.auth.refresh(token: session.refreshToken)) != nil }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }

            // Check: exactly one rotation; the losers count as reuse and revoke the family.
            #expect(outcomes.filter { $0 }.count == 1)
            let active = try await services.database.query(
                "SELECT count(*) FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL")
            let used = try await services.database.query("SELECT count(*) FROM refresh_tokens WHERE used_at IS NOT NULL")
            #expect(try used[0].decode(Int.self) == 1)
            #expect(try active[0].decode(Int.self) <= 1)
        }
    }

    @Test func racingStaffAssignmentsLeaveOneHub() async throws {
        try await withServices { services in
            // Setup
            let hubs = [try await services.hub("H-1"), try await services.hub("H-2"), try await services.hub("H-3")]
            let user = try await services.customer("staff@example.com").user.id

            // Act
            let results = await withTaskGroup(of: Bool.self) { group in
                for hub in hubs { group.addTask { (try? await services.staff.assign(userID: user, to: hub)) != nil } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }

            // Check
            #expect(results.filter { $0 }.count == 1)
            let memberships = try await services.database.query("SELECT count(*) FROM hub_staff WHERE user_id = \(user)")
            #expect(try memberships[0].decode(Int.self) == 1)
            let role = try await services.database.query("SELECT role FROM users WHERE id = \(user)")
            #expect(try role[0].decode(String.self) == "hub_staff")
        }
    }

    @Test func racingDecisionsOnOneApplicationLeaveOneOutcome() async throws {
        try await withServices { services in
            // Setup
            let admin = try await services.admin()
            let hub = try await services.hub("H-1")
            let zone = try await services.places.createZone(.init(name: "Z", hubID: hub, deliveryFeeCents: 10_000)).id
            let applicant = try await services.customer("seller@example.com")
            let principal = try await services.auth.authenticate(bearer: applicant.accessToken)
            let application = try await services.merchantApplications.submit(
                .init(businessName: "Seller", phone: "0733000000", zoneID: zone, description: nil), by: principal)

            // Act: three approvals and three rejections at once.
            let results = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        if index % 2 == 0 {
                            return (try? await services.merchantApplications.approve(
                                application.id, homeHubID: hub, commissionBps: nil, note: nil, by: admin)) != nil
                        }
                        return (try? await services.merchantApplications.reject(application.id, note: nil, by: admin)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }

            // Check
            #expect(results.filter { $0 }.count == 1)
            let merchants = try await services.database.query("SELECT count(*) FROM merchants")
            let status = try await services.database.query("SELECT status FROM merchant_applications")
            let role = try await services.database.query("SELECT role FROM users WHERE id = \(applicant.user.id)")
            let approved = try status[0].decode(String.self) == "approved"
            #expect(try merchants[0].decode(Int.self) == (approved ? 1 : 0))
            #expect(try role[0].decode(String.self) == (approved ? "merchant" : "customer"))
        }
    }

    @Test func createAdminIsIdempotentAndPromotes() async throws {
        try await withServices { services in
            let customer = try await services.customer("boss@example.com")
            let created = try await services.users.createAdmin(
                email: "BOSS@example.com", password: "another password", fullName: "Boss", phone: "0700000000", hasher: services.passwords)
            #expect(created == false)
            let user = try await services.users.get(customer.user.id)
            #expect(user.role == .admin)
            // The new password works; the old one does not.
            _ = try await services.auth.login(email: "boss@example.com", password: "another password", clientIP: "1")
            await #expect(throws: Problem.self) {
                try await services.auth.login(email: "boss@example.com", password: password, clientIP: "1")
            }
        }
    }
}
