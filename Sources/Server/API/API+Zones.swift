import Core
import Foundation
import Hubs
import Identity
import OpenAPIRuntime

extension API {
    func listActiveZones(_ input: Operations.ListActiveZones.Input) async throws -> Operations.ListActiveZones.Output {
        let page = try await services.places.zones(
            hubID: nil, activeOnly: true, page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Zone.init), nextCursor: page.nextCursor))))
    }

    func listZones(_ input: Operations.ListZones.Input) async throws -> Operations.ListZones.Output {
        let hubID = try input.query.hubId.map { text in
            guard let id = UUID(uuidString: text) else { throw Problem.validation(field: "hub_id", "must be a UUID") }
            return id
        }
        let page = try await services.places.zones(
            hubID: hubID, activeOnly: false, page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Zone.init), nextCursor: page.nextCursor))))
    }

    func createZone(_ input: Operations.CreateZone.Input) async throws -> Operations.CreateZone.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        guard let hubID = UUID(uuidString: body.hubId) else { throw Problem.validation(field: "hub_id", "must be a UUID") }
        let zone = try await services.places.createZone(
            .init(name: body.name, hubID: hubID, deliveryFeeCents: body.deliveryFeeCents, isActive: body.isActive))
        return .created(.init(body: .json(.init(zone))))
    }

    func getZone(_ input: Operations.GetZone.Input) async throws -> Operations.GetZone.Output {
        let zone = try await services.places.zone(try uuid(input.path.id, "Zone"))
        return .ok(.init(body: .json(.init(zone))))
    }

    func updateZone(_ input: Operations.UpdateZone.Input) async throws -> Operations.UpdateZone.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let hubID = try body.hubId.map { text in
            guard let id = UUID(uuidString: text) else { throw Problem.validation(field: "hub_id", "must be a UUID") }
            return id
        }
        let zone = try await services.places.updateZone(
            try uuid(input.path.id, "Zone"),
            .init(name: body.name, hubID: hubID, deliveryFeeCents: body.deliveryFeeCents, isActive: body.isActive))
        return .ok(.init(body: .json(.init(zone))))
    }
}

extension Components.Schemas.Zone {
    init(_ zone: Places.Zone) {
        self.init(
            id: zone.id.lowercased, name: zone.name,
            hub: .init(id: zone.hubID.lowercased, code: zone.hubCode, name: zone.hubName),
            deliveryFeeCents: zone.deliveryFeeCents, isActive: zone.isActive, createdAt: zone.createdAt)
    }
}
