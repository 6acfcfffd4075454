import Catalog
import Core
import Foundation
import Hummingbird
import Identity

/// The category tree (`Categories`): create, rename, move, switch off, and delete an empty one.
struct CategoryPages: Sendable {
    let console: Console

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        routes.page("admin/categories", for: [.admin]) { visit in try await page(visit, failure: nil) }
        routes.action("admin/categories", for: [.admin]) { visit in
            try await save(visit) {
                let category = try await visit.services.categories.create(
                    .init(name: visit.form["name"], slug: visit.form["slug"], parentID: UUID(uuidString: visit.form["parent_id"])))
                return "Category \(category.name) created."
            }
        }
        routes.action("admin/categories/:id", for: [.admin]) { visit in
            try await save(visit) {
                let parent: Categories.Parent = UUID(uuidString: visit.form["parent_id"]).map { .category($0) } ?? .root
                let category = try await visit.services.categories.update(
                    try visit.id("id", "Category"),
                    .init(name: visit.form["name"], slug: visit.form["slug"], parent: parent, isActive: visit.form["is_active"] == "on"))
                return "Category \(category.name) saved."
            }
        }
        routes.action("admin/categories/:id/delete", for: [.admin]) { visit in
            try await save(visit) {
                try await visit.services.categories.delete(try visit.id("id", "Category"))
                return "Category deleted."
            }
        }
    }

    struct Option {
        let id: String
        let label: String
        let selected: Bool
    }

    struct Row {
        let id: String
        let name: String
        let slug: String
        let active: Bool
        let listed: Bool
        let parents: [Option]
    }

    struct Model {
        let categories: [Row]
        let parents: [Option]
    }

    private func page(_ visit: Visit, failure: Failure?) async throws -> Response {
        let categories = try await visit.services.categories.list(page: try PageRequest(limit: 100, cursor: nil)).items
            .sorted { $0.name.lowercased() < $1.name.lowercased() }
        func parents(except id: UUID?, selected: UUID?) -> [Option] {
            categories.filter { $0.id != id }.map { Option(id: $0.id.lowercased, label: $0.name, selected: $0.id == selected) }
        }
        let model = Model(
            categories: categories.map {
                Row(
                    id: $0.id.lowercased, name: $0.name, slug: $0.slug, active: $0.isActive, listed: $0.isListed,
                    parents: parents(except: $0.id, selected: $0.parentID))
            },
            parents: parents(except: nil, selected: failure.flatMap { UUID(uuidString: $0.values["parent_id"] ?? "") }))
        return visit.render("admin-categories", title: "Categories", model, failure: failure, status: failure?.status ?? .ok)
    }

    private func save(_ visit: Visit, _ action: @escaping () async throws -> String) async throws -> Response {
        try await visit.attempt {
            try await visit.redirect(to: "/console/admin/categories", flash: try await action())
        } failure: { failure in
            try await page(visit, failure: failure)
        }
    }
}
