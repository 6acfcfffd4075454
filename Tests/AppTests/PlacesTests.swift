import Foundation
import Server
import TestSupport
import Testing

@Suite struct PlacesTests {
    @Test func hubsAreCreatedReadUpdatedAndListed() async throws {
        try await TestApp.run { http, services in
            let cast = try await Cast.make(http, services)
            let created = try await http.send(
                .post, "/api/v1/admin/hubs",
                json: ["code": "msa-ctr", "name": "Mombasa", "city": "Mombasa", "address": "Digo Road", "phone": "0711222333",
                       "opening_hours": "Mon-Sat 8-18"], token: cast.admin)
            #expect(created.status == 201)
            #expect(created.json["code"].string == "MSA-CTR")
            #expect(created.json["phone"].string == "254711222333")
            #expect(created.json["is_active"].bool == true)
            let id = created.json["id"].string!

            let updated = try await http.send(.patch, "/api/v1/admin/hubs/\(id)", json: ["is_active": false, "name": "Mombasa Central"], token: cast.admin)
            #expect(updated.json["name"].string == "Mombasa Central")
            #expect(updated.json["is_active"].bool == false)
            #expect(updated.json["city"].string == "Mombasa")
            #expect(try await http.send(.get, "/api/v1/admin/hubs/\(id)", token: cast.admin).json == updated.json)

            let firstPage = try await http.send(.get, "/api/v1/admin/hubs?limit=1", token: cast.admin).json
            #expect(firstPage["items"].array.count == 1)
            #expect(firstPage["items"][0]["id"].string == id)  // newest first
            let cursor = firstPage["next_cursor"].string!
            let secondPage = try await http.send(.get, "/api/v1/admin/hubs?limit=1&cursor=\(cursor)", token: cast.admin).json
            #expect(secondPage["items"][0]["id"].string == cast.hubID)
            #expect(secondPage["next_cursor"].isNull)
        }
    }

    @Test func hubRulesAreEnforced() async throws {
        try await TestApp.run { http, services in
            let cast = try await Cast.make(http, services)
            let duplicate = try await http.send(
                .post, "/api/v1/admin/hubs",
                json: ["code": "nbo-t1", "name": "X", "city": "X", "address": "X", "phone": "0711000000"], token: cast.admin)
            expectProblem(duplicate, 409, "hub_code_taken")
            let invalid = try await http.send(
                .post, "/api/v1/admin/hubs", json: ["code": "NBO CBD!", "name": "", "city": "X", "address": "X", "phone": "999"],
                token: cast.admin)
            expectProblem(invalid, 422, "validation_failed")
            #expect(Set(invalid.json["errors"].array.compactMap { $0["field"].string }) == ["code", "name", "phone"])
            let unknown = try await http.send(.get, "/api/v1/admin/hubs/\(UUID().uuidString)", token: cast.admin)
            expectProblem(unknown, 404, "not_found")
            let notAnID = try await http.send(.get, "/api/v1/admin/hubs/not-a-uuid", token: cast.admin)
            expectProblem(notAnID, 404, "not_found")
        }
    }

    @Test func zonesChargeWholeShillingsAndNeedAHub() async throws {
        try await TestApp.run { http, services in
            let cast = try await Cast.make(http, services)
            let cents = try await http.send(
                .post, "/api/v1/admin/zones", json: ["name": "Odd", "hub_id": .string(cast.hubID), "delivery_fee_cents": 15050],
                token: cast.admin)
            expectProblem(cents, 422, "validation_failed")
            #expect(cents.json["errors"][0]["field"].string == "delivery_fee_cents")
            let noHub = try await http.send(
                .post, "/api/v1/admin/zones",
                json: ["name": "Lost", "hub_id": .string(UUID().uuidString), "delivery_fee_cents": 10000], token: cast.admin)
            expectProblem(noHub, 422, "validation_failed")
            let duplicate = try await http.send(
                .post, "/api/v1/admin/zones", json: ["name": "TEST zone", "hub_id": .string(cast.hubID), "delivery_fee_cents": 100],
                token: cast.admin)
            expectProblem(duplicate, 409, "zone_name_taken")

            let updated = try await http.send(.patch, "/api/v1/admin/zones/\(cast.zoneID)", json: ["delivery_fee_cents": 35000], token: cast.admin)
            #expect(updated.json["delivery_fee_cents"].int == 35000)
            #expect(updated.json["hub"]["id"].string == cast.hubID)
            let zones = try await services.database.query("SELECT count(*) FROM zones")
            #expect(try zones[0].decode(Int.self) == 1)
        }
    }

