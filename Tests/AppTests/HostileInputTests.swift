import Foundation
import HTTPTypes
@testable import Server
import TestSupport
import Testing

/// Requests an attacker would send (issue 9): none may kill the process, reach a 500, or learn
/// a route's schema without the right to call it.
@Suite struct HostileInputTests {
    /// `-9223372036854775808|00000000-…`: a key whose conversion to PostgreSQL's epoch overflows.
    static let overflowingCursor = Data("-9223372036854775808|00000000-0000-0000-0000-000000000000".utf8).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")

    @Test func aCursorOutsideAnyTimeIsRefusedAndTheServiceLivesOn() async throws {
        try await TestApp.run { http, services in
            // Setup
            let world = try await World.make(services)
            let token = try await world.token(world.customer)

            // Act
            let products = try await http.send(.get, "/api/v1/products?cursor=\(Self.overflowingCursor)")
            let orders = try await http.send(.get, "/api/v1/orders?cursor=\(Self.overflowingCursor)", token: token)
            let maximum = Data("9223372036854775807|00000000-0000-0000-0000-000000000000".utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "")
            let far = try await http.send(.get, "/api/v1/products?cursor=\(maximum)")
            let after = try await http.send(.get, "/api/v1/products")

            // Check
            for reply in [products, orders, far] {
                #expect(reply.status == 422, "\(reply.text)")
                #expect(reply.json["code"].string == "invalid_cursor")
                #expect(reply.json["errors"][0]["field"].string == "cursor")
            }
            #expect(after.status == 200)
        }
    }

