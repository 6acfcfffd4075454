import Core
import Foundation
import Identity
import Orders
import TestSupport
import Testing

@Suite struct LifecycleTests {
    @Test func theMerchantAcceptsOrRejectsOnlyTheirOwnPlacedSubOrders() async throws {
        try await World.with { world in
            // Setup
            try await world.put(world.products[0][0], 2)
            try await world.put(world.products[1][0], 3)
            let order = try await world.checkout().order
            let mine = order.subOrders.first { $0.merchantID == world.merchants[0] }!
            let theirs = order.subOrders.first { $0.merchantID == world.merchants[1] }!
            let merchant0 = world.principal(world.merchantUsers[0], .merchant, merchant: world.merchants[0])
            let merchant1 = world.principal(world.merchantUsers[1], .merchant, merchant: world.merchants[1])
            let orders = world.services.orders

            // Act and check: accept
            let accepted = try await orders.accept(mine.id, by: merchant0)
            #expect(accepted.status == .accepted)
            #expect(accepted.events.map(\.to) == [.placed, .accepted])
            #expect(accepted.events.last?.from == .placed)
            #expect(accepted.events.last?.actorRole == "merchant")
            let twice = await #expect(throws: Problem.self) { try await orders.accept(mine.id, by: merchant0) }
            #expect(twice?.code == "invalid_transition")
            #expect(twice?.extensions["current_status"] == .string("accepted"))
            let foreign = await #expect(throws: Problem.self) { try await orders.accept(theirs.id, by: merchant0) }
            #expect(foreign?.status == 404)

            // Reject puts the stock back.
            #expect(try await world.stock(world.products[1][0]) == 17)
            let rejected = try await orders.reject(theirs.id, reason: "Out of packaging", by: merchant1)
            #expect(rejected.status == .cancelled)
            #expect(rejected.cancelReason == .merchantRejected)
            #expect(rejected.events.last?.note == "Out of packaging")
            #expect(try await world.stock(world.products[1][0]) == 20)
            let rejectAccepted = await #expect(throws: Problem.self) { try await orders.reject(mine.id, reason: "no", by: merchant0) }
            #expect(rejectAccepted?.extensions["current_status"] == .string("accepted"))

            let master = try await orders.order(order.id, scope: .customer(world.customer))
            #expect(master.status == "in_progress")
        }
    }

    @Test func aCustomerCancelsWhatHasNotReachedAHub() async throws {
        try await World.with { world in
            // Setup: one parcel accepted, one already at its origin hub, one placed.
            for merchant in 0..<3 { try await world.put(world.products[merchant][0], 2) }
            let order = try await world.checkout().order
            let atHub = order.subOrders[1]
            _ = try await world.services.orders.accept(order.subOrders[0].id, by: world.principal(
                world.merchantUsers[world.merchants.firstIndex(of: order.subOrders[0].merchantID)!], .merchant,
                merchant: order.subOrders[0].merchantID))
            try await world.force(atHub.id, to: .atOriginHub)
            let customer = world.principal(world.customer, .customer)

            // Act
            let cancelled = try await world.services.orders.cancel(order.id, by: customer)

            // Check
            #expect(cancelled.subOrders.map(\.status) == [.cancelled, .atOriginHub, .cancelled])
            #expect(cancelled.subOrders.filter { $0.status == .cancelled }.allSatisfy { $0.cancelReason == .customer })
            #expect(cancelled.status == "in_progress")
            let stocks = try await [world.products[0][0], world.products[1][0], world.products[2][0]].asyncMap { try await world.stock($0) }
            let atHubProduct = world.products[world.merchants.firstIndex(of: atHub.merchantID)!][0]
            for (product, stock) in zip([world.products[0][0], world.products[1][0], world.products[2][0]], stocks) {
                #expect(stock == (product == atHubProduct ? 18 : 20))
            }
            let again = await #expect(throws: Problem.self) { try await world.services.orders.cancel(order.id, by: customer) }
            #expect(again?.code == "invalid_transition")
            #expect(again?.extensions["current_status"] == .string("at_origin_hub"))

            let stranger = world.principal(try await World.makeUser(world.services, email: "x@example.com"), .customer)
            let notYours = await #expect(throws: Problem.self) { try await world.services.orders.cancel(order.id, by: stranger) }
            #expect(notYours?.status == 404)
        }
    }

