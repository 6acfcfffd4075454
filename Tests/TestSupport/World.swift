import Core
import Foundation
import Identity
import Orders
import PostgresNIO
import Server

/// A small marketplace on a fresh database: three hubs, a zone served by the first, three
/// merchants (one at the zone's hub, two elsewhere), their products, and a customer with an
/// address in the zone.
public struct World: Sendable {
    public let services: Services
    public let hubs: [UUID]  // NBO (serves the zone), MSA, KSM
    public let zone: UUID
    public let feeCents: Int64
    /// Merchants at NBO (1000 bps), MSA (1250 bps) and KSM (0 bps).
    public let merchants: [UUID]
    public let merchantUsers: [UUID]
    /// Two products per merchant: [merchant][index].
    public let products: [[UUID]]
    public let customer: UUID
    public let address: UUID

    public var database: Database { services.database }

    public static let prices: [[Int64]] = [[12_300, 50_000], [36_900, 1_000], [99_900, 100]]

    public static func with(settings: [String: String] = [:], _ body: @escaping @Sendable (World) async throws -> Void) async throws {
        try await TestDatabase.with { database, url in
            let services = await Services(config: try TestApp.config(databaseURL: url, settings: settings), database: database)
            try await body(try await make(services))
        }
    }

    public static func make(_ services: Services, feeCents: Int64 = 50_000) async throws -> World {
        let places = services.places
        var hubs: [UUID] = []
        for code in ["NBO", "MSA", "KSM"] {
            hubs.append(try await places.createHub(.init(code: code, name: "\(code) Hub", city: code, address: "Street", phone: "0711000000")).id)
        }
        let zone = try await places.createZone(.init(name: "Zone", hubID: hubs[0], deliveryFeeCents: feeCents)).id
        let category = try await services.database.query(
            "INSERT INTO categories (name, slug) VALUES ('Things', 'things') RETURNING id")[0].decode(UUID.self)
        var merchants: [UUID] = []
        var merchantUsers: [UUID] = []
        var products: [[UUID]] = []
        for (index, (hub, bps)) in zip(hubs, [1000, 1250, 0]).enumerated() {
            let user = try await makeUser(services, email: "merchant\(index)@example.com", role: "merchant")
            let merchant = try await services.database.query(
                """
                INSERT INTO merchants (user_id, business_name, phone, home_hub_id, commission_bps)
                VALUES (\(user), \("Merchant \(index)"), '254722000000', \(hub), \(bps)) RETURNING id
                """)[0].decode(UUID.self)
            merchants.append(merchant)
            merchantUsers.append(user)
            var own: [UUID] = []
            for (number, price) in prices[index].enumerated() {
                own.append(
                    try await services.database.query(
                        """
                        INSERT INTO products (merchant_id, category_id, name, price_cents, stock)
                        VALUES (\(merchant), \(category), \("Product \(index)-\(number)"), \(price), 20) RETURNING id
                        """)[0].decode(UUID.self))
            }
            products.append(own)
        }
        let customer = try await makeUser(services, email: "customer@example.com", role: "customer")
        let address = try await addAddress(services, user: customer, zone: zone)
        return World(
            services: services, hubs: hubs, zone: zone, feeCents: feeCents, merchants: merchants, merchantUsers: merchantUsers,
            products: products, customer: customer, address: address)
    }

    public static func makeUser(_ services: Services, email: String, role: String = "customer") async throws -> UUID {
        try await services.database.query(
            """
            INSERT INTO users (email, password_hash, full_name, phone, role)
            VALUES (\(email), 'not-a-hash', 'Test', '254712345678', \(role)) RETURNING id
            """)[0].decode(UUID.self)
    }

    public static func addAddress(_ services: Services, user: UUID, zone: UUID) async throws -> UUID {
        try await services.database.query(
            """
            INSERT INTO addresses (user_id, label, zone_id, line1, phone)
            VALUES (\(user), 'Home', \(zone), 'Kenyatta Avenue 1', '254712345678') RETURNING id
            """)[0].decode(UUID.self)
    }

