import Core
import Foundation
import Orders
import TestSupport
import Testing

@Suite struct CheckoutTests {
    @Test func aThreeMerchantCartBecomesOneMasterOrderAndThreeSubOrders() async throws {
        try await World.with { world in
            // Setup: 3 × 123.00 + 1 × 500.00 from the NBO merchant, 2 × 369.00 from MSA, 1 × 999.00 from KSM.
            try await world.put(world.products[0][0], 3)
            try await world.put(world.products[0][1], 1)
            try await world.put(world.products[1][0], 2)
            try await world.put(world.products[2][0], 1)

            // Act
            let outcome = try await world.checkout(method: .cod)
            let order = outcome.order

            // Check: money
            #expect(outcome.isCreated)
            #expect(order.itemsTotalCents == 36_900 + 50_000 + 73_800 + 99_900)
            #expect(order.deliveryFeeCents == 50_000)
            #expect(order.totalCents == order.itemsTotalCents + 50_000)
            #expect(order.subOrders.map(\.totalCents).reduce(0, +) == order.totalCents)
            #expect(order.status == "placed")
            #expect(order.paymentState == "cod_due")
            #expect(order.number.range(of: #"^HR-\d{4}-\d{6}$"#, options: .regularExpression) != nil)

            // Sub-orders are numbered in merchant-id order; the fee's remainder is on the first.
            let byMerchant = world.merchants.sorted { $0.uuidString < $1.uuidString }
            #expect(order.subOrders.map(\.merchantID) == byMerchant)
            #expect(order.subOrders.map(\.number) == (1...3).map { "\(order.number)-\($0)" })
            #expect(order.subOrders.map(\.deliveryFeeCents) == [16_800, 16_600, 16_600])

            let expected: [UUID: (items: Int64, commission: Int64, origin: UUID)] = [
                world.merchants[0]: (86_900, 8_690, world.hubs[0]),  // 10% of 869.00
                world.merchants[1]: (73_800, 9_225, world.hubs[1]),  // 12.5% of 738.00
                world.merchants[2]: (99_900, 0, world.hubs[2]),
            ]
            for subOrder in order.subOrders {
                let want = expected[subOrder.merchantID]!
                #expect(subOrder.itemsTotalCents == want.items)
                #expect(subOrder.commissionCents == want.commission)
                #expect(subOrder.merchantPayoutCents == want.items - want.commission)
                #expect(subOrder.totalCents == subOrder.itemsTotalCents + subOrder.deliveryFeeCents)
                #expect(subOrder.originHub.id == want.origin)
                #expect(subOrder.destinationHub.id == world.hubs[0])
                #expect(subOrder.status == .placed)
                #expect(subOrder.handoverCode?.range(of: #"^\d{6}$"#, options: .regularExpression) != nil)
                #expect(subOrder.events.map(\.to) == [.placed])
            }

            // Check: what was stored matches what was answered.
            let stored = try await world.services.orders.order(order.id, scope: .customer(world.customer))
            #expect(stored.subOrders.map(\.totalCents) == order.subOrders.map(\.totalCents))
            #expect(stored.subOrders.map(\.commissionCents) == order.subOrders.map(\.commissionCents))
            #expect(stored.subOrders.flatMap(\.items).map(\.lineTotalCents).reduce(0, +) == order.itemsTotalCents)
            #expect(stored.subOrders.allSatisfy { $0.handoverCode == nil })
            let first = stored.subOrders.first { $0.merchantID == world.merchants[0] }!
            #expect(Set(first.items.map(\.name)) == ["Product 0-0", "Product 0-1"])
            #expect(first.items.first { $0.name == "Product 0-0" }.map { ($0.unitPriceCents, $0.quantity) } ?? (0, 0) == (12_300, 3))
            #expect(stored.timeline.count == 3)
            #expect(try await world.count("sub_order_events") == 3)

            // Check: stock taken, cart emptied.
            #expect(try await world.stock(world.products[0][0]) == 17)
            #expect(try await world.stock(world.products[1][0]) == 18)
            #expect(try await world.count("cart_items") == 0)
        }
    }

    @Test func mpesaOrdersWaitForPayment() async throws {
        try await World.with { world in
            try await world.put(world.products[1][1], 2)
            let order = try await world.checkout(method: .mpesa).order
            #expect(order.status == "awaiting_payment")
            #expect(order.paymentState == "unpaid")
            #expect(order.subOrders.map(\.status) == [.awaitingPayment])
            #expect(order.subOrders[0].deliveryFeeCents == 50_000)  // one merchant carries the whole fee
            #expect(order.subOrders[0].originHub.id == world.hubs[1])
        }
    }

    @Test func anIdempotentReplayReturnsTheSameOrderAndCreatesNothing() async throws {
        try await World.with { world in
            try await world.put(world.products[0][0], 1)
            let first = try await world.checkout(key: "key-1")
            try await world.put(world.products[0][0], 1)  // a new cart must not change the replay

            let replay = try await world.checkout(key: "key-1")
            let otherBody = await #expect(throws: Problem.self) { try await world.checkout(key: "key-1", method: .mpesa) }

            #expect(!replay.isCreated)
            #expect(replay.order.id == first.order.id)
            #expect(replay.order.subOrders.allSatisfy { $0.handoverCode == nil })
            #expect(otherBody?.code == "idempotency_key_reused")
            #expect(otherBody?.status == 422)
            #expect(try await world.count("orders") == 1)
            #expect(try await world.stock(world.products[0][0]) == 19)
            #expect(try await world.count("cart_items") == 1)
        }
    }