    @Test func aStockAdjustmentBeyondAnyStockIsRefused() async throws {
        try await TestApp.run { http, services in
            let world = try await World.make(services)
            let token = try await world.token(world.merchantUsers[0])
            let product = world.products[0][0]

            let smallest = try await http.send(
                .patch, "/api/v1/merchant/products/\(product)", token: token, rawBody: #"{"stock_adjustment": -9223372036854775808}"#)
            let largest = try await http.send(
                .patch, "/api/v1/merchant/products/\(product)", token: token, rawBody: #"{"stock_adjustment": 9223372036854775807}"#)
            let beyond = try await http.send(
                .patch, "/api/v1/merchant/products/\(product)", token: token, rawBody: #"{"stock_adjustment": 9223372036854775808}"#)

            for reply in [smallest, largest, beyond] {
                #expect(reply.status == 422, "\(reply.text)")
            }
            #expect(smallest.json["errors"][0]["field"].string == "stock_adjustment")
            #expect(try await world.stock(product) == 20)
        }
    }

    @Test func textWithControlCharactersIsRefusedAtTheDoor() async throws {
        try await TestApp.run { http, services in
            // Setup
            let world = try await World.make(services)
            let token = try await world.token(world.customer)

            // Act
            let search = try await http.send(.get, "/api/v1/products?q=%00")
            let searchTab = try await http.send(.get, "/api/v1/products?q=a%09b")
            let login = try await http.send(.post, "/api/v1/auth/login", rawBody: #"{"email": "a\u0000@b.co", "password": "long enough password"}"#)
            let register = try await http.send(
                .post, "/api/v1/auth/register",
                rawBody: #"{"email": "new@example.com", "password": "long enough password", "full_name": "A\u0000B", "phone": "0712345678"}"#)
            let address = try await http.send(
                .post, "/api/v1/addresses", token: token,
                rawBody: #"{"label": "Home\u0007", "zone_id": "\#(world.zone)", "line1": "Street 1", "phone": "0712345678"}"#)
            let escapedBackslash = try await http.send(
                .post, "/api/v1/auth/login", rawBody: #"{"email": "a\\u0000@b.co", "password": "long enough password"}"#)
            let multiLineName = try await http.send(
                .post, "/api/v1/addresses", token: token,
                rawBody: #"{"label": "Home\nWork", "zone_id": "\#(world.zone)", "line1": "Street 1", "phone": "0712345678"}"#)

            // Check
            for reply in [search, searchTab, login, register, address, multiLineName] {
                #expect(reply.status == 422, "\(reply.text)")
                #expect(reply.json["code"].string == "validation_failed")
            }
            #expect(multiLineName.json["errors"][0]["field"].string == "label")
            // An escaped backslash followed by "u0000" is ordinary text: no such account.
            #expect(escapedBackslash.status == 401)
            #expect(try await world.count("users WHERE email = 'new@example.com'") == 0)
            #expect(try await world.count("addresses") == 1)
        }
    }

    @Test func aCallbackWithANulInItsReceiptIsKeptEscapedForAdmins() async throws {
        try await TestApp.run { http, services in
            let secret = services.config.mpesa.callbackSecret.revealed
            let body = #"""
                {"Body": {"stkCallback": {"MerchantRequestID": "m-1", "CheckoutRequestID": "ws_CO_nul", "ResultCode": 0,
                 "ResultDesc": "ok", "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": 100},
                 {"Name": "MpesaReceiptNumber", "Value": "QK\u0000X"}, {"Name": "Balance"}]}}}}
                """#

            let reply = try await http.send(.post, "/api/v1/payments/mpesa/callback/\(secret)", rawBody: body)

            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json["ResultCode"].int == 0)
            let kept = try await services.database.query(
                "SELECT checkout_request_id, mpesa_receipt, body->'Body'->'stkCallback'->>'CheckoutRequestID' FROM unmatched_callbacks")
            #expect(kept.count == 1)
            let (checkout, receipt, stored) = try kept[0].decode((String, String?, String).self)
            #expect(checkout == "ws_CO_nul")
            #expect(receipt == #"QK\u0000X"#)
            #expect(stored == "ws_CO_nul")
        }
    }

    /// Every operation the document reserves for a role answers 401 to nobody and 403 to a
    /// customer, whatever the body, before anything is decoded.
    @Test func rolesAreCheckedBeforeTheBodyIsRead() async throws {
        try await TestApp.run { http, services in
            // Setup
            let world = try await World.make(services)
            let customer = try await world.token(world.customer)
            let merchant = try await world.token(world.merchantUsers[0])
            let document = try await http.send(.get, "/openapi.json").json
            var guarded: [(method: String, path: String, roles: [String])] = []
            for (path, item) in document["paths"].objectEntries {
                for (method, operation) in item.objectEntries where !operation["x-roles"].array.isEmpty {
                    let concrete = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: UUID().uuidString, options: .regularExpression)
                    guarded.append((method.uppercased(), concrete, operation["x-roles"].array.compactMap(\.string)))
                }
            }
            #expect(guarded.count > 30)

            for route in guarded {
                // Act
                let method = HTTPRequestMethod(route.method)
                let anonymous = try await http.send(method, route.path, rawBody: #"{"code": "X"}"#)
                let asCustomer = try await http.send(method, route.path, token: customer, rawBody: #"{"code": "X"}"#)
                let asMerchant = try await http.send(method, route.path, token: merchant, rawBody: "not json at all")

                // Check
                #expect(anonymous.status == 401, "\(route.method) \(route.path): \(anonymous.text)")
                #expect(asCustomer.status == 403, "\(route.method) \(route.path): \(asCustomer.text)")
                if !route.roles.contains("merchant") {
                    #expect(asMerchant.status == 403, "\(route.method) \(route.path): \(asMerchant.text)")
                }
            }
        }
    }

    @Test func aMethodAPathDoesNotHaveIs405WithAllow() async throws {
        try await TestApp.run { http, _ in
            let delete = try await http.send(.delete, "/api/v1/products")
            let put = try await http.send(.put, "/api/v1/orders/\(UUID())")

            #expect(delete.status == 405)
            #expect(delete.headers[HTTPField.Name("Allow")!] == "GET")
            #expect(delete.contentType == "application/problem+json")
            #expect(delete.json["code"].string == "method_not_allowed")
            #expect(put.status == 405)
            #expect(put.headers[HTTPField.Name("Allow")!] == "GET")
        }
    }

    @Test func aURLOverTheLimitIs414() async throws {
        try await TestApp.run { http, _ in
            let reply = try await http.send(.get, "/api/v1/products?q=" + String(repeating: "a", count: 9_000))

            #expect(reply.status == 414)
            #expect(reply.contentType == "application/problem+json")
            #expect(reply.json["code"].string == "uri_too_long")
        }
    }

    @Test func anUnknownStoredValueIsAnErrorNotACrash() throws {
        enum Colour: String { case red }
        #expect(throws: (any Error).self) { try Colour(mapping: "green") }
        #expect(try Colour(mapping: "red") == .red)
    }
}

private func HTTPRequestMethod(_ name: String) -> HTTPRequest.Method {
    HTTPRequest.Method(rawValue: name) ?? .get
}
