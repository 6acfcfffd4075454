import Catalog
import Core
import Foundation
import Identity
import OpenAPIRuntime

extension API {
    func listAddresses(_ input: Operations.ListAddresses.Input) async throws -> Operations.ListAddresses.Output {
        let principal = try principal()
        let page = try await services.addresses.list(
            for: principal, page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.DeliveryAddress.init), nextCursor: page.nextCursor))))
    }

    func createAddress(_ input: Operations.CreateAddress.Input) async throws -> Operations.CreateAddress.Output {
        let principal = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let address = try await services.addresses.create(
            .init(label: body.label, zoneID: try bodyUUID(body.zoneId, "zone_id"), line1: body.line1, phone: body.phone),
            for: principal)
        return .created(.init(body: .json(.init(address))))
    }
}

extension Components.Schemas.DeliveryAddress {
    init(_ address: Addresses.Address) {
        self.init(
            id: address.id.lowercased, label: address.label,
            zone: .init(
                id: address.zone.id.lowercased, name: address.zone.name,
                hub: .init(id: address.zone.hubID.lowercased, code: address.zone.hubCode, name: address.zone.hubName),
                deliveryFeeCents: address.zone.deliveryFeeCents),
            line1: address.line1, phone: address.phone, createdAt: address.createdAt)
    }
}