    @Test func thePublicZoneListShowsOnlyActiveZones() async throws {
        try await TestApp.run { http, services in
            let cast = try await Cast.make(http, services)
            let closed = try await http.createZone("Closed Zone", hubID: cast.hubID, admin: cast.admin)
            _ = try await http.send(.patch, "/api/v1/admin/zones/\(closed["id"].string!)", json: ["is_active": false], token: cast.admin)

            let publicList = try await http.send(.get, "/api/v1/zones").json
            let adminList = try await http.send(.get, "/api/v1/admin/zones?hub_id=\(cast.hubID)", token: cast.admin).json

            #expect(publicList["items"].array.compactMap { $0["id"].string } == [cast.zoneID])
            #expect(adminList["items"].array.count == 2)
        }
    }

    @Test func staffBelongToOneHubAtATime() async throws {
        try await TestApp.run { http, services in
            // Setup
            let cast = try await Cast.make(http, services)
            let otherHub = try await http.createHub("KSM-T2", admin: cast.admin)["id"].string!
            let staffID = try await http.send(.get, "/api/v1/auth/me", token: cast.staff).json["id"]
            let merchantID = try await http.send(.get, "/api/v1/auth/me", token: cast.merchant).json["id"]

            // Act and check
            let elsewhere = try await http.send(.post, "/api/v1/admin/hubs/\(otherHub)/staff", json: ["user_id": staffID], token: cast.admin)
            expectProblem(elsewhere, 409, "staff_assigned_elsewhere")
            let again = try await http.send(.post, "/api/v1/admin/hubs/\(cast.hubID)/staff", json: ["user_id": staffID], token: cast.admin)
            #expect(again.status == 201)
            let merchant = try await http.send(.post, "/api/v1/admin/hubs/\(otherHub)/staff", json: ["user_id": merchantID], token: cast.admin)
            expectProblem(merchant, 409, "role_conflict")
            let nobody = try await http.send(
                .post, "/api/v1/admin/hubs/\(otherHub)/staff", json: ["user_id": .string(UUID().uuidString)], token: cast.admin)
            expectProblem(nobody, 422, "validation_failed")

            let list = try await http.send(.get, "/api/v1/admin/hubs/\(cast.hubID)/staff", token: cast.admin).json
            #expect(list["items"].array.map { $0["user_id"] } == [staffID])

            let removed = try await http.send(.delete, "/api/v1/admin/hubs/\(cast.hubID)/staff/\(staffID.string!)", token: cast.admin)
            #expect(removed.status == 204)
            let me = try await http.send(.get, "/api/v1/auth/me", token: cast.staff).json
            #expect(me["role"].string == "customer")
            #expect(me["hub"].isNull)
            let removedTwice = try await http.send(.delete, "/api/v1/admin/hubs/\(cast.hubID)/staff/\(staffID.string!)", token: cast.admin)
            expectProblem(removedTwice, 404, "not_found")

            let moved = try await http.send(.post, "/api/v1/admin/hubs/\(otherHub)/staff", json: ["user_id": staffID], token: cast.admin)
            #expect(moved.status == 201)
            #expect(try await http.send(.get, "/api/v1/auth/me", token: cast.staff).json["hub"]["id"].string == otherHub)
        }
    }
}
