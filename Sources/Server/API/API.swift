import Core
import Foundation
import Identity
import OpenAPIRuntime

/// The generated `APIProtocol`, one file per feature (`API+Feature.swift`). Handlers are thin:
/// read the typed input, check the caller's role, call one service function, map the answer.
struct API: APIProtocol {
    let services: Services
    let metrics: HTTPMetrics

    /// The caller behind the request's bearer token (401 without a valid one).
    func principal() async throws -> Principal {
        guard let token = RequestInfo.current.bearerToken else { throw Problem.unauthorized }
        return try await services.auth.authenticate(bearer: token)
    }

    /// The caller, who must have one of the given roles (403 otherwise).
    func principal(_ roles: Role...) async throws -> Principal {
        let principal = try await principal()
        guard roles.contains(principal.role) else { throw Problem.forbidden() }
        return principal
    }

    /// A path id that is not a UUID names nothing: 404, like any other unknown id.
    func uuid(_ text: String, _ what: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw Problem.notFound(what) }
        return id
    }
}

extension API {
    /// An id in a body or query that is not a UUID is invalid input (422).
    func bodyUUID(_ text: String, _ field: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw Problem.validation(field: field, "must be a UUID") }
        return id
    }
}
