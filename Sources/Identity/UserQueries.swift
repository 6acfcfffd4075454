import Core
import Foundation
import PostgresNIO

/// Reading users with their hub or merchant, shared by the identity services.
enum UserQueries {
    static let selectColumns = """
        SELECT u.id, u.email, u.full_name, u.phone, u.role, u.is_active, u.created_at,
               h.id AS hub_id, h.code AS hub_code, h.name AS hub_name,
               m.id AS merchant_id, m.business_name, m.commission_bps,
               mh.id AS merchant_hub_id, mh.code AS merchant_hub_code, mh.name AS merchant_hub_name
        FROM users u
        LEFT JOIN hub_staff hs ON hs.user_id = u.id
        LEFT JOIN hubs h ON h.id = hs.hub_id
        LEFT JOIN merchants m ON m.user_id = u.id AND m.is_active
        LEFT JOIN hubs mh ON mh.id = m.home_hub_id
        """

    static func user(id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> User? {
        let rows = try await connection.exec(
            "\(unescaped: selectColumns) WHERE u.id = \(id)", logger: logger
        )
        return try rows.first.map(decode)
    }

    static func decode(_ row: PostgresRow) throws -> User {
        let r = row.makeRandomAccess()
        let hub: HubSummary? = try r.get("hub_id", as: UUID?.self).map {
            HubSummary(id: $0, code: try r.get("hub_code"), name: try r.get("hub_name"))
        }
        let merchant: MerchantSummary? = try r.get("merchant_id", as: UUID?.self).map {
            MerchantSummary(
                id: $0, businessName: try r.get("business_name"),
                homeHub: HubSummary(id: try r.get("merchant_hub_id"), code: try r.get("merchant_hub_code"), name: try r.get("merchant_hub_name")),
                commissionBps: try r.get("commission_bps"))
        }
        return User(
            id: try r.get("id"), email: try r.get("email"), fullName: try r.get("full_name"),
            phone: try r.get("phone"), role: Role(rawValue: try r.get("role")) ?? .customer,
            isActive: try r.get("is_active"), createdAt: try r.get("created_at"), hub: hub, merchant: merchant)
    }
}
