import Core
import Foundation
import Hubs
import Hummingbird
import Identity

/// Zones (`Places`): each with the hub that serves it and its delivery fee, typed in shillings.
struct ZonePages: Sendable {
    let console: Console

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        routes.page("admin/zones", for: [.admin]) { visit in try await page(visit, failure: nil) }
        routes.action("admin/zones", for: [.admin]) { visit in
            try await save(visit) {
                let zone = try await visit.services.places.createZone(try Self.input(visit.form, creating: true))
                return "Zone \(zone.name) created."
            }
        }
        routes.action("admin/zones/:id", for: [.admin]) { visit in
            try await save(visit) {
                let zone = try await visit.services.places.updateZone(try visit.id("id", "Zone"), try Self.input(visit.form, creating: false))
                return "Zone \(zone.name) saved."
            }
        }
    }

    static func input(_ form: FormData, creating: Bool) throws -> Places.ZoneInput {
        guard let hub = UUID(uuidString: form["hub_id"]) else { throw Problem.validation(field: "hub_id", "choose the hub that serves the zone") }
        return Places.ZoneInput(
            name: form["name"], hubID: hub, deliveryFeeCents: try Shillings.required(form, "fee"),
            isActive: creating ? true : form["is_active"] == "on")
    }

    struct Option {
        let id: String
        let label: String
        let selected: Bool
    }

    struct Row {
        let id: String
        let name: String
        let fee: String
        let active: Bool
        let hubs: [Option]
    }

    struct Model {
        let zones: [Row]
        let hubs: [Option]
    }

    private func page(_ visit: Visit, failure: Failure?) async throws -> Response {
        let places = visit.services.places
        let zones = try await places.zones(hubID: nil, activeOnly: false, page: try PageRequest(limit: 100, cursor: nil)).items
        let hubs = try await places.hubs(page: try PageRequest(limit: 100, cursor: nil)).items
        func options(_ selected: UUID?) -> [Option] {
            hubs.map { Option(id: $0.id.lowercased, label: "\($0.code) — \($0.name)", selected: $0.id == selected) }
        }
        let model = Model(
            zones: zones.map {
                Row(
                    id: $0.id.lowercased, name: $0.name, fee: String($0.deliveryFeeCents / Money.centsPerShilling),
                    active: $0.isActive, hubs: options($0.hubID))
            },
            hubs: options(failure.flatMap { UUID(uuidString: $0.values["hub_id"] ?? "") }))
        return visit.render("admin-zones", title: "Zones", model, failure: failure, status: failure?.status ?? .ok)
    }

    private func save(_ visit: Visit, _ action: @escaping () async throws -> String) async throws -> Response {
        try await visit.attempt {
            try await visit.redirect(to: "/console/admin/zones", flash: try await action())
        } failure: { failure in
            try await page(visit, failure: failure)
        }
    }
}