    @Test func concurrentRequestsWithOneKeyCreateOneOrder() async throws {
        try await World.with { world in
            try await world.put(world.products[0][0], 2)
            try await world.put(world.products[2][1], 1)

            let outcomes = try await withThrowingTaskGroup(of: Checkout.Outcome.self) { group in
                for _ in 0..<12 { group.addTask { try await world.checkout(key: "same-key") } }
                return try await group.reduce(into: [Checkout.Outcome]()) { $0.append($1) }
            }

            #expect(outcomes.filter(\.isCreated).count == 1)
            #expect(Set(outcomes.map(\.order.id)).count == 1)
            #expect(try await world.count("orders") == 1)
            #expect(try await world.count("sub_orders") == 2)
            #expect(try await world.stock(world.products[0][0]) == 18)
        }
    }

    @Test func shortStockFailsTheWholeCheckoutNamingTheProducts() async throws {
        try await World.with { world in
            try await world.put(world.products[0][0], 5)
            try await world.put(world.products[1][0], 21)
            try await world.put(world.products[2][0], 30)

            let problem = await #expect(throws: Problem.self) { try await world.checkout() }

            #expect(problem?.status == 409)
            #expect(problem?.code == "out_of_stock")
            guard case .array(let named)? = problem?.extensions["products"] else {
                Issue.record("no products in \(String(describing: problem))")
                return
            }
            let shortages = Set(named.map { entry -> String in
                guard case .object(let fields) = entry, case .string(let id)? = fields["product_id"],
                    case .int(let available)? = fields["available"]
                else { return "?" }
                return "\(id)=\(available)"
            })
            #expect(shortages == [
                "\(world.products[1][0].uuidString.lowercased())=20", "\(world.products[2][0].uuidString.lowercased())=20",
            ])
            #expect(try await world.count("orders") == 0)
            #expect(try await world.stock(world.products[0][0]) == 20)
            #expect(try await world.count("cart_items") == 3)
        }
    }

    @Test func aChangedTotalIsRefusedWithTheNewTotal() async throws {
        try await World.with { world in
            try await world.put(world.products[0][0], 1)
            let problem = await #expect(throws: Problem.self) { try await world.checkout(expected: 50_000) }
            #expect(problem?.code == "cart_changed")
            #expect(problem?.extensions["total_cents"] == .int(12_300 + 50_000))
            #expect(try await world.count("orders") == 0)
            #expect(try await world.checkout(expected: 62_300).isCreated)
        }
    }

    @Test func emptyCartsAddressesOfOthersAndLimitsAreRefused() async throws {
        try await World.with(settings: ["COD_MAX_SHILLINGS": "1000"]) { world in
            let empty = await #expect(throws: Problem.self) { try await world.checkout() }
            #expect(empty?.status == 422)
            #expect(empty?.code == "cart_empty")

            try await world.put(world.products[2][0], 1)  // 999.00 + 500.00 delivery > 1,000 shillings
            let cod = await #expect(throws: Problem.self) { try await world.checkout(method: .cod) }
            #expect(cod?.code == "amount_above_cod_limit")

            let stranger = try await World.makeUser(world.services, email: "stranger@example.com")
            let foreign = try await World.addAddress(world.services, user: stranger, zone: world.zone)
            let notMine = await #expect(throws: Problem.self) { try await world.checkout(method: .mpesa, address: foreign) }
            #expect(notMine?.errors.first?.field == "address_id")
            #expect(try await world.count("orders") == 0)
        }
    }

    @Test func mpesaRefusesMoreThanDarajaTakes() async throws {
        try await World.with { world in
            _ = try await world.database.query("UPDATE products SET price_cents = 12500000, stock = 5 WHERE id = \(world.products[0][0])")
            try await world.put(world.products[0][0], 2)  // 250,000 shillings + delivery
            let problem = await #expect(throws: Problem.self) { try await world.checkout(method: .mpesa) }
            #expect(problem?.code == "amount_above_mpesa_limit")
            #expect(problem?.status == 422)
        }
    }

    @Test func handoverCodesAreStoredOnlyAsKeyedDigests() async throws {
        try await World.with { world in
            try await world.put(world.products[0][0], 1)
            try await world.put(world.products[1][0], 1)
            let order = try await world.checkout().order
            let codes = HandoverCodes(key: world.services.config.handoverCodeKey, randomBytes: Effects.live.randomBytes)

            for subOrder in order.subOrders {
                let stored = try await world.database.query("SELECT handover_code_hash FROM sub_orders WHERE id = \(subOrder.id)")[0]
                    .decode(Data.self)
                #expect(codes.matches(subOrder.handoverCode!, subOrderID: subOrder.id, digest: stored))
                #expect(!codes.matches("000000", subOrderID: subOrder.id, digest: stored) || subOrder.handoverCode == "000000")
            }

            // Fresh codes replace the old; a delivered parcel keeps its code.
            try await world.force(order.subOrders[1].id, to: .delivered)
            let renewed = try await world.services.orders.freshHandoverCodes(order.id, by: world.principal(world.customer, .customer))
            #expect(renewed.subOrders[0].handoverCode != nil)
            #expect(renewed.subOrders[1].handoverCode == nil)
            let stored = try await world.database.query("SELECT handover_code_hash FROM sub_orders WHERE id = \(order.subOrders[0].id)")[0]
                .decode(Data.self)
            #expect(codes.matches(renewed.subOrders[0].handoverCode!, subOrderID: order.subOrders[0].id, digest: stored))
            #expect(!codes.matches(order.subOrders[0].handoverCode!, subOrderID: order.subOrders[0].id, digest: stored)
                || renewed.subOrders[0].handoverCode == order.subOrders[0].handoverCode)
        }
    }
}
