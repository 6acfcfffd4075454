import Foundation
import HTTPTypes
import Server
import TestSupport
import Testing

@Suite struct AdminAuthorizationTests {
    /// Every admin route, with a body that would be valid for an admin.
    static func adminRoutes(_ cast: Cast) -> [(HTTPRequest.Method, String, JSON?)] {
        let someID = UUID().uuidString.lowercased()
        return [
            (.get, "/api/v1/admin/users", nil),
            (.get, "/api/v1/admin/users/\(cast.customerID)", nil),
            (.patch, "/api/v1/admin/users/\(cast.customerID)", ["role": "admin"]),
            (.get, "/api/v1/admin/hubs", nil),
            (.post, "/api/v1/admin/hubs", ["code": "X-1", "name": "X", "city": "X", "address": "X", "phone": "0711000000"]),
            (.get, "/api/v1/admin/hubs/\(cast.hubID)", nil),
            (.patch, "/api/v1/admin/hubs/\(cast.hubID)", ["name": "Renamed"]),
            (.get, "/api/v1/admin/hubs/\(cast.hubID)/staff", nil),
            (.post, "/api/v1/admin/hubs/\(cast.hubID)/staff", ["user_id": .string(cast.customerID)]),
            (.delete, "/api/v1/admin/hubs/\(cast.hubID)/staff/\(cast.customerID)", nil),
            (.get, "/api/v1/admin/zones", nil),
            (.post, "/api/v1/admin/zones", ["name": "Z", "hub_id": .string(cast.hubID), "delivery_fee_cents": 10000]),
            (.get, "/api/v1/admin/zones/\(cast.zoneID)", nil),
            (.patch, "/api/v1/admin/zones/\(cast.zoneID)", ["delivery_fee_cents": 30000]),
            (.get, "/api/v1/admin/merchant-applications", nil),
            (.post, "/api/v1/admin/merchant-applications/\(someID)/approve", ["home_hub_id": .string(cast.hubID)]),
            (.post, "/api/v1/admin/merchant-applications/\(someID)/reject", ["note": "no"]),
        ] + ["sales", "merchants", "hubs", "products", "payments", "refunds"].map { (.get, "/api/v1/admin/analytics/\($0)", nil) }
    }

    @Test func adminRoutesRefuseEveryOtherRole() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let hubsBefore = try await services.database.query("SELECT count(*) FROM hubs")[0].decode(Int.self)

            for (method, path, body) in Self.adminRoutes(cast) {
                for (role, token) in [("customer", cast.customer), ("merchant", cast.merchant), ("hub_staff", cast.staff)] {
                    // Act
                    let reply = try await http.send(method, path, json: body, token: token)
                    // Check
                    #expect(reply.status == 403, "\(role) \(method) \(path): \(reply.text)")
                    #expect(reply.json["code"].string == "forbidden")
                }
                let anonymous = try await http.send(method, path, json: body)
                #expect(anonymous.status == 401, "anonymous \(method) \(path)")
                #expect(anonymous.json["code"].string == "unauthorized")
            }

            // Nothing was changed by the refused calls.
            let hubsAfter = try await services.database.query("SELECT count(*) FROM hubs")[0].decode(Int.self)
            #expect(hubsAfter == hubsBefore)
            let roles = try await services.database.query("SELECT role FROM users WHERE email = 'customer@example.com'")
            #expect(try roles[0].decode(String.self) == "customer")
        }
    }

    @Test func theRolesOfTheCastAreWhatTheyClaim() async throws {
        try await TestApp.run { http, services in
            let cast = try await Cast.make(http, services)
            let merchant = try await http.send(.get, "/api/v1/auth/me", token: cast.merchant).json
            let staff = try await http.send(.get, "/api/v1/auth/me", token: cast.staff).json
            #expect(merchant["role"].string == "merchant")
            #expect(merchant["merchant"]["business_name"].string == "Shop")
            #expect(merchant["merchant"]["home_hub"]["id"].string == cast.hubID)
            #expect(merchant["merchant"]["commission_bps"].int == 1000)
            #expect(staff["role"].string == "hub_staff")
            #expect(staff["hub"]["id"].string == cast.hubID)
            #expect(staff["hub"]["code"].string == "NBO-T1")
        }
    }
}
