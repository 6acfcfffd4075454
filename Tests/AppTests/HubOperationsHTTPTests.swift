import Foundation
import HTTPTypes
import Orders
import Server
import TestSupport
import Testing

/// Parcels moving through the hubs over HTTP: NBO serves the customer's zone, merchant 0 lives
/// at NBO (same-hub parcels), merchant 1 at MSA (cross-hub parcels).
struct HubCast {
    let world: World
    let http: HTTPClient
    let customer: String
    let merchants: [String]
    let nbo: String
    let msa: String
    let ksm: String
    let nboStaffID: UUID

    static func make(_ http: HTTPClient, _ world: World) async throws -> HubCast {
        let nboStaff = try await world.staff(at: world.hubs[0], "Nancy Wairimu")
        return HubCast(
            world: world, http: http, customer: try await world.token(world.customer),
            merchants: [try await world.token(world.merchantUsers[0]), try await world.token(world.merchantUsers[1])],
            nbo: try await world.token(nboStaff),
            msa: try await world.token(try await world.staff(at: world.hubs[1], "Musa Ali")),
            ksm: try await world.token(try await world.staff(at: world.hubs[2], "Kevin Otieno")), nboStaffID: nboStaff)
    }

    @discardableResult
    func hub(_ token: String, _ action: String, _ subOrder: UUID, _ body: JSON? = nil) async throws -> Reply {
        try await http.send(.post, "/api/v1/hub/sub-orders/\(subOrder)/\(action)", json: body ?? [:], token: token)
    }

    func expectStatus(_ reply: Reply, _ status: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == 200, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.json["status"].string == status, "\(reply.text)", sourceLocation: sourceLocation)
    }

    /// Accepts the sub-order as its merchant and carries it to out_for_delivery.
    func bringOutForDelivery(_ subOrder: SubOrder) async throws {
        let merchant = merchants[world.merchants.firstIndex(of: subOrder.merchantID)!]
        expectStatus(try await http.send(.post, "/api/v1/merchant/orders/\(subOrder.id)/accept", token: merchant), "accepted")
        if subOrder.originHub.id == world.hubs[1] {
            expectStatus(try await hub(msa, "receive", subOrder.id, ["accepted": true]), "at_origin_hub")
            expectStatus(try await hub(msa, "dispatch", subOrder.id), "in_transit")
        }
        expectStatus(try await hub(nbo, "receive", subOrder.id, ["accepted": true]), "at_destination_hub")
        expectStatus(
            try await hub(nbo, "out-for-delivery", subOrder.id, ["rider_name": "Peter Kamau", "rider_phone": "0799111222"]),
            "out_for_delivery")
    }
}

func withHubs(_ body: @escaping @Sendable (HubCast) async throws -> Void) async throws {
    try await withMarketplace { http, world in try await body(try await HubCast.make(http, world)) }
}

