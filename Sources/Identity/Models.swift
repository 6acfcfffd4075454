import Core
import Foundation

public enum Role: String, Sendable, CaseIterable, Codable {
    case customer
    case merchant
    case hubStaff = "hub_staff"
    case admin
}

/// The authenticated caller, read from the database on every request so a role change or a
/// deactivation takes effect at once.
public struct Principal: Sendable, Equatable {
    public let userID: UUID
    public let role: Role
    /// The hub of a `hub_staff` member.
    public let hubID: UUID?
    /// The merchant of a `merchant` user.
    public let merchantID: UUID?

    public init(userID: UUID, role: Role, hubID: UUID?, merchantID: UUID?) {
        self.userID = userID
        self.role = role
        self.hubID = hubID
        self.merchantID = merchantID
    }

    /// Authorization scopes in one place: the role a route needs.
    public func require(_ allowed: Role...) throws(Problem) {
        guard allowed.contains(role) else { throw Problem.forbidden() }
    }
}

public struct HubSummary: Sendable, Equatable {
    public let id: UUID
    public let code: String
    public let name: String

    public init(id: UUID, code: String, name: String) {
        self.id = id
        self.code = code
        self.name = name
    }
}

public struct MerchantSummary: Sendable, Equatable {
    public let id: UUID
    public let businessName: String
    public let homeHub: HubSummary
    public let commissionBps: Int
}

public struct User: Sendable, Equatable {
    public let id: UUID
    public let email: String
    public let fullName: String
    public let phone: String
    public let role: Role
    public let isActive: Bool
    public let createdAt: Date
    public let hub: HubSummary?
    public let merchant: MerchantSummary?
}

/// What a successful register, login or refresh hands back.
public struct Session: Sendable {
    public let user: User
    public let accessToken: String
    public let refreshToken: String
    public let expiresIn: Int
}
