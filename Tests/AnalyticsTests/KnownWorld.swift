import Core
import Foundation
import Identity
import Orders
import PostgresNIO
import Refunds
import Reviews
import Server
import TestSupport

/// A small marketplace lived through the service's own code at chosen instants, whose analytics
/// the tests work out by hand (the figures are in `KnownWorldTests`). Days are in Nairobi:
/// day 1 is 2026-03-10 … day 4 is 2026-03-13.
///
/// Products (World): A 12,300 and B 50,000 of M0 (NBO, 1000 bps), C 36,900 and D 1,000 of M1
/// (MSA, 1250 bps), E 99,900 and F 100 of M2 (KSM, 0 bps); the customer's zone is served by NBO
/// for a fee of 50,000.
///
/// | order | placed | pays | cart | what happens |
/// |---|---|---|---|---|
/// | O1 | day 1 23:50 | cash | A, C | S1a (M0) fails once, delivered day 3; S1b (M1) refused, returned day 3; S1a refund 12,300 paid day 4 |
/// | O2 | day 2 00:10 | M-Pesa | A, 2 B | a failed push, then paid; delivered day 3; refund of A + B lowered to 50,000, paid day 4 |
/// | O3 | day 2 10:00 | M-Pesa | E | paid, rejected by M2; refund 149,900 paid day 2 |
/// | O4 | day 2 11:00 | M-Pesa | 3 D | push timed out, expired; its success arrives late: refund 53,000 paid day 3 |
/// | O5 | day 3 09:00 | cash | A | delivered day 3 after the cash was remitted; a refund asked and denied |
/// | O6 | day 3 12:00 | cash | C | cancelled by the customer |
/// | O7 | day 3 14:00 | M-Pesa | F | paid, cancelled by an admin at KSM; refund 50,100 approved, not paid |
/// | O8 | day 4 13:00 | cash | D | on its way (in transit) |
/// | O9 | day 4 14:00 | M-Pesa | A | awaiting payment |
/// | O10 | day 4 15:00 | cash | 2 F | placed |
struct KnownWorld {
    let harness: PaymentHarness
    var world: World { harness.world }
    var services: Services { harness.services }

    /// Sub-orders by name (S1a, S1b, S2 … S10) and orders (O1 … O10).
    private(set) var parcels: [String: SubOrder] = [:]
    private(set) var orders: [String: Order] = [:]
    /// The order items refunded on S2 (A and B), for the product shares.
    private(set) var refundedOnS2: (a: UUID, b: UUID) = (UUID(), UUID())
    private(set) var admin = UUID()
    private(set) var staff: [UUID] = []

    var hubs: [UUID] { world.hubs }
    var products: [[UUID]] { world.products }

    /// The business days of the world.
    static let days = ["2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"]

    /// The instant of `time` (HH:mm) on `day` (1 … 4) in Nairobi.
    static func instant(_ day: Int, _ time: String) -> Date {
        ISO8601DateFormatter().date(from: "\(days[day - 1])T\(time):00+03:00") ?? Date.distantPast
    }

    static let start = instant(1, "23:00")

    init(harness: PaymentHarness) {
        self.harness = harness
    }

    private func at(_ day: Int, _ time: String) {
        harness.clock.advance(to: Self.instant(day, time))
    }

    // MARK: Building

