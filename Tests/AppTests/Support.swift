import Foundation
import Server
import TestSupport
import Testing

let password = "correct horse battery"

extension HTTPClient {
    /// Registers a customer and returns the session's JSON.
    @discardableResult
    func register(_ email: String, phone: String = "0712345678", name: String = "Test Person") async throws -> JSON {
        let reply = try await send(
            .post, "/api/v1/auth/register",
            json: ["email": .string(email), "password": .string(password), "full_name": .string(name), "phone": .string(phone)])
        #expect(reply.status == 201, "register \(email): \(reply.text)")
        return reply.json
    }

    func login(_ email: String, _ secret: String = password) async throws -> Reply {
        try await send(.post, "/api/v1/auth/login", json: ["email": .string(email), "password": .string(secret)])
    }

    func accessToken(_ email: String) async throws -> String {
        let reply = try await login(email)
        #expect(reply.status == 200, "login \(email): \(reply.text)")
        return reply.json["access_token"].string ?? ""
    }

    func createHub(_ code: String, admin: String) async throws -> JSON {
        let reply = try await send(
            .post, "/api/v1/admin/hubs", json: [
                "code": .string(code), "name": .string("Hub \(code)"), "city": "Nairobi", "address": "Street 1",
                "phone": "0711000000",
            ], token: admin)
        #expect(reply.status == 201, "create hub: \(reply.text)")
        return reply.json
    }

    func createZone(_ name: String, hubID: String, feeCents: Int = 20_000, admin: String) async throws -> JSON {
        let reply = try await send(
            .post, "/api/v1/admin/zones",
            json: ["name": .string(name), "hub_id": .string(hubID), "delivery_fee_cents": .number(Double(feeCents))], token: admin)
        #expect(reply.status == 201, "create zone: \(reply.text)")
        return reply.json
    }
}

/// One signed-in user of every role, plus a hub and a zone.
struct Cast {
    let admin: String
    let customer: String
    let merchant: String
    let staff: String
    let hubID: String
    let zoneID: String
    let customerID: String

    static func make(_ http: HTTPClient, _ services: Services) async throws -> Cast {
        try await services.users.createAdmin(
            email: "admin@example.com", password: password, fullName: "Admin", phone: "0700000000", hasher: services.passwords)
        let admin = try await http.accessToken("admin@example.com")
        let hub = try await http.createHub("NBO-T1", admin: admin)
        let hubID = hub["id"].string!
        let zone = try await http.createZone("Test Zone", hubID: hubID, admin: admin)

        let customerSession = try await http.register("customer@example.com")
        let staffSession = try await http.register("staff@example.com")
        let assigned = try await http.send(
            .post, "/api/v1/admin/hubs/\(hubID)/staff", json: ["user_id": staffSession["user"]["id"]], token: admin)
        #expect(assigned.status == 201, "assign staff: \(assigned.text)")

        let merchantSession = try await http.register("merchant@example.com")
        let merchantToken = merchantSession["access_token"].string!
        let application = try await http.send(
            .post, "/api/v1/merchant-applications",
            json: ["business_name": "Shop", "phone": "0722000000", "zone_id": zone["id"]], token: merchantToken)
        #expect(application.status == 201, "apply: \(application.text)")
        let approval = try await http.send(
            .post, "/api/v1/admin/merchant-applications/\(application.json["id"].string!)/approve",
            json: ["home_hub_id": .string(hubID)], token: admin)
        #expect(approval.status == 200, "approve: \(approval.text)")

        return Cast(
            admin: admin, customer: customerSession["access_token"].string!, merchant: merchantToken,
            staff: staffSession["access_token"].string!, hubID: hubID, zoneID: zone["id"].string!,
            customerID: customerSession["user"]["id"].string!)
    }
}

/// Checks a reply is a problem document with the given status and code.
func expectProblem(_ reply: Reply, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == status, "\(reply.text)", sourceLocation: sourceLocation)
    #expect(reply.contentType == "application/problem+json", sourceLocation: sourceLocation)
    #expect(reply.json["code"].string == code, "\(reply.text)", sourceLocation: sourceLocation)
    #expect(reply.json["status"].int == status, sourceLocation: sourceLocation)
    #expect(reply.json["title"].string != nil && reply.json["detail"].string != nil, sourceLocation: sourceLocation)
}
