import Catalog
import Core
import Foundation
import Identity
import OpenAPIRuntime

extension API {
    func listAdminCategories(_ input: Operations.ListAdminCategories.Input) async throws -> Operations.ListAdminCategories.Output {
        let page = try await services.categories.list(page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.AdminCategory.init), nextCursor: page.nextCursor))))
    }

    func createCategory(_ input: Operations.CreateCategory.Input) async throws -> Operations.CreateCategory.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let category = try await services.categories.create(
            .init(
                name: body.name, slug: body.slug, parentID: try body.parentId.map { try bodyUUID($0, "parent_id") },
                isActive: body.isActive))
        return .created(.init(body: .json(.init(category))))
    }

    func getAdminCategory(_ input: Operations.GetAdminCategory.Input) async throws -> Operations.GetAdminCategory.Output {
        let category = try await services.categories.category(try uuid(input.path.id, "Category"))
        return .ok(.init(body: .json(.init(category))))
    }

    func updateCategory(_ input: Operations.UpdateCategory.Input) async throws -> Operations.UpdateCategory.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let parent: Categories.Parent?
        switch (try body.parentId.map { try bodyUUID($0, "parent_id") }, body.moveToRoot ?? false) {
        case (let parentID?, false): parent = .category(parentID)
        case (nil, true): parent = .root
        case (nil, false): parent = nil
        case (.some, true): throw Problem.validation(field: "move_to_root", "cannot be combined with parent_id; send one of them")
        }
        let category = try await services.categories.update(
            try uuid(input.path.id, "Category"), .init(name: body.name, slug: body.slug, parent: parent, isActive: body.isActive))
        return .ok(.init(body: .json(.init(category))))
    }

    func deleteCategory(_ input: Operations.DeleteCategory.Input) async throws -> Operations.DeleteCategory.Output {
        try await services.categories.delete(try uuid(input.path.id, "Category"))
        return .noContent(.init())
    }
}

extension Components.Schemas.AdminCategory {
    init(_ category: Categories.Category) {
        self.init(
            id: category.id.lowercased, parentId: category.parentID?.lowercased, name: category.name, slug: category.slug,
            isActive: category.isActive, isListed: category.isListed, createdAt: category.createdAt, updatedAt: category.updatedAt)
    }
}
