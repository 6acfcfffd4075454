import Core
import Foundation
import Identity
import OpenAPIRuntime

/// The generated `APIProtocol`, one file per feature (`API+Feature.swift`). Handlers are thin:
/// read the typed input, check the caller's role, call one service function, map the answer.
/// A class, because the generated routes copy their handler for every request: a struct holding
/// every service was copied, each of its references retained, every time.
final class API: APIProtocol {
    let services: Services
    let metrics: HTTPMetrics

    init(services: Services, metrics: HTTPMetrics) {
        self.services = services
        self.metrics = metrics
    }

    /// The caller `RouteGuard` authenticated before the request was decoded, already checked
    /// against the operation's `x-roles` in openapi.yaml (the one place a route's roles are
    /// written).
    func principal() throws -> Principal {
        guard let caller = Caller.current else { throw Problem.unauthorized }
        return caller
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

extension RawRepresentable where RawValue == String {
    /// One of our enums as another's: a stored status as the document's, the document's reason
    /// as the domain's. A value the other does not list is a bug of ours: answered 500 and
    /// logged by its type, never a crash.
    init(mapping value: String) throws {
        guard let mapped = Self(rawValue: value) else { throw UnmappedValue(type: "\(Self.self)") }
        self = mapped
    }
}

struct UnmappedValue: Error, CustomStringConvertible {
    let type: String
    var description: String { "a value with no counterpart in \(type)" }
}