    mutating func build() async throws {
        let world = self.world
        let rider = try Self.rider()
        let merchants = (0..<3).map { Actor(userID: world.merchantUsers[$0], role: .merchant) }
        admin = try await World.makeUser(services, email: "analytics-admin@example.com", role: "admin")
        for (index, hub) in hubs.enumerated() { staff.append(try await world.staff(at: hub, "Staff \(index)")) }
        let (a, b, c, d, e, f) = (products[0][0], products[0][1], products[1][0], products[1][1], products[2][0], products[2][1])

        at(1, "23:50")
        try await place("O1", [(a, 1), (c, 1)], .cod)
        at(2, "00:10")
        try await place("O2", [(a, 1), (b, 2)], .mpesa)
        at(2, "00:12")
        try await failPush(orders["O2"])
        at(2, "00:15")
        try await world.payByMpesa(try order("O2"))
        at(2, "10:00")
        try await place("O3", [(e, 1)], .mpesa)
        at(2, "10:02")
        try await world.payByMpesa(try order("O3"))
        at(2, "10:30")
        try await lifecycle { lifecycle, connection, parcels in
            try await lifecycle.reject(try parcels("S3").id, merchantID: world.merchants[2], reason: "Sold out", actor: merchants[2], on: connection)
        }
        at(2, "10:45")
        try await payOut(refundOf: "S3")
        at(2, "11:00")
        try await place("O4", [(d, 3)], .mpesa)
        at(2, "11:01")
        let late = try await pushThatTimesOut(try order("O4"))
        at(2, "11:32")
        try await services.orders.expireUnpaid()
        at(2, "11:45")
        try await services.payments.handleCallback(World.successCallback(late, cents: 53_000, receipt: "LATE000004"))
        at(2, "12:00")
        try await lifecycle { lifecycle, connection, parcels in
            for name in ["S1a", "S1b", "S2"] {
                let parcel = try parcels(name)
                let index = world.merchants.firstIndex(of: parcel.merchantID) ?? 0
                try await lifecycle.accept(parcel.id, merchantID: parcel.merchantID, actor: merchants[index], on: connection)
            }
        }
        at(2, "14:00")
        try await atHub(0) { lifecycle, connection, parcels, staff in
            try await lifecycle.receive(try parcels("S1a").id, accepted: true, note: nil, actor: staff, on: connection)
            try await lifecycle.receive(try parcels("S2").id, accepted: true, note: nil, actor: staff, on: connection)
        }
        at(2, "15:00")
        try await atHub(1) { lifecycle, connection, parcels, staff in
            try await lifecycle.receive(try parcels("S1b").id, accepted: true, note: nil, actor: staff, on: connection)
        }
        at(2, "16:00")
        try await atHub(1) { lifecycle, connection, parcels, staff in try await lifecycle.dispatch(try parcels("S1b").id, actor: staff, on: connection) }
        at(2, "20:00")
        try await atHub(0) { lifecycle, connection, parcels, staff in
            try await lifecycle.receive(try parcels("S1b").id, accepted: true, note: nil, actor: staff, on: connection)
        }
        at(3, "08:00")
        try await atHub(0) { lifecycle, connection, parcels, staff in
            for name in ["S1a", "S1b", "S2"] {
                try await lifecycle.sendOutForDelivery(try parcels(name).id, riderName: "Otieno Ouma", riderPhone: rider, actor: staff, on: connection)
            }
        }
        at(3, "09:00")
        try await place("O5", [(a, 1)], .cod)
        at(3, "09:30")
        try await atHub(0) { lifecycle, connection, parcels, staff in
            try await lifecycle.attemptFailed(try parcels("S1a").id, reason: .customerAbsent, note: nil, actor: staff, on: connection)
        }
        at(3, "09:40")
        try await atHub(0) { lifecycle, connection, parcels, staff in
            try await lifecycle.attemptFailed(try parcels("S1b").id, reason: .customerRefused, note: nil, actor: staff, on: connection)
        }
        at(3, "10:00")
        try await deliver("S2")
        at(3, "11:00")
        try await atHub(0) { lifecycle, connection, parcels, staff in
            try await lifecycle.sendOutForDelivery(try parcels("S1a").id, riderName: "Otieno Ouma", riderPhone: rider, actor: staff, on: connection)
        }
        at(3, "11:30")
        try await deliver("S1a")
        at(3, "12:00")
        try await place("O6", [(c, 1)], .cod)
        at(3, "12:30")
        _ = try await services.orders.cancel(try order("O6").id, by: world.principal(world.customer, .customer))
        at(3, "12:45")
        try await payOut(refundOfPayment: orders["O4"])
        at(3, "13:00")
        try await atHub(0) { lifecycle, connection, parcels, staff in try await lifecycle.dispatchReturn(try parcels("S1b").id, actor: staff, on: connection) }
        at(3, "14:00")
        try await place("O7", [(f, 1)], .mpesa)
        at(3, "14:02")
        try await world.payByMpesa(try order("O7"))
        at(3, "15:00")
        try await lifecycle { lifecycle, connection, parcels in
            try await lifecycle.accept(try parcels("S5").id, merchantID: world.merchants[0], actor: merchants[0], on: connection)
        }
        at(3, "15:30")
        try await atHub(0) { lifecycle, connection, parcels, staff in
            try await lifecycle.receive(try parcels("S5").id, accepted: true, note: nil, actor: staff, on: connection)
        }
        at(3, "16:00")
        try await lifecycle { lifecycle, connection, parcels in
            try await lifecycle.accept(try parcels("S7").id, merchantID: world.merchants[2], actor: merchants[2], on: connection)
        }
        at(3, "16:30")
        try await atHub(2) { lifecycle, connection, parcels, staff in
            try await lifecycle.receive(try parcels("S7").id, accepted: true, note: nil, actor: staff, on: connection)
        }
        at(3, "17:00")
        _ = try await services.orders.cancelSubOrder(try parcel("S7").id, note: "Damaged at the hub", by: adminPrincipal)
        at(3, "18:00")
        _ = try await services.cash.remit(
            declaredCents: 37_000, by: Principal(userID: staff[0], role: .hubStaff, hubID: hubs[0], merchantID: nil))
        at(3, "18:30")
        try await atHub(0) { lifecycle, connection, parcels, staff in
            try await lifecycle.sendOutForDelivery(try parcels("S5").id, riderName: "Otieno Ouma", riderPhone: rider, actor: staff, on: connection)
        }
        at(3, "19:00")
        try await deliver("S5")
        at(3, "20:00")
        try await atHub(1) { lifecycle, connection, parcels, staff in try await lifecycle.completeReturn(try parcels("S1b").id, actor: staff, on: connection) }

        at(4, "09:00")
        let s2 = try parcel("S2")
        refundedOnS2 = (item(of: s2, a), item(of: s2, b))
        let r2 = try await requestRefund("S2", [(refundedOnS2.a, 1), (refundedOnS2.b, 1)], .damaged)
        let r1 = try await requestRefund("S1a", [(item(of: try parcel("S1a"), a), 1)], .damaged)
        let r5 = try await requestRefund("S5", [(item(of: try parcel("S5"), a), 1)], .wrongItem)
        at(4, "10:00")
        _ = try await services.refunds.approve(r2, .init(amountCents: 50_000, restock: false, note: "Half of it"), by: adminPrincipal)
        _ = try await services.refunds.deny(r5, note: "It is the item ordered", by: adminPrincipal)
        at(4, "10:30")
        try await payOut(r2)
        at(4, "11:00")
        _ = try await services.reviews.create(.init(orderItemID: item(of: try parcel("S1a"), a), rating: 5), authorID: world.customer)
        _ = try await services.reviews.create(.init(orderItemID: refundedOnS2.b, rating: 4), authorID: world.customer)
        let hidden = try await services.reviews.create(.init(orderItemID: item(of: try parcel("S5"), a), rating: 2), authorID: world.customer)
        at(4, "11:30")
        _ = try await services.reviews.hide(hidden.id, note: "Not about the product", adminID: admin)
        at(4, "12:00")
        _ = try await services.refunds.approve(r1, .init(amountCents: nil, restock: false, note: nil), by: adminPrincipal)
        at(4, "12:30")
        try await payOut(r1)
        at(4, "13:00")
        try await place("O8", [(d, 1)], .cod)
        at(4, "13:10")
        try await lifecycle { lifecycle, connection, parcels in
            try await lifecycle.accept(try parcels("S8").id, merchantID: world.merchants[1], actor: merchants[1], on: connection)
        }
        at(4, "13:20")
        try await atHub(1) { lifecycle, connection, parcels, staff in
            try await lifecycle.receive(try parcels("S8").id, accepted: true, note: nil, actor: staff, on: connection)
        }
        at(4, "13:30")
        try await atHub(1) { lifecycle, connection, parcels, staff in try await lifecycle.dispatch(try parcels("S8").id, actor: staff, on: connection) }
        at(4, "14:00")
        try await place("O9", [(a, 1)], .mpesa)
        at(4, "15:00")
        try await place("O10", [(f, 2)], .cod)
    }