    @Test func anAdminCancelsBeforeOutForDelivery() async throws {
        try await World.with { world in
            try await world.put(world.products[0][0], 1)
            try await world.put(world.products[1][0], 1)
            let order = try await world.checkout().order
            let admin = world.principal(try await World.makeUser(world.services, email: "a@example.com", role: "admin"), .admin)
            try await world.force(order.subOrders[0].id, to: .inTransit)
            try await world.force(order.subOrders[1].id, to: .outForDelivery)

            let cancelled = try await world.services.orders.cancelSubOrder(order.subOrders[0].id, note: "fraud check", by: admin)
            let late = await #expect(throws: Problem.self) {
                try await world.services.orders.cancelSubOrder(order.subOrders[1].id, note: "too late", by: admin)
            }

            #expect(cancelled.status == .cancelled)
            #expect(cancelled.cancelReason == .admin)
            #expect(cancelled.events.last?.note == "fraud check")
            #expect(cancelled.events.last?.from == .inTransit)
            #expect(late?.extensions["current_status"] == .string("out_for_delivery"))
        }
    }

    @Test func expiryPutsStockBackExactlyOnceUnderConcurrentRuns() async throws {
        try await World.with(settings: ["PAYMENT_EXPIRY_MINUTES": "30"]) { world in
            // Setup: two unpaid M-Pesa orders, one old enough to expire, and a COD order of the same age.
            try await world.put(world.products[0][0], 4)
            try await world.put(world.products[1][0], 1)
            let old = try await world.checkout(method: .mpesa).order
            try await world.put(world.products[0][0], 2)
            let fresh = try await world.checkout(method: .mpesa).order
            try await world.put(world.products[0][0], 1)
            let cod = try await world.checkout(method: .cod).order
            _ = try await world.database.query(
                "UPDATE orders SET created_at = now() - interval '31 minutes' WHERE id = ANY(\([old.id, cod.id]))")
            #expect(try await world.stock(world.products[0][0]) == 13)

            // Act: four expiry runs at once.
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await world.services.orders.expireUnpaid() } }
                return try await group.reduce(0, +)
            }

            // Check
            #expect(counts == 2)
            #expect(try await world.stock(world.products[0][0]) == 17)
            #expect(try await world.stock(world.products[1][0]) == 20)
            let expired = try await world.services.orders.order(old.id, scope: .customer(world.customer))
            #expect(expired.status == "cancelled")
            #expect(expired.subOrders.allSatisfy { $0.cancelReason == .paymentExpired })
            #expect(expired.subOrders.allSatisfy { $0.events.map(\.to) == [.awaitingPayment, .cancelled] })
            #expect(expired.timeline.last?.actorRole == "system")
            #expect(try await world.services.orders.order(fresh.id, scope: .admin).status == "awaiting_payment")
            #expect(try await world.services.orders.order(cod.id, scope: .admin).status == "placed")
            let restocked = try await world.database.query(
                "SELECT sum(restocked_quantity) FROM order_items i JOIN sub_orders s ON s.id = i.sub_order_id WHERE s.order_id = \(old.id)")
            #expect(try restocked[0].decode(Int.self) == 5)
            #expect(try await world.services.orders.expireUnpaid() == 0)
        }
    }

    @Test func cancellingOrRejectingAPaidParcelOwesAnAutomaticRefund() async throws {
        try await World.with { world in
            // Setup: a prepaid order with two parcels and an unpaid M-Pesa order.
            try await world.put(world.products[0][0], 1)
            try await world.put(world.products[1][0], 1)
            let paid = try await world.checkout(method: .mpesa).order
            try await world.payByMpesa(paid)
            try await world.put(world.products[2][0], 1)
            let unpaid = try await world.checkout(method: .mpesa).order
            let rejectedParcel = paid.subOrders.first { $0.merchantID == world.merchants[1] }!
            let merchant = world.principal(world.merchantUsers[1], .merchant, merchant: world.merchants[1])

            // Act
            _ = try await world.services.orders.reject(rejectedParcel.id, reason: "Sold out in the shop", by: merchant)
            _ = try await world.services.orders.cancel(paid.id, by: world.principal(world.customer, .customer))
            _ = try await world.services.orders.cancel(unpaid.id, by: world.principal(world.customer, .customer))

            // Check: one approved automatic refund per paid parcel, for its whole total; none for the unpaid order.
            let rows = try await world.database.query(
                "SELECT sub_order_id, status, reason, amount_cents FROM refunds ORDER BY reason")
            let refunds = try rows.map { try $0.decode((UUID, String, String, Int64).self) }
            let other = paid.subOrders.first { $0.id != rejectedParcel.id }!
            #expect(refunds.count == 2)
            #expect(refunds.contains { $0 == (other.id, "approved", "cancelled", other.totalCents) })
            #expect(refunds.contains { $0 == (rejectedParcel.id, "approved", "merchant_rejected", rejectedParcel.totalCents) })
            #expect(try await world.count("refund_events") == 2)
        }
    }

    @Test(arguments: [
        ([SubOrderStatus.cancelled, .cancelled], "cancelled"),
        ([.awaitingPayment, .awaitingPayment], "awaiting_payment"),
        ([.delivered, .cancelled], "delivered"),
        ([.returned, .cancelled], "returned"),
        ([.delivered, .returned], "completed"),
        ([.placed, .cancelled], "placed"),
        ([.placed, .accepted], "in_progress"),
        ([.delivered, .outForDelivery], "in_progress"),
        ([.returning, .delivered], "in_progress"),
        ([.delivered, .delivered], "delivered"),
    ])
    func theMasterStatusIsDerivedFromItsSubOrders(statuses: [SubOrderStatus], expected: String) async throws {
        try await World.with { world in
            // Setup
            try await world.put(world.products[0][0], 1)
            try await world.put(world.products[1][0], 1)
            let order = try await world.checkout().order

            // Act
            for (subOrder, status) in zip(order.subOrders, statuses) {
                _ = try await world.database.query(
                    """
                    UPDATE sub_orders SET status = \(status.rawValue),
                        cancel_reason = CASE WHEN \(status.rawValue) = 'cancelled' THEN 'admin' END
                    WHERE id = \(subOrder.id)
                    """)
            }
            let shown = try await world.services.orders.order(order.id, scope: .admin).status
            let searched = try await world.services.orders.search(
                .init(number: nil, customerID: nil, merchantID: nil, status: expected, from: nil, to: nil),
                page: PageRequest(limit: nil, cursor: nil))

            // Check: the order shows the status, and a search for the status finds it.
            #expect(shown == expected)
            #expect(searched.items.map(\.id) == [order.id])
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
