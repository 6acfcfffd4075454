import Core
import Foundation
import Hubs
import Hummingbird
import Identity

/// Hubs and their staff (`Places`, `HubStaffService`): the list with a form for a new hub, and
/// one page per hub to change it and to assign or remove its staff.
struct HubPages: Sendable {
    let console: Console

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        routes.page("admin/hubs", for: [.admin]) { visit in try await list(visit, failure: nil) }
        routes.action("admin/hubs", for: [.admin]) { visit in
            try await visit.attempt {
                let hub = try await visit.services.places.createHub(Self.input(visit.form, creating: true))
                return try await visit.redirect(to: Self.path(hub.id), flash: "Hub \(hub.code) created.")
            } failure: { failure in
                try await list(visit, failure: failure)
            }
        }
        routes.page("admin/hubs/:id", for: [.admin]) { visit in try await hub(visit, failure: nil) }
        routes.action("admin/hubs/:id", for: [.admin]) { visit in
            try await change(visit, "saved") { id in
                _ = try await visit.services.places.updateHub(id, Self.input(visit.form, creating: false))
            }
        }
        routes.action("admin/hubs/:id/staff", for: [.admin]) { visit in
            try await change(visit, "has a new staff member") { id in
                let email = AuthService.normaliseEmail(visit.form["email"])
                let found = try await visit.services.users.list(.init(role: nil, isActive: true, query: email), page: try PageRequest(limit: 100, cursor: nil))
                guard let user = found.items.first(where: { $0.email == email }) else {
                    throw Problem.validation(field: "email", "no active user has this email; they register first")
                }
                _ = try await visit.services.staff.assign(userID: user.id, to: id)
            }
        }
        routes.action("admin/hubs/:id/staff/:user/remove", for: [.admin]) { visit in
            try await change(visit, "has one staff member fewer") { id in
                try await visit.services.staff.remove(userID: try visit.id("user", "Staff member"), from: id)
            }
        }
    }

    static func path(_ id: UUID) -> String { "/console/admin/hubs/\(id.lowercased)" }

    /// The form's fields as the service's input; on an edit every field is sent, the checkbox
    /// unticked means inactive.
    static func input(_ form: FormData, creating: Bool) -> Places.HubInput {
        Places.HubInput(
            code: form["code"], name: form["name"], city: form["city"], address: form["address"], phone: form["phone"],
            openingHours: form["opening_hours"], isActive: creating ? true : form["is_active"] == "on")
    }

    struct Row {
        let href: String
        let code: String
        let name: String
        let city: String
        let active: Bool
    }

    struct ListModel {
        let hubs: [Row]
    }

    private func list(_ visit: Visit, failure: Failure?) async throws -> Response {
        let hubs = try await visit.services.places.hubs(page: try PageRequest(limit: 100, cursor: nil)).items
        let model = ListModel(hubs: hubs.map { Row(href: Self.path($0.id), code: $0.code, name: $0.name, city: $0.city, active: $0.isActive) })
        return visit.render("admin-hubs", title: "Hubs", model, failure: failure, status: failure?.status ?? .ok)
    }

    struct Member {
        let userID: String
        let name: String
        let email: String
        let phone: String
        let since: String
    }

    struct Zone {
        let name: String
        let fee: String
        let active: Bool
    }

    struct Model {
        let id: String
        let code: String
        let name: String
        let city: String
        let address: String
        let phone: String
        let openingHours: String
        let active: Bool
        let staff: [Member]
        let noStaff: Bool
        let zones: [Zone]
    }

    private func hub(_ visit: Visit, failure: Failure?) async throws -> Response {
        let id = try visit.id("id", "Hub")
        let services = visit.services
        let hub = try await services.places.hub(id)
        let staff = try await services.staff.list(hubID: id)
        let zones = try await services.places.zones(hubID: id, activeOnly: false, page: try PageRequest(limit: 100, cursor: nil)).items
        let model = Model(
            id: id.lowercased, code: hub.code, name: hub.name, city: hub.city, address: hub.address, phone: hub.phone,
            openingHours: hub.openingHours, active: hub.isActive,
            staff: staff.map {
                Member(
                    userID: $0.userID.lowercased, name: $0.fullName, email: $0.email, phone: $0.phone,
                    since: console.dates.format($0.assignedAt))
            },
            noStaff: staff.isEmpty,
            zones: zones.map { Zone(name: $0.name, fee: Shillings.format($0.deliveryFeeCents), active: $0.isActive) })
        return visit.render("admin-hub", title: "Hub \(hub.code)", model, failure: failure, status: failure?.status ?? .ok)
    }

    private func change(_ visit: Visit, _ done: String, _ action: @escaping (UUID) async throws -> Void) async throws -> Response {
        let id = try visit.id("id", "Hub")
        return try await visit.attempt {
            try await action(id)
            return try await visit.redirect(to: Self.path(id), flash: "The hub \(done).")
        } failure: { failure in
            try await hub(visit, failure: failure)
        }
    }
}