    // MARK: Steps

    private static func rider() throws -> PhoneNumber {
        guard let phone = PhoneNumber(normalising: "0799000000") else { throw KnownWorldError.missing("rider phone") }
        return phone
    }

    private var adminPrincipal: Principal { Principal(userID: admin, role: .admin, hubID: nil, merchantID: nil) }

    func order(_ name: String) throws -> Order {
        guard let order = orders[name] else { throw KnownWorldError.missing(name) }
        return order
    }

    func parcel(_ name: String) throws -> SubOrder {
        guard let parcel = parcels[name] else { throw KnownWorldError.missing(name) }
        return parcel
    }

    private func item(of parcel: SubOrder, _ product: UUID) -> UUID {
        parcel.items.first { $0.productID == product }?.id ?? UUID()
    }

    /// Checks the cart out; its sub-orders are named after the order (S1a, S1b by merchant).
    private mutating func place(_ name: String, _ cart: [(UUID, Int)], _ method: PaymentMethod) async throws {
        for (product, quantity) in cart { try await world.put(product, quantity) }
        let order = try await world.checkout(method: method).order
        orders[name] = order
        let number = String(name.dropFirst())
        if order.subOrders.count == 1 {
            parcels["S\(number)"] = order.subOrders[0]
        } else {
            for parcel in order.subOrders {
                parcels["S\(number)\(parcel.merchantID == world.merchants[0] ? "a" : "b")"] = parcel
            }
        }
    }

