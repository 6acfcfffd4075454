import Foundation
import PostgresNIO
import Server
import TestSupport
import Testing

/// The README's operator section, step by step: a new installation gets its places, catalog and
/// first merchant through the API alone, and sells.
@Suite struct FirstInstallationTests {
    @Test func aNewInstallationIsSetUpThroughTheAPIAndSells() async throws {
        try await TestApp.run { http, services in
            // Setup: an empty, migrated database and the first admin, made as `hubroute create-admin` makes it.
            for table in ["users", "hubs", "zones", "categories", "merchants", "products"] {
                let rows = try await services.database.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)"))
                #expect(try rows[0].decode(Int.self) == 0, "\(table) starts empty")
            }
            try await services.users.createAdmin(
                email: "ops@example.com", password: password, fullName: "Operations", phone: "0700000000", hasher: services.passwords)

            // Act: the admin sets up a hub, the zone it serves and a category.
            let admin = try await http.accessToken("ops@example.com")
            let hub = try await http.send(
                .post, "/api/v1/admin/hubs",
                json: [
                    "code": "nbo-cbd", "name": "Nairobi CBD", "city": "Nairobi", "address": "Moi Avenue 12", "phone": "0711000000",
                    "opening_hours": "Mon-Sat 08:00-19:00",
                ], token: admin)
            let hubID = try #require(hub.json["id"].string, "\(hub.text)")
            let zone = try await http.send(
                .post, "/api/v1/admin/zones", json: ["name": "Westlands", "hub_id": .string(hubID), "delivery_fee_cents": 20_000], token: admin)
            let zoneID = try #require(zone.json["id"].string, "\(zone.text)")
            let category = try await http.send(.post, "/api/v1/admin/categories", json: ["name": "Home & Kitchen", "slug": "home-kitchen"], token: admin)
            let categoryID = try #require(category.json["id"].string, "\(category.text)")

            // a seller registers, applies and is approved with the hub as home hub, then lists a product
            let seller = try await http.register("duka@example.com", phone: "0722000000", name: "Achieng Odhiambo")
            let sellerToken = try #require(seller["access_token"].string)
            let application = try await http.send(
                .post, "/api/v1/merchant-applications",
                json: ["business_name": "Duka La Achieng", "phone": "0722000000", "zone_id": .string(zoneID)], token: sellerToken)
            let applicationID = try #require(application.json["id"].string, "\(application.text)")
            let approval = try await http.send(
                .post, "/api/v1/admin/merchant-applications/\(applicationID)/approve", json: ["home_hub_id": .string(hubID)], token: admin)
            let product = try await http.send(
                .post, "/api/v1/merchant/products",
                json: ["category_id": .string(categoryID), "name": "Jiko Stove", "price_cents": 350_000, "stock": 5], token: sellerToken)
            let productID = try #require(product.json["id"].string, "\(product.text)")

            // a customer finds it, gives an address in the zone and checks out cash on delivery
            let customer = try #require(try await http.register("wanjiru@example.com", name: "Wanjiru Kamau")["access_token"].string)
            let found = try await http.send(.get, "/api/v1/products?category_id=\(categoryID)")
            let address = try await http.send(
                .post, "/api/v1/addresses",
                json: ["label": "Home", "zone_id": .string(zoneID), "line1": "Parklands Road 3", "phone": "0712345678"], token: customer)
            let added = try await http.cartAdd(productID, quantity: 2, token: customer)
            let order = try await http.send(
                .post, "/api/v1/orders", json: ["address_id": address.json["id"], "payment_method": "cod", "expected_total_cents": 720_000],
                token: customer, headers: ["Idempotency-Key": "first-order"])

            // Check
            #expect(hub.status == 201 && zone.status == 201 && category.status == 201)
            #expect(try await http.send(.get, "/api/v1/categories").json["items"].array.compactMap { $0["slug"].string } == ["home-kitchen"])
            #expect(approval.status == 200 && approval.json["status"] == "approved", "\(approval.text)")
            #expect(found.json["items"].array.compactMap { $0["id"].string } == [productID])
            #expect(address.status == 201 && added.status == 200)
            #expect(order.status == 201, "\(order.text)")
            #expect(order.json["payment_method"] == "cod" && order.json["payment_state"] == "cod_due" && order.json["status"] == "placed")
            #expect(order.json["total_cents"] == 720_000 && order.json["delivery_fee_cents"] == 20_000)
            let parcel = order.json["sub_orders"][0]
            #expect(parcel["merchant"]["name"] == "Duka La Achieng" && parcel["origin_hub"]["code"] == "NBO-CBD")
            #expect(parcel["destination_hub"]["id"].string == hubID && parcel["items"][0]["quantity"] == 2)
            #expect(try await http.send(.get, "/api/v1/products/\(productID)").json["stock"] == 3)
        }
    }
}