@Suite struct HubOperationsHTTPTests {
    @Test func aCrossHubCODParcelAndASameHubPrepaidParcelGoAllTheWay() async throws {
        try await withHubs { cast in
            // Setup: a COD order with a cross-hub parcel; a prepaid order with a same-hub parcel.
            let world = cast.world
            try await world.put(world.products[1][0], 2)
            let cod = try await world.checkout(method: .cod).order
            let crossHub = cod.subOrders[0]
            try await world.put(world.products[0][0], 1)
            let prepaid = try await world.checkout(method: .mpesa).order
            let sameHub = prepaid.subOrders[0]
            try await world.force(sameHub.id, to: .placed)  // paid: the payments issue makes this move

            // Act: the cross-hub COD parcel, leg by leg with the staff of each hub.
            let merchantMSA = cast.merchants[1]
            cast.expectStatus(try await cast.http.send(.post, "/api/v1/merchant/orders/\(crossHub.id)/accept", token: merchantMSA), "accepted")
            let inbound = try await cast.http.send(.get, "/api/v1/hub/sub-orders?queue=inbound_from_merchants", token: cast.msa).json
            #expect(inbound["items"].array.map { $0["id"].string } == [crossHub.id.uuidString.lowercased()])
            cast.expectStatus(try await cast.hub(cast.msa, "receive", crossHub.id, ["accepted": true]), "at_origin_hub")
            cast.expectStatus(try await cast.hub(cast.msa, "dispatch", crossHub.id), "in_transit")
            let transfers = try await cast.http.send(.get, "/api/v1/hub/sub-orders?queue=inbound_transfers", token: cast.nbo).json
            #expect(transfers["items"].array.map { $0["id"].string } == [crossHub.id.uuidString.lowercased()])
            #expect(transfers["items"][0]["delivery_address"]["line1"].string == "Kenyatta Avenue 1")
            cast.expectStatus(try await cast.hub(cast.nbo, "receive", crossHub.id, ["accepted": true]), "at_destination_hub")
            let out = try await cast.hub(cast.nbo, "out-for-delivery", crossHub.id, ["rider_name": "Peter Kamau", "rider_phone": "0799111222"])
            cast.expectStatus(out, "out_for_delivery")
            #expect(out.json["rider"] == ["name": "Peter Kamau", "phone": "254799111222"])
            #expect(out.json["handover_code"].isNull)
            let delivered = try await cast.hub(
                cast.nbo, "deliver", crossHub.id,
                ["handover_code": .string(crossHub.handoverCode!), "cod_collected_cents": .number(Double(crossHub.totalCents))])
            cast.expectStatus(delivered, "delivered")

            // The same-hub prepaid parcel skips the transfer and needs no cash.
            cast.expectStatus(try await cast.http.send(.post, "/api/v1/merchant/orders/\(sameHub.id)/accept", token: cast.merchants[0]), "accepted")
            cast.expectStatus(try await cast.hub(cast.nbo, "receive", sameHub.id, ["accepted": true]), "at_destination_hub")
            cast.expectStatus(
                try await cast.hub(cast.nbo, "out-for-delivery", sameHub.id, ["rider_name": "Grace", "rider_phone": "0799333444"]),
                "out_for_delivery")
            cast.expectStatus(try await cast.hub(cast.nbo, "deliver", sameHub.id, ["handover_code": .string(sameHub.handoverCode!)]), "delivered")

            try await Self.checkTimeline(cast, cod: cod, prepaid: prepaid)
            try await Self.checkCash(cast, parcel: crossHub)
            try await Self.checkNotifications(cast)
        }
    }

