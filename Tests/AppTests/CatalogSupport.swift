import Foundation
import PostgresNIO
import Server
import TestSupport
import Testing

/// The keys of a product as SPEC section 13.1 names them, plus its timestamps.
let productKeys: Set<String> = [
    "id", "merchant", "category_id", "name", "description", "price_cents", "stock", "image_urls", "is_active",
    "rating_count", "created_at", "updated_at",
]

extension Services {
    /// Categories have no API yet (the demo seeder and operators create them).
    func category(_ name: String, parent: String? = nil) async throws -> String {
        let slug = name.lowercased().replacingOccurrences(of: " ", with: "-")
        let rows = try await database.query(
            "INSERT INTO categories (name, slug, parent_id) VALUES (\(name), \(slug), \(parent.flatMap(UUID.init(uuidString:)))) RETURNING id")
        return try rows[0].decode(UUID.self).uuidString.lowercased()
    }
}

extension HTTPClient {
    /// Another approved merchant; returns its access token.
    func merchant(_ business: String, cast: Cast) async throws -> String {
        let session = try await register(business.lowercased().filter(\.isLetter) + "@example.com")
        let token = session["access_token"].string!
        let application = try await send(
            .post, "/api/v1/merchant-applications",
            json: ["business_name": .string(business), "phone": "0722000001", "zone_id": .string(cast.zoneID)], token: token)
        #expect(application.status == 201, "apply: \(application.text)")
        let approval = try await send(
            .post, "/api/v1/admin/merchant-applications/\(application.json["id"].string!)/approve",
            json: ["home_hub_id": .string(cast.hubID)], token: cast.admin)
        #expect(approval.status == 200, "approve: \(approval.text)")
        return token
    }

    /// Creates a product as `merchant` and returns it.
    @discardableResult
    func product(
        _ name: String, category: String, priceCents: Int = 10_000, stock: Int = 10, merchant: String,
        description: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSON {
        var body: [String: JSON] = [
            "category_id": .string(category), "name": .string(name), "price_cents": .number(Double(priceCents)),
            "stock": .number(Double(stock)),
        ]
        if let description { body["description"] = .string(description) }
        let reply = try await send(.post, "/api/v1/merchant/products", json: .object(body), token: merchant)
        #expect(reply.status == 201, "create product: \(reply.text)", sourceLocation: sourceLocation)
        return reply.json
    }

    /// Every item of a list, following `next_cursor` page by page.
    func allPages(_ path: String, token: String? = nil) async throws -> (items: [JSON], pages: Int) {
        var items: [JSON] = []
        var pages = 0
        var cursor: String?
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let url = cursor.map { "\(path)\(separator)cursor=\($0)" } ?? path
            let reply = try await send(.get, url, token: token)
            #expect(reply.status == 200, "\(url): \(reply.text)")
            items += reply.json["items"].array
            pages += 1
            cursor = reply.json["next_cursor"].string
        } while cursor != nil && pages < 50
        return (items, pages)
    }

    func cartAdd(_ productID: String, quantity: Int, token: String) async throws -> Reply {
        try await send(
            .post, "/api/v1/cart/items", json: ["product_id": .string(productID), "quantity": .number(Double(quantity))], token: token)
    }
}

extension JSON {
    var double: Double? { if case .number(let value) = self { value } else { nil } }
}
