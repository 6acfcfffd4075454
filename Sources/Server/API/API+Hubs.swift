import Core
import Foundation
import Hubs
import Identity
import OpenAPIRuntime

extension API {
    func listHubs(_ input: Operations.ListHubs.Input) async throws -> Operations.ListHubs.Output {
        let page = try await services.places.hubs(page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Hub.init), nextCursor: page.nextCursor))))
    }

    func createHub(_ input: Operations.CreateHub.Input) async throws -> Operations.CreateHub.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let hub = try await services.places.createHub(
            .init(
                code: body.code, name: body.name, city: body.city, address: body.address, phone: body.phone,
                openingHours: body.openingHours, isActive: body.isActive))
        return .created(.init(body: .json(.init(hub))))
    }

    func getHub(_ input: Operations.GetHub.Input) async throws -> Operations.GetHub.Output {
        let hub = try await services.places.hub(try uuid(input.path.id, "Hub"))
        return .ok(.init(body: .json(.init(hub))))
    }

    func updateHub(_ input: Operations.UpdateHub.Input) async throws -> Operations.UpdateHub.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let hub = try await services.places.updateHub(
            try uuid(input.path.id, "Hub"),
            .init(
                code: body.code, name: body.name, city: body.city, address: body.address, phone: body.phone,
                openingHours: body.openingHours, isActive: body.isActive))
        return .ok(.init(body: .json(.init(hub))))
    }

    func listHubStaff(_ input: Operations.ListHubStaff.Input) async throws -> Operations.ListHubStaff.Output {
        let members = try await services.staff.list(hubID: try uuid(input.path.id, "Hub"))
        return .ok(.init(body: .json(.init(items: members.map(Components.Schemas.StaffMember.init)))))
    }

    func assignHubStaff(_ input: Operations.AssignHubStaff.Input) async throws -> Operations.AssignHubStaff.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        guard let userID = UUID(uuidString: body.userId) else { throw Problem.validation(field: "user_id", "must be a UUID") }
        let member = try await services.staff.assign(userID: userID, to: try uuid(input.path.id, "Hub"))
        return .created(.init(body: .json(.init(member))))
    }

    func removeHubStaff(_ input: Operations.RemoveHubStaff.Input) async throws -> Operations.RemoveHubStaff.Output {
        try await services.staff.remove(
            userID: try uuid(input.path.userId, "Staff member"), from: try uuid(input.path.id, "Hub"))
        return .noContent(.init())
    }
}

extension Components.Schemas.Hub {
    init(_ hub: Places.Hub) {
        self.init(
            id: hub.id.lowercased, code: hub.code, name: hub.name, city: hub.city, address: hub.address,
            phone: hub.phone, openingHours: hub.openingHours, isActive: hub.isActive, createdAt: hub.createdAt)
    }
}

extension Components.Schemas.StaffMember {
    init(_ member: HubStaffService.Member) {
        self.init(
            userId: member.userID.lowercased, hubId: member.hubID.lowercased,
            fullName: member.fullName, email: member.email, phone: member.phone, assignedAt: member.assignedAt)
    }
}
