import Core
import Identity
import OpenAPIRuntime

extension API {
    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let page = try await services.users.list(
            .init(role: input.query.role?.domain, isActive: input.query.isActive, query: input.query.q),
            page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: try page.items.map(Components.Schemas.User.init), nextCursor: page.nextCursor))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        let user = try await services.users.get(try uuid(input.path.id, "User"))
        return .ok(.init(body: .json(try .init(user))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        let admin = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let user = try await services.users.change(
            try uuid(input.path.id, "User"), .init(role: try body.role.map { try Role(mapping: $0.rawValue) }, isActive: body.isActive),
            by: admin)
        return .ok(.init(body: .json(try .init(user))))
    }
}
