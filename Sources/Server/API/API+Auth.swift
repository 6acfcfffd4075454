import Core
import Identity
import OpenAPIRuntime

extension API {
    func register(_ input: Operations.Register.Input) async throws -> Operations.Register.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let session = try await services.auth.register(
            .init(email: body.email, password: body.password, fullName: body.fullName, phone: body.phone),
            clientIP: RequestInfo.current.clientIP)
        return .created(.init(body: .json(try .init(session))))
    }

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let session = try await services.auth.login(
            email: body.email, password: body.password, clientIP: RequestInfo.current.clientIP)
        return .ok(.init(body: .json(try .init(session))))
    }

    func refreshSession(_ input: Operations.RefreshSession.Input) async throws -> Operations.RefreshSession.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let session = try await services.auth.refresh(token: body.refreshToken)
        return .ok(.init(body: .json(try .init(session))))
    }

    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        try await services.auth.logout(try principal(), refreshToken: body.refreshToken)
        return .noContent(.init())
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let user = try await services.auth.me(try principal())
        return .ok(.init(body: .json(try .init(user))))
    }
}

extension Components.Schemas.Session {
    init(_ session: Session) throws {
        self.init(
            user: try .init(session.user), accessToken: session.accessToken, refreshToken: session.refreshToken,
            tokenType: .bearer, expiresIn: session.expiresIn)
    }
}

extension Components.Schemas.User {
    init(_ user: User) throws {
        self.init(
            id: user.id.lowercased, email: user.email, fullName: user.fullName, phone: user.phone,
            role: try .init(user.role), isActive: user.isActive, createdAt: user.createdAt,
            hub: user.hub.map { .init($0) },
            merchant: user.merchant.map {
                .init(id: $0.id.lowercased, businessName: $0.businessName, commissionBps: $0.commissionBps, homeHub: .init($0.homeHub))
            })
    }
}

extension Components.Schemas.HubRef {
    init(_ hub: HubSummary) {
        self.init(id: hub.id.lowercased, code: hub.code, name: hub.name)
    }
}

extension Components.Schemas.Role {
    init(_ role: Role) throws {
        self = try Self(mapping: role.rawValue)
    }

    var domain: Role {
        get throws { try Role(mapping: rawValue) }
    }
}