    public func put(_ product: UUID, _ quantity: Int, for user: UUID? = nil) async throws {
        _ = try await database.query(
            """
            INSERT INTO cart_items (user_id, product_id, quantity) VALUES (\(user ?? customer), \(product), \(quantity))
            ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity
            """)
    }

    public func checkout(
        key: String = UUID().uuidString, method: PaymentMethod = .cod, expected: Int64? = nil, customer: UUID? = nil,
        address: UUID? = nil
    ) async throws -> Checkout.Outcome {
        try await services.orders.checkout.place(
            .init(idempotencyKey: key, addressID: address ?? self.address, paymentMethod: method, expectedTotalCents: expected),
            customerID: customer ?? self.customer)
    }

    public func stock(_ product: UUID) async throws -> Int {
        try await database.query("SELECT stock FROM products WHERE id = \(product)")[0].decode(Int.self)
    }

    public func count(_ table: String) async throws -> Int {
        try await database.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))[0].decode(Int.self)
    }

    public func principal(_ user: UUID, _ role: Role, merchant: UUID? = nil) -> Principal {
        Principal(userID: user, role: role, hubID: nil, merchantID: merchant)
    }

    /// A hub staff member of the given hub.
    public func staff(at hub: UUID, _ name: String) async throws -> UUID {
        let user = try await World.makeUser(services, email: "\(name.lowercased().replacingOccurrences(of: " ", with: "."))@example.com", role: "hub_staff")
        _ = try await database.query("INSERT INTO hub_staff (user_id, hub_id) VALUES (\(user), \(hub))")
        return user
    }

    /// An access token for any user of this world.
    public func token(_ user: UUID) async throws -> String {
        try await AccessTokens(secret: services.config.jwtSecret, lifetime: services.config.accessTokenTTL).issue(for: user, now: Date())
    }

    /// Pays what the order waits for by M-Pesa, through the payment's real success path (a
    /// pending payment, then Daraja's success callback for it): the money is allocated and the
    /// order released. Returns the payment's id.
    @discardableResult
    public func payByMpesa(_ order: Order, phone: String = "254712345600", receivedCents: Int64? = nil) async throws -> UUID {
        let payment = UUID()
        let checkout = "ws_CO_test_\(payment.uuidString.lowercased())"
        _ = try await database.query(
            """
            INSERT INTO payments (id, order_id, status, amount_cents, phone, checkout_request_id)
            SELECT \(payment), \(order.id), 'pending', sum(total_cents), \(phone), \(checkout)
            FROM sub_orders WHERE order_id = \(order.id) AND status = 'awaiting_payment'
            """)
        let amount = try await database.query("SELECT amount_cents FROM payments WHERE id = \(payment)")[0].decode(Int64.self)
        try await services.payments.handleCallback(Self.successCallback(checkout, cents: receivedCents ?? amount, receipt: "R\(payment.uuidString.prefix(9))"))
        return payment
    }

    /// Daraja's STK success callback body.
    public static func successCallback(_ checkoutRequestID: String, cents: Int64, receipt: String) -> Data {
        Data(
            """
            {"Body": {"stkCallback": {"MerchantRequestID": "m-\(checkoutRequestID)", "CheckoutRequestID": "\(checkoutRequestID)",
             "ResultCode": 0, "ResultDesc": "The service request is processed successfully.",
             "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": \(cents / 100)}, {"Name": "MpesaReceiptNumber", "Value": "\(receipt)"},
              {"Name": "TransactionDate", "Value": 20261201101010}, {"Name": "PhoneNumber", "Value": 254712345600}]}}}}
            """.utf8)
    }

    /// Takes a placed parcel the whole road to the customer's door through the lifecycle: its
    /// merchant accepts, the hubs receive and carry it, and it is handed over with its code
    /// (and, for cash on delivery, its total collected).
    public func deliver(_ parcel: SubOrder, paymentMethod: PaymentMethod) async throws {
        let lifecycle = services.orders.lifecycle
        guard let merchant = zip(merchants, merchantUsers).first(where: { $0.0 == parcel.merchantID })?.1,
            let code = parcel.handoverCode
        else { throw WorldError.unknownParcel }
        let origin = Actor(userID: try await staff(at: parcel.originHub.id, "Origin \(parcel.number)"), role: .hubStaff, hubID: parcel.originHub.id)
        let destination = Actor(
            userID: try await staff(at: parcel.destinationHub.id, "Destination \(parcel.number)"), role: .hubStaff,
            hubID: parcel.destinationHub.id)
        let rider = PhoneNumber(normalising: "0799000000")
        try await database.transaction { connection in
            try await lifecycle.accept(parcel.id, merchantID: parcel.merchantID, actor: Actor(userID: merchant, role: .merchant), on: connection)
            try await lifecycle.receive(parcel.id, accepted: true, note: nil, actor: origin, on: connection)
            if parcel.originHub.id != parcel.destinationHub.id {
                try await lifecycle.dispatch(parcel.id, actor: origin, on: connection)
                try await lifecycle.receive(parcel.id, accepted: true, note: nil, actor: destination, on: connection)
            }
            guard let rider else { throw WorldError.unknownParcel }
            try await lifecycle.sendOutForDelivery(parcel.id, riderName: "Rider", riderPhone: rider, actor: destination, on: connection)
            let outcome = try await lifecycle.deliver(
                parcel.id, handoverCode: code, codCollectedCents: paymentMethod == .cod ? parcel.totalCents : nil, actor: destination,
                on: connection)
            guard outcome == .delivered else { throw WorldError.notDelivered }
        }
    }

    /// Takes a placed parcel out to the door, where the customer refuses it, and back to its
    /// merchant (the return leg).
    public func returnToMerchant(_ parcel: SubOrder) async throws {
        let lifecycle = services.orders.lifecycle
        guard let merchant = zip(merchants, merchantUsers).first(where: { $0.0 == parcel.merchantID })?.1,
            let rider = PhoneNumber(normalising: "0799000000")
        else { throw WorldError.unknownParcel }
        let origin = Actor(userID: try await staff(at: parcel.originHub.id, "Origin \(parcel.number) return"), role: .hubStaff, hubID: parcel.originHub.id)
        let destination = Actor(
            userID: try await staff(at: parcel.destinationHub.id, "Destination \(parcel.number) return"), role: .hubStaff,
            hubID: parcel.destinationHub.id)
        try await database.transaction { connection in
            try await lifecycle.accept(parcel.id, merchantID: parcel.merchantID, actor: Actor(userID: merchant, role: .merchant), on: connection)
            try await lifecycle.receive(parcel.id, accepted: true, note: nil, actor: origin, on: connection)
            if parcel.originHub.id != parcel.destinationHub.id {
                try await lifecycle.dispatch(parcel.id, actor: origin, on: connection)
                try await lifecycle.receive(parcel.id, accepted: true, note: nil, actor: destination, on: connection)
            }
            try await lifecycle.sendOutForDelivery(parcel.id, riderName: "Rider", riderPhone: rider, actor: destination, on: connection)
            try await lifecycle.attemptFailed(parcel.id, reason: .customerRefused, note: nil, actor: destination, on: connection)
            if parcel.originHub.id != parcel.destinationHub.id {
                try await lifecycle.dispatchReturn(parcel.id, actor: destination, on: connection)
            }
            try await lifecycle.completeReturn(parcel.id, actor: origin, on: connection)
        }
    }

    public enum WorldError: Error {
        case unknownParcel, notDelivered
    }

    /// Moves a sub-order's status directly, standing in for the hub transitions other tests cover.
    public func force(_ subOrder: UUID, to status: SubOrderStatus) async throws {
        _ = try await database.query("UPDATE sub_orders SET status = \(status.rawValue) WHERE id = \(subOrder)")
    }
}

extension Checkout.Outcome {
    public var order: Order {
        switch self {
        case .created(let order), .replayed(let order): order
        }
    }

    public var isCreated: Bool {
        if case .created = self { return true }
        return false
    }
}
