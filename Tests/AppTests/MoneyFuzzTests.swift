import Core
import Foundation
import Identity
import Logging
import Orders
import Payments
import PostgresNIO
import Refunds
import Server
import TestSupport
import Testing

/// Many orders driven through random interleavings of the money events (issue 11): pushes
/// with every simulator outcome, callbacks duplicated and reordered, reconciliation, expiry,
/// cancels, rejections, flagged resolutions, deliveries, returns, refund requests, decisions
/// and payouts. The books must balance at the end. The seed is printed (and may be set with
/// `MONEY_FUZZ_SEED`), so a failure reproduces: every step runs one after the other.
@Suite struct MoneyFuzzTests {
    @Test func randomInterleavingsOfMoneyEventsKeepTheBooksBalanced() async throws {
        let seed = ProcessInfo.processInfo.environment["MONEY_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        print("money fuzz: seed \(seed) (rerun with MONEY_FUZZ_SEED=\(seed))")
        try await PaymentHarness.run(settings: ["STK_PUSH_LIMIT_PER_ORDER": "1000", "STK_PUSH_LIMIT_PER_PHONE": "1000",
                                                 "STK_PUSH_LIMIT_PER_CUSTOMER": "1000"]) { harness in
            var fuzz = try await MoneyFuzz(harness: harness, seed: seed)
            try await fuzz.placeOrders(10)
            for _ in 0..<160 { try await fuzz.step() }
            try await fuzz.settleEverything()

            let discrepancies = try await harness.services.audit.run()
            #expect(discrepancies.isEmpty, "seed \(seed): \(discrepancies)")
            for order in fuzz.orders { try await harness.expectOwedExactly(order) }
            print("money fuzz: seed \(seed): \(fuzz.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        }
    }
}

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct MoneyFuzz {
    let harness: PaymentHarness
    var random: SeededGenerator
    var orders: [Order] = []
    /// Pushes whose callbacks M-Pesa still holds.
    var heldPushes: [Reply] = []
    /// Callback bodies delivered once, to be delivered again (Daraja's duplicates).
    var delivered: [String] = []
    var counts: [String: Int] = [:]
    let admin: Principal
    let customer: Principal

    init(harness: PaymentHarness, seed: UInt64) async throws {
        self.harness = harness
        self.random = SeededGenerator(state: seed)
        self.admin = try await harness.admin()
        self.customer = harness.world.principal(harness.world.customer, .customer)
    }

    var world: World { harness.world }
    var services: Services { harness.services }

    mutating func placeOrders(_ count: Int) async throws {
        for _ in 0..<count {
            let products = world.products.flatMap { $0 }.shuffled(using: &random).prefix(Int.random(in: 1...3, using: &random))
            for product in products { try await world.put(product, Int.random(in: 1...2, using: &random)) }
            orders.append(try await world.checkout(method: Bool.random(using: &random) ? .mpesa : .cod).order)
        }
    }

    mutating func step() async throws {
        let order = orders.randomElement(using: &random)!
        let actions: [(String, (inout MoneyFuzz, Order) async throws -> Void)] = [
            ("push", { try await $0.push($1) }), ("push", { try await $0.push($1) }),
            ("release", { await $0.releaseAPush($1) }), ("release", { await $0.releaseAPush($1) }),
            ("duplicate callback", { try await $0.redeliverACallback($1) }),
            ("reconcile", { try await $0.reconcile($1) }),
            ("expire", { try await $0.expire($1) }),
            ("customer cancel", { try await $0.customerCancels($1) }),
            ("admin cancel", { try await $0.adminCancels($1) }),
            ("merchant reject", { try await $0.merchantRejects($1) }),
            ("resolve flagged", { try await $0.resolveFlagged($1) }),
            ("deliver", { try await $0.deliver($1) }), ("deliver", { try await $0.deliver($1) }),
            ("return", { try await $0.returnToMerchant($1) }),
            ("request refund", { try await $0.requestRefund($1) }), ("request refund", { try await $0.requestRefund($1) }),
            ("decide refund", { try await $0.decideRefund($1) }),
            ("pay out", { try await $0.payOut($1) }),
        ]
        let (name, action) = actions.randomElement(using: &random)!
        do {
            try await action(&self, order)
            counts[name, default: 0] += 1
        } catch let problem as Problem where (400..<500).contains(problem.status) {
            counts["refused", default: 0] += 1  // not allowed in this state: fine
        }
    }

    // MARK: Payments

    mutating func push(_ order: Order) async throws {
        let ending = ["00", "00", "01", "02", "03", "04", "05", "06", "07", "08"].randomElement(using: &random)!
        let reply = try await harness.push(order, phone: "07123456\(ending)")
        if reply.status == 202 { heldPushes.append(reply) } else { try expectClientError(reply) }
    }

    mutating func releaseAPush(_ order: Order) async {
        guard !heldPushes.isEmpty else { return }
        let push = heldPushes.remove(at: Int.random(in: 0..<heldPushes.count, using: &random))
        let callbacks = await harness.release(push, deliveries: Int.random(in: 1...2, using: &random))
        delivered += callbacks.map(\.body)
        // A duplicate left held goes out with the next release of everything.
        if callbacks.count == 1, push.json["checkout_request_id"].string != nil { heldPushes.append(push) }
    }

    mutating func redeliverACallback(_ order: Order) async throws {
        guard let body = delivered.randomElement(using: &random) else { return }
        try await services.payments.handleCallback(Data(body.utf8))
    }

    func reconcile(_ order: Order) async throws {
        harness.clock.advance(by: services.config.mpesa.reconciliationDelay)
        try await runJobs()
    }

    func expire(_ order: Order) async throws {
        harness.clock.advance(by: services.config.paymentExpiry + .seconds(60))
        _ = try await services.orders.expireUnpaid()
    }

    mutating func resolveFlagged(_ order: Order) async throws {
        let flagged = try await world.database.query(
            "SELECT id FROM payments WHERE order_id = \(order.id) AND status = 'flagged' AND resolution IS NULL")
        guard let id = try flagged.first?.decode(UUID.self) else { return }
        _ = try await services.payments.resolve(id, Bool.random(using: &random) ? .accept : .refund, note: "fuzz", by: admin)
    }

    // MARK: Parcels

    func customerCancels(_ order: Order) async throws {
        _ = try await services.orders.cancel(order.id, by: customer)
    }

    mutating func adminCancels(_ order: Order) async throws {
        let parcel = order.subOrders.randomElement(using: &random)!
        _ = try await services.orders.cancelSubOrder(parcel.id, note: "fuzz", by: admin)
    }

    mutating func merchantRejects(_ order: Order) async throws {
        let parcel = order.subOrders.randomElement(using: &random)!
        _ = try await services.orders.reject(parcel.id, reason: "fuzz", by: try harness.merchantPrincipal(of: parcel))
    }

    mutating func deliver(_ order: Order) async throws {
        let parcel = order.subOrders.randomElement(using: &random)!
        guard try await status(of: parcel) == .placed else { return }
        try await world.deliver(parcel, paymentMethod: order.paymentMethod)
    }

    mutating func returnToMerchant(_ order: Order) async throws {
        let parcel = order.subOrders.randomElement(using: &random)!
        guard try await status(of: parcel) == .placed else { return }
        try await world.returnToMerchant(parcel)
    }

    // MARK: Refunds

    mutating func requestRefund(_ order: Order) async throws {
        let parcel = order.subOrders.randomElement(using: &random)!
        let item = parcel.items.randomElement(using: &random)!
        let reasons: [Refunds.Reason] = [.damaged, .wrongItem, .notAsDescribed, .other]
        _ = try await services.refunds.request(
            .init(
                subOrderID: parcel.id, items: [(item.id, Int.random(in: 1...item.quantity, using: &random))],
                reason: reasons.randomElement(using: &random)!, details: "fuzz", evidenceURLs: []),
            by: customer)
    }

    mutating func decideRefund(_ order: Order) async throws {
        let requested = try await world.database.query(
            "SELECT id, amount_cents FROM refunds WHERE order_id = \(order.id) AND status = 'requested'")
        guard let row = requested.first else { return }
        let (id, amount) = try row.decode((UUID, Int64).self)
        switch Int.random(in: 0..<3, using: &random) {
        case 0: _ = try await services.refunds.deny(id, note: "fuzz", by: admin)
        case 1:
            let lower = max(100, amount / 200 * 100)
            _ = try await services.refunds.approve(id, .init(amountCents: lower, restock: Bool.random(using: &random), note: nil), by: admin)
        default: _ = try await services.refunds.approve(id, .init(amountCents: nil, restock: false, note: nil), by: admin)
        }
    }

    mutating func payOut(_ order: Order) async throws {
        try await runJobs()
        let paying = try await world.database.query(
            "SELECT originator_conversation_id FROM refunds WHERE status = 'paying' AND originator_conversation_id IS NOT NULL")
        for row in paying where Bool.random(using: &random) {
            _ = await harness.simulator.release(originatorConversationID: try row.decode(String.self))
        }
        let failed = try await world.database.query("SELECT id FROM refunds WHERE status = 'failed'")
        for row in failed where Bool.random(using: &random) {
            _ = try await services.refunds.retryPayout(try row.decode(UUID.self), by: admin)
        }
    }

    // MARK: The end

    /// Every callback delivered, every pending payment reconciled, every refund paid or failed
    /// for good: nothing left in flight.
    mutating func settleEverything() async throws {
        _ = await harness.simulator.releaseAll()
        harness.clock.advance(by: .seconds(3_600))
        for _ in 0..<3 {
            try await runJobs()
            _ = await harness.simulator.releaseAll()
        }
    }

    func runJobs() async throws {
        let runner = BackgroundJobs(services: services, logger: Logger(label: "fuzz-jobs")).runner
        while try await runner.runNext() {}
    }

    func status(of parcel: SubOrder) async throws -> SubOrderStatus? {
        SubOrderStatus(rawValue: try await world.database.query("SELECT status FROM sub_orders WHERE id = \(parcel.id)")[0].decode(String.self))
    }

    func expectClientError(_ reply: Reply) throws {
        guard (400..<500).contains(reply.status) || reply.status == 502 else {
            throw FuzzFailure(detail: "unexpected \(reply.status): \(reply.text)")
        }
    }

    struct FuzzFailure: Error, CustomStringConvertible {
        let detail: String
        var description: String { detail }
    }
}