    private func lifecycle(
        _ body: @escaping @Sendable (SubOrderLifecycle, PostgresConnection, @Sendable (String) throws -> SubOrder) async throws -> Void
    ) async throws {
        let lifecycle = services.orders.lifecycle
        let parcels = self.parcels
        try await world.database.transaction { connection in
            try await body(lifecycle, connection) { name in
                guard let parcel = parcels[name] else { throw KnownWorldError.missing(name) }
                return parcel
            }
        }
    }

    private func atHub(
        _ index: Int,
        _ body: @escaping @Sendable (SubOrderLifecycle, PostgresConnection, @Sendable (String) throws -> SubOrder, Actor) async throws -> Void
    ) async throws {
        let actor = Actor(userID: staff[index], role: .hubStaff, hubID: hubs[index])
        try await lifecycle { lifecycle, connection, parcels in try await body(lifecycle, connection, parcels, actor) }
    }

    /// Handed over at the door with its code; cash parcels with their total collected.
    private func deliver(_ name: String) async throws {
        let parcel = try parcel(name)
        let method = try order("O" + name.dropFirst().filter(\.isNumber)).paymentMethod
        let code = parcel.handoverCode ?? ""
        let outcome = try await services.database.transaction { [staff, hubs, services] connection in
            try await services.orders.lifecycle.deliver(
                parcel.id, handoverCode: code, codCollectedCents: method == .cod ? parcel.totalCents : nil,
                actor: Actor(userID: staff[0], role: .hubStaff, hubID: hubs[0]), on: connection)
        }
        guard outcome == .delivered else { throw KnownWorldError.notDelivered(name) }
    }

    /// A push M-Pesa answers with "cancelled by the user".
    private func failPush(_ order: Order?) async throws {
        guard let order else { throw KnownWorldError.missing("order") }
        let checkout = "ws_CO_failed_\(order.id.uuidString.lowercased())"
        try await services.database.query(
            """
            INSERT INTO payments (id, order_id, status, amount_cents, phone, checkout_request_id, created_at)
            VALUES (\(UUID()), \(order.id), 'pending', \(order.totalCents), '254712345600', \(checkout), \(harness.clock.effects.now()))
            """)
        try await services.payments.handleCallback(
            Data(
                """
                {"Body": {"stkCallback": {"MerchantRequestID": "m-\(checkout)", "CheckoutRequestID": "\(checkout)",
                 "ResultCode": 1032, "ResultDesc": "Request cancelled by user"}}}
                """.utf8))
    }

    /// A push whose answer never came in time: recorded failed ("no answer"), as the service
    /// records a timed-out push; returns its CheckoutRequestID for the success that comes later.
    private func pushThatTimesOut(_ order: Order) async throws -> String {
        let checkout = "ws_CO_late_\(order.id.uuidString.lowercased())"
        let now = harness.clock.effects.now()
        try await services.database.query(
            """
            INSERT INTO payments (id, order_id, status, amount_cents, phone, checkout_request_id, created_at, settled_at, result_desc)
            VALUES (\(UUID()), \(order.id), 'failed', \(order.totalCents), '254712345600', \(checkout), \(now), \(now.addingTimeInterval(60)),
                    'no answer')
            """)
        return checkout
    }

    private func requestRefund(_ name: String, _ items: [(UUID, Int)], _ reason: Refunds.Reason) async throws -> UUID {
        try await services.refunds.request(
            .init(subOrderID: try parcel(name).id, items: items.map { (orderItemID: $0.0, quantity: $0.1) }, reason: reason, details: "Not what we hoped for",
                  evidenceURLs: []),
            by: world.principal(world.customer, .customer)
        ).id
    }

    /// Pays a refund out by M-Pesa B2C; the simulator's result callback settles it.
    private func payOut(_ refund: UUID) async throws {
        try await services.payouts.payOut(refund)
        let originator = try await services.database.query("SELECT originator_conversation_id FROM refunds WHERE id = \(refund)")[0]
            .decode(String.self)
        _ = await harness.simulator.release(originatorConversationID: originator)
    }

    private func payOut(refundOf name: String) async throws {
        let id = try await services.database.query("SELECT id FROM refunds WHERE sub_order_id = \(try parcel(name).id)")[0].decode(UUID.self)
        try await payOut(id)
    }

    private func payOut(refundOfPayment order: Order?) async throws {
        guard let order else { throw KnownWorldError.missing("order") }
        let id = try await services.database.query("SELECT id FROM refunds WHERE order_id = \(order.id) AND sub_order_id IS NULL")[0]
            .decode(UUID.self)
        try await payOut(id)
    }

    enum KnownWorldError: Error {
        case missing(String), notDelivered(String)
    }
}