    static func checkTimeline(_ cast: HubCast, cod: Order, prepaid: Order) async throws {
        // Check: events and the customer's timeline.
        let order = try await cast.http.send(.get, "/api/v1/orders/\(cod.id)", token: cast.customer)
        #expect(order.json["status"].string == "delivered")
        let steps = order.json["timeline"].array.map { "\($0["to_status"].string ?? "")@\($0["hub"]["code"].string ?? "-")" }
        #expect(steps == [
            "placed@-", "accepted@-", "at_origin_hub@MSA", "in_transit@MSA", "at_destination_hub@NBO", "out_for_delivery@NBO",
            "delivered@NBO",
        ])
        #expect(order.json["timeline"].array.first { $0["to_status"] == "out_for_delivery" }?["note"].string == "Rider: Peter")
        #expect(!order.text.contains("Kamau") && !order.text.contains("799111222") && !order.text.contains("Nancy"))
        #expect(order.json["sub_orders"][0]["rider"].isNull && order.json["sub_orders"][0]["delivery_address"].isNull)
        let sameHubSteps = try await cast.http.send(.get, "/api/v1/orders/\(prepaid.id)", token: cast.customer).json["timeline"].array
            .compactMap { $0["to_status"].string }
        #expect(sameHubSteps == ["awaiting_payment", "accepted", "at_destination_hub", "out_for_delivery", "delivered"])
    }

    static func checkCash(_ cast: HubCast, parcel crossHub: SubOrder) async throws {
        let world = cast.world
        // Check: cash held by the NBO staff member, then remitted with a shortfall of 100 shillings.
        let cash = try await cast.http.send(.get, "/api/v1/hub/remittances", token: cast.nbo).json
        #expect(cash["open_cents"].int == Int(crossHub.totalCents))
        #expect(cash["open_collections"].array.map { $0["sub_order_number"].string } == [crossHub.number])
        let remit = try await cast.http.send(
            .post, "/api/v1/hub/remittances", json: ["declared_cents": .number(Double(crossHub.totalCents - 10_000))], token: cast.nbo)
        #expect(remit.status == 201)
        #expect(remit.json["expected_cents"].int == Int(crossHub.totalCents))
        #expect(remit.json["variance_cents"].int == -10_000)
        #expect(remit.json["collections"].array.count == 1)
        #expect(try await cast.http.send(.get, "/api/v1/hub/remittances", token: cast.nbo).json["open_cents"].int == 0)
        expectProblem(try await cast.http.send(.post, "/api/v1/hub/remittances", json: ["declared_cents": 0], token: cast.nbo), 409, "nothing_to_remit")
        let admin = try await world.token(try await World.makeUser(world.services, email: "admin@example.com", role: "admin"))
        let overview = try await cast.http.send(.get, "/api/v1/admin/cod", token: admin).json
        #expect(overview["open"].array.isEmpty)
        #expect(overview["remittances"][0]["variance_cents"].int == -10_000)
    }

    static func checkNotifications(_ cast: HubCast) async throws {
        // Check: the customer was told at each step.
        let kinds = try await cast.http.send(.get, "/api/v1/notifications?limit=100", token: cast.customer).json["items"].array
            .compactMap { $0["kind"].string }
        for kind in ["order_placed", "sub_order_accepted", "sub_order_shipped", "sub_order_at_destination_hub",
                     "sub_order_out_for_delivery", "sub_order_delivered"] {
            #expect(kinds.contains(kind), "\(kind) in \(kinds)")
        }
        #expect(kinds.filter { $0 == "sub_order_delivered" }.count == 2)
    }

    @Test func staffActOnlyAtTheirHubAndOnTheirLeg() async throws {
        try await withHubs { cast in
            let world = cast.world
            try await world.put(world.products[1][0], 1)
            let parcel = try await world.checkout().order.subOrders[0]
            cast.expectStatus(try await cast.http.send(.post, "/api/v1/merchant/orders/\(parcel.id)/accept", token: cast.merchants[1]), "accepted")

            expectProblem(try await cast.hub(cast.ksm, "receive", parcel.id, ["accepted": true]), 404, "not_found")
            expectProblem(try await cast.hub(cast.nbo, "receive", parcel.id, ["accepted": true]), 409, "invalid_transition")
            expectProblem(try await cast.hub(cast.customer, "receive", parcel.id, ["accepted": true]), 403, "forbidden")
            #expect(try await cast.http.send(.get, "/api/v1/hub/sub-orders", token: cast.ksm).json["items"].array.isEmpty)

            // A refusal keeps the parcel where it is and says why.
            expectProblem(try await cast.hub(cast.msa, "receive", parcel.id, ["accepted": false]), 422, "validation_failed")
            let refused = try await cast.hub(cast.msa, "receive", parcel.id, ["accepted": false, "note": "Box crushed"])
            cast.expectStatus(refused, "accepted")
            #expect(refused.json["events"].array.last?["note"].string == "Refused at the hub: Box crushed")

            cast.expectStatus(try await cast.hub(cast.msa, "receive", parcel.id, ["accepted": true]), "at_origin_hub")
            expectProblem(try await cast.hub(cast.nbo, "dispatch", parcel.id), 409, "invalid_transition")
            expectProblem(try await cast.hub(cast.msa, "out-for-delivery", parcel.id, ["rider_name": "X", "rider_phone": "0799111222"]), 409, "invalid_transition")
            cast.expectStatus(try await cast.hub(cast.msa, "dispatch", parcel.id), "in_transit")
            expectProblem(try await cast.hub(cast.msa, "dispatch", parcel.id), 409, "invalid_transition")
        }
    }

    @Test func proofOfDeliveryCashAndLockout() async throws {
        try await withHubs { cast in
            // Setup
            let world = cast.world
            try await world.put(world.products[0][0], 1)
            let parcel = try await world.checkout(method: .cod).order.subOrders[0]
            try await cast.bringOutForDelivery(parcel)
            let wrongCode = parcel.handoverCode == "000000" ? "111111" : "000000"
            let total = Double(parcel.totalCents)

            // Cash must be there and exact.
            expectProblem(try await cast.hub(cast.nbo, "deliver", parcel.id, ["handover_code": .string(parcel.handoverCode!)]), 422, "validation_failed")
            let short = try await cast.hub(cast.nbo, "deliver", parcel.id, ["handover_code": .string(parcel.handoverCode!), "cod_collected_cents": .number(total - 100)])
            expectProblem(short, 422, "cod_amount_mismatch")
            #expect(short.json["total_cents"].int == Int(parcel.totalCents))

            // Wrong codes count down, then lock the parcel even for the right code.
            for left in [4, 3, 2, 1] {
                let wrong = try await cast.hub(cast.nbo, "deliver", parcel.id, ["handover_code": .string(wrongCode), "cod_collected_cents": .number(total)])
                expectProblem(wrong, 422, "invalid_handover_code")
                #expect(wrong.json["attempts_left"].int == left)
            }
            let fifth = try await cast.hub(cast.nbo, "deliver", parcel.id, ["handover_code": .string(wrongCode), "cod_collected_cents": .number(total)])
            expectProblem(fifth, 429, "handover_locked")
            #expect(Int(fifth.headers[.retryAfter] ?? "") ?? 0 > 800)
            let locked = try await cast.hub(cast.nbo, "deliver", parcel.id, ["handover_code": .string(parcel.handoverCode!), "cod_collected_cents": .number(total)])
            expectProblem(locked, 429, "handover_locked")
            #expect(try await world.count("cod_collections") == 0)

            // After the lock, the right code delivers, once.
            _ = try await world.database.query("UPDATE sub_orders SET handover_locked_until = now() - interval '1 second' WHERE id = \(parcel.id)")
            let delivered = try await cast.hub(cast.nbo, "deliver", parcel.id, ["handover_code": .string(parcel.handoverCode!), "cod_collected_cents": .number(total)])
            cast.expectStatus(delivered, "delivered")
            let twice = try await cast.hub(cast.nbo, "deliver", parcel.id, ["handover_code": .string(parcel.handoverCode!), "cod_collected_cents": .number(total)])
            expectProblem(twice, 409, "invalid_transition")
            #expect(try await world.count("cod_collections") == 1)
            #expect(!delivered.text.contains(parcel.handoverCode!))
        }
    }

    @Test func failedAttemptsSendAParcelBackAndAPaidReturnIsRefunded() async throws {
        try await withHubs { cast in
            // Setup: a cross-hub COD parcel and a same-hub prepaid one, both out for delivery.
            let world = cast.world
            try await world.put(world.products[1][0], 2)
            let cod = try await world.checkout(method: .cod).order.subOrders[0]
            try await world.put(world.products[0][0], 3)
            let prepaidOrder = try await world.checkout(method: .mpesa).order
            let prepaid = prepaidOrder.subOrders[0]
            try await world.payByMpesa(prepaidOrder)
            try await cast.bringOutForDelivery(cod)
            try await cast.bringOutForDelivery(prepaid)

            // Act: three failed attempts on the COD parcel, a refusal of the prepaid one.
            for attempt in 1...3 {
                let failed = try await cast.hub(cast.nbo, "attempt-failed", cod.id, ["reason": "customer_absent", "note": "gate locked"])
                cast.expectStatus(failed, attempt < 3 ? "at_destination_hub" : "returning")
                if attempt < 3 {
                    cast.expectStatus(try await cast.hub(cast.nbo, "out-for-delivery", cod.id, ["rider_name": "Peter", "rider_phone": "0799111222"]), "out_for_delivery")
                }
            }
            cast.expectStatus(try await cast.hub(cast.nbo, "attempt-failed", prepaid.id, ["reason": "customer_refused"]), "returning")

            // The cross-hub parcel must travel back before its origin completes the return.
            expectProblem(try await cast.hub(cast.msa, "return", cod.id), 409, "invalid_transition")
            expectProblem(try await cast.hub(cast.msa, "dispatch-return", cod.id), 409, "invalid_transition")
            cast.expectStatus(try await cast.hub(cast.nbo, "dispatch-return", cod.id), "returning")
            expectProblem(try await cast.hub(cast.nbo, "dispatch-return", cod.id), 409, "invalid_transition")
            let returned = try await cast.hub(cast.msa, "return", cod.id)
            cast.expectStatus(returned, "returned")
            cast.expectStatus(try await cast.hub(cast.nbo, "return", prepaid.id), "returned")

            // Check: attempts, stock, and a refund only for the money received.
            let attempts = try await world.database.query("SELECT count(*) FROM delivery_attempts WHERE sub_order_id = \(cod.id)")[0].decode(Int.self)
            #expect(attempts == 3)
            #expect(try await world.stock(world.products[1][0]) == 20)
            #expect(try await world.stock(world.products[0][0]) == 20)
            let refunds = try await world.database.query("SELECT sub_order_id, status, reason, amount_cents, automatic FROM refunds")
            #expect(refunds.count == 1)
            let (subOrder, status, reason, amount, automatic) = try refunds[0].decode((UUID, String, String, Int64, Bool).self)
            #expect(subOrder == prepaid.id && status == "approved" && reason == "returned" && amount == prepaid.totalCents && automatic)
            let events = try await world.database.query("SELECT count(*) FROM refund_events")[0].decode(Int.self)
            #expect(events == 1)
            let steps = returned.json["events"].array.compactMap { $0["to_status"].string }
            #expect(steps.suffix(4) == ["out_for_delivery", "at_destination_hub", "returning", "returning", "returned"].suffix(4))
        }
    }
}
