import Core
import Foundation

/// Lives the orders of `VolumeSeeder` one after another: checkout, payment, the parcels' road,
/// money back, reviews; each step happens only if its time comes before `end`, so recent orders
/// are caught on their way. The rows are what the service's own code writes for the same steps
/// (the lifecycle's events, the ledger's allocations and refunds, stock put back).
struct VolumeSimulation {
    let world: VolumeWorld
    var random: SeededRandom
    /// Seconds since 1970 at which the world stops: nothing happens at or after it.
    let end: Int64

    private var serial = 0
    private var orders = BulkRows(
        "orders", [("id", .uuid), ("number", .text), ("customer_id", .uuid), ("payment_method", .text), ("address_id", .uuid),
                   ("address_label", .text), ("address_line1", .text), ("address_phone", .text), ("zone_id", .uuid),
                   ("zone_name", .text), ("destination_hub_id", .uuid), ("items_total_cents", .bigint), ("delivery_fee_cents", .bigint),
                   ("total_cents", .bigint), ("idempotency_key", .text), ("request_hash", .text), ("created_at", .time)])
    private var subOrders = BulkRows(
        "sub_orders", [("id", .uuid), ("order_id", .uuid), ("number", .text), ("merchant_id", .uuid), ("status", .text),
                       ("cancel_reason", .text), ("origin_hub_id", .uuid), ("destination_hub_id", .uuid),
                       ("items_total_cents", .bigint), ("delivery_fee_cents", .bigint), ("total_cents", .bigint),
                       ("commission_bps", .int), ("commission_cents", .bigint), ("merchant_payout_cents", .bigint),
                       ("handover_code_hash", .hex), ("created_at", .time), ("updated_at", .time), ("rider_name", .text),
                       ("rider_phone", .text), ("return_dispatched_at", .time)])
    private var items = BulkRows(
        "order_items", [("id", .uuid), ("sub_order_id", .uuid), ("product_id", .uuid), ("name", .text), ("unit_price_cents", .bigint),
                        ("quantity", .int), ("line_total_cents", .bigint), ("refunded_quantity", .int), ("restocked_quantity", .int)])
    private var events = BulkRows(
        "sub_order_events", [("sub_order_id", .uuid), ("from_status", .text), ("to_status", .text), ("actor_id", .uuid),
                             ("actor_role", .text), ("hub_id", .uuid), ("note", .text), ("created_at", .time)])
    private var payments = BulkRows(
        "payments", [("id", .uuid), ("order_id", .uuid), ("status", .text), ("amount_cents", .bigint), ("phone", .text),
                     ("merchant_request_id", .text), ("checkout_request_id", .text), ("mpesa_receipt", .text),
                     ("received_cents", .bigint), ("result_code", .text), ("result_desc", .text), ("created_at", .time),
                     ("settled_at", .time), ("resolution", .text), ("resolution_note", .text), ("resolved_by", .uuid),
                     ("resolved_at", .time)])
    private var allocations = BulkRows(
        "payment_allocations", [("payment_id", .uuid), ("sub_order_id", .uuid), ("amount_cents", .bigint), ("created_at", .time)])
    private var refunds = BulkRows(
        "refunds", [("id", .uuid), ("sub_order_id", .uuid), ("order_id", .uuid), ("payment_id", .uuid), ("status", .text),
                    ("reason", .text), ("details", .plainText), ("amount_cents", .bigint), ("automatic", .bool),
                    ("requested_by", .uuid), ("payee_phone", .text), ("originator_conversation_id", .text),
                    ("mpesa_receipt", .text), ("failure_reason", .text), ("decided_at", .time), ("paid_at", .time),
                    ("created_at", .time), ("updated_at", .time)])
    private var refundItems = BulkRows("refund_items", [("refund_id", .uuid), ("order_item_id", .uuid), ("quantity", .int)])
    private var refundEvents = BulkRows(
        "refund_events", [("refund_id", .uuid), ("from_status", .text), ("to_status", .text), ("actor_id", .uuid),
                          ("actor_role", .text), ("note", .text), ("created_at", .time)])
    private var attempts = BulkRows(
        "delivery_attempts", [("id", .uuid), ("sub_order_id", .uuid), ("attempt_number", .int), ("reason", .text),
                              ("staff_id", .uuid), ("hub_id", .uuid), ("created_at", .time)])
    private var collections = BulkRows(
        "cod_collections", [("id", .uuid), ("sub_order_id", .uuid), ("hub_id", .uuid), ("staff_id", .uuid), ("amount_cents", .bigint),
                            ("collected_at", .time)])
    private var reviews = BulkRows(
        "reviews", [("id", .uuid), ("order_item_id", .uuid), ("product_id", .uuid), ("merchant_id", .uuid), ("author_id", .uuid),
                    ("rating", .int), ("created_at", .time), ("updated_at", .time), ("hidden_at", .time), ("hidden_by", .uuid),
                    ("hidden_note", .text)])

    init(world: VolumeWorld, random: SeededRandom, end: Int64) {
        self.world = world
        self.random = random
        self.end = end
    }

    /// The rows of the orders lived since the last call, in the order of their foreign keys.
    mutating func takeRows() -> [BulkRows] {
        let taken = [orders, subOrders, items, events, payments, allocations, refunds, refundItems, refundEvents, attempts, collections, reviews]
        orders = orders.emptied
        subOrders = subOrders.emptied
        items = items.emptied
        events = events.emptied
        payments = payments.emptied
        allocations = allocations.emptied
        refunds = refunds.emptied
        refundItems = refundItems.emptied
        refundEvents = refundEvents.emptied
        attempts = attempts.emptied
        collections = collections.emptied
        reviews = reviews.emptied
        return taken
    }

    // MARK: When orders are placed

    /// Hours of the day in the business time zone, by how busy they are: evenings most, and some
    /// orders just after and before midnight.
    static let hourWeights = [3, 2, 1, 1, 1, 1, 2, 4, 6, 7, 8, 8, 8, 8, 8, 8, 8, 9, 10, 10, 9, 7, 5, 4]

    /// `count` checkout times over the `days` days before `end`, in time order.
    mutating func orderTimes(count: Int, days: Int, timeZone: TimeZone) -> [Int64] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let endDate = Date(timeIntervalSince1970: TimeInterval(end))
        let firstDay = calendar.startOfDay(for: calendar.date(byAdding: .day, value: -days, to: endDate) ?? endDate)
        var times: [Int64] = []
        times.reserveCapacity(count)
        for index in 0..<count {
            let day = calendar.date(byAdding: .day, value: index * days / count, to: firstDay) ?? firstDay
            let second = Int64(random.weighted(Self.hourWeights) * 3600 + random.below(3600))
            times.append(Int64(day.timeIntervalSince1970) + second)
        }
        return times.filter { $0 < end }.sorted()
    }

    // MARK: One order

    private struct Line {
        let id: UUID
        let product: VolumeWorld.Product
        let quantity: Int
        var lineTotal: Int64 { product.priceCents * Int64(quantity) }
    }

    private struct Parcel {
        let id: UUID
        let number: String
        let merchant: VolumeWorld.Merchant
        let lines: [Line]
        let feeShare: Int64
        var itemsTotal: Int64 { lines.reduce(0) { $0 + $1.lineTotal } }
        var total: Int64 { itemsTotal + feeShare }
    }

    /// How an M-Pesa order's payment went.
    private enum Payment: CaseIterable {
        case paid, retried, expired, cancelledUnpaid, late, flaggedRefunded, flaggedAccepted
        static let perMille = [770, 120, 60, 20, 10, 10, 10]
    }

    /// Where a parcel's road ends, if the world lasts long enough.
    private enum Fate {
        case delivered(failedAttempts: Int), rejected, cancelledByAdmin, returnedRefused, returnedAfterAttempts
    }

    mutating func order(number: Int, at placed: Int64, year: Int) {
        let customer = world.customers[random.below(world.customers.count)]
        let zone = world.zones[customer.zone]
        let destination = world.hubs[zone.hub]
        let mpesa = random.chance(550)
        let orderID = random.uuid()
        let orderNumber = "HR-\(year)-\(String(format: "%06d", number))"
        let parcels = makeParcels(orderNumber: orderNumber, fee: zone.feeCents)
        let itemsTotal = parcels.reduce(0) { $0 + $1.itemsTotal }
        orders.append([
            Cell.of(orderID), orderNumber, Cell.of(customer.id), mpesa ? "mpesa" : "cod", Cell.of(customer.address), "Home",
            customer.line1, customer.phone, Cell.of(zone.id), zone.name, Cell.of(destination.id), Cell.of(itemsTotal),
            Cell.of(zone.feeCents), Cell.of(itemsTotal + zone.feeCents), "volume-\(number)", "volume-seed", Cell.time(placed),
        ])
        let first = mpesa ? "awaiting_payment" : "placed"
        for parcel in parcels {
            event(parcel.id, nil, first, actor: customer.id, role: "customer", at: placed)
        }

        // Payment: when the parcels left awaiting_payment, and with whose money.
        var release: (at: Int64, payment: UUID, short: Int64)?
        var unpaidEnd: (at: Int64, reason: String, actor: UUID?)?
        var forcedDelivery = false
        if mpesa {
            let total = itemsTotal + zone.feeCents
            let pay = { (simulation: inout VolumeSimulation, at: Int64, outcome: PaymentOutcome) in
                simulation.payment(orderID: orderID, amount: total, phone: customer.phone, at: at, outcome)
            }
            switch Payment.allCases[random.weighted(Payment.perMille)] {
            case .paid:
                if let paid = pay(&self, placed + random.between(10...120), .succeeded), let settled = paid.settled {
                    release = (settled, paid.id, 0)
                }
            case .retried:
                if let failed = pay(&self, placed + random.between(10...120), .failed), let settled = failed.settled,
                    let paid = pay(&self, settled + random.between(30...300), .succeeded), let released = paid.settled
                {
                    release = (released, paid.id, 0)
                }
            case .expired:
                var last = placed
                for _ in 0..<random.below(3) {
                    guard let failed = pay(&self, last + random.between(10...120), .failed), let settled = failed.settled else { break }
                    last = settled
                }
                unpaidEnd = (placed + 31 * 60 + random.between(0...60), "payment_expired", nil)
            case .cancelledUnpaid:
                var last = placed
                if random.chance(500), let failed = pay(&self, last + random.between(10...120), .failed), let settled = failed.settled {
                    last = settled
                }
                unpaidEnd = (last + random.between(300...1200), "customer", customer.id)
            case .late:
                // The push's answer never came in time (recorded failed), the order expired, then
                // M-Pesa's success arrived: kept, and refunded whole.
                let expiry = placed + 31 * 60 + random.between(0...60)
                _ = pay(&self, placed + 60, .lateSuccess(at: expiry + random.between(60...1800)))
                unpaidEnd = (expiry, "payment_expired", nil)
            case .flaggedRefunded:
                // One shilling short: flagged; the customer pays again in full; later an admin gives
                // the short payment back.
                if let short = pay(&self, placed + random.between(10...120), .flagged(resolution: .refunded)),
                    let settled = short.settled, let paid = pay(&self, settled + random.between(60...600), .succeeded),
                    let released = paid.settled
                {
                    release = (released, paid.id, 0)
                }
            case .flaggedAccepted:
                // One shilling short: flagged; an admin accepts it, so the last parcel is paid
                // one shilling short (and goes on to its customer).
                if let short = pay(&self, placed + random.between(10...120), .flagged(resolution: .accepted)),
                    let accepted = short.resolved
                {
                    release = (accepted, short.id, Money.centsPerShilling)
                    forcedDelivery = true
                }
            }
        } else {
            release = nil
        }
        let placedAt = mpesa ? release?.at : placed
        if mpesa, let released = release {
            for (index, parcel) in parcels.enumerated() {
                let receipt = "Paid by M-Pesa"
                event(parcel.id, "awaiting_payment", "placed", actor: nil, role: "system", note: receipt, at: released.at)
                let short = index == parcels.count - 1 ? released.short : 0
                allocations.append([Cell.of(released.payment), Cell.of(parcel.id), Cell.of(parcel.total - short), Cell.time(released.at)])
            }
        }

        // The customer cancels the whole order before any merchant accepts it, now and then.
        let cancelledByCustomer = placedAt.map { $0 + random.between(600...10_800) }.flatMap { at in
            random.chance(20) && !forcedDelivery && at < end ? at : nil
        }

        for (index, parcel) in parcels.enumerated() {
            let paidCents = release.map { parcel.total - (index == parcels.count - 1 ? $0.short : 0) }
            var walk = Walk(parcel: parcel.id, status: first, at: placed)
            if placedAt == nil, let unpaid = unpaidEnd, unpaid.at < end {
                move(&walk, to: "cancelled", at: unpaid.at, actor: unpaid.actor, role: unpaid.actor == nil ? "system" : "customer")
                walk.cancelReason = unpaid.reason
            } else if let placedAt {
                walk.status = "placed"
                walk.at = placedAt
                if let cancelled = cancelledByCustomer {
                    move(&walk, to: "cancelled", at: cancelled, actor: customer.id, role: "customer")
                    walk.cancelReason = "customer"
                } else {
                    travel(&walk, parcel, destination: zone.hub, fate: forcedDelivery ? .delivered(failedAttempts: 0) : fate())
                }
            }
            finish(
                walk, parcel, orderID: orderID, customer: customer, destination: destination.id, placed: placed, cod: !mpesa,
                paid: paidCents.map { (payment: release?.payment, cents: $0) }, refundsAllowed: !forcedDelivery)
        }
    }

    private mutating func makeParcels(orderNumber: String, fee: Int64) -> [Parcel] {
        let count = random.weighted([65, 27, 8]) + 1
        let base = random.popular(world.merchants.count)
        let step = 1 + random.below(7)
        var chosen = (0..<count).map { world.merchants[(base + $0 * step) % world.merchants.count] }
        // Sub-orders are numbered in merchant-id order, as checkout numbers them.
        chosen.sort { $0.id.uuidString < $1.id.uuidString }
        let shares = Money.splitWholeShillings(fee, into: chosen.count)
        var parcels: [Parcel] = []
        for (position, merchant) in chosen.enumerated() {
            let lineCount = random.weighted([60, 30, 10]) + 1
            let firstProduct = random.popular(merchant.products.count)
            let productStep = 1 + random.below(5)
            let lines = (0..<lineCount).map { offset in
                Line(
                    id: random.uuid(), product: merchant.products[(firstProduct + offset * productStep) % merchant.products.count],
                    quantity: random.weighted([75, 18, 7]) + 1)
            }
            parcels.append(Parcel(id: random.uuid(), number: "\(orderNumber)-\(position + 1)", merchant: merchant, lines: lines, feeShare: shares[position]))
        }
        return parcels
    }

    private mutating func fate() -> Fate {
        switch random.below(1000) {
        case 0..<25: .rejected
        case 25..<35: .cancelledByAdmin
        case 35..<47: .returnedRefused
        case 47..<65: .returnedAfterAttempts
        default: .delivered(failedAttempts: [0, 1, 2][random.weighted([880, 90, 30])])
        }
    }

    // MARK: The parcel's road

    /// A parcel as far as it got.
    private struct Walk {
        let parcel: UUID
        var status: String
        var at: Int64
        var cancelReason: String?
        var rider: String?
        var returnDispatchedAt: Int64?
        var deliveredAt: Int64?
        var deliveredBy: UUID?
        /// Cancelled or returned: when it left (stock back, money refunded).
        var leftAt: Int64?
        var stopped = false
    }

    static let riders = ["Otieno Ouma", "Kamau Njoroge", "Wanjiru Mwangi", "Mutua Musyoka", "Achieng Atieno"]

    /// Merchant, hubs, riders: each step after a while, as long as the world lasts.
    private mutating func travel(_ walk: inout Walk, _ parcel: Parcel, destination: Int, fate: Fate) {
        let origin = world.hubs[parcel.merchant.hub]
        let target = world.hubs[destination]
        let sameHub = parcel.merchant.hub == destination
        if case .rejected = fate {
            if step(&walk, to: "cancelled", after: 1_800...21_600, actor: parcel.merchant.user, role: "merchant", note: "Sold out") {
                walk.cancelReason = "merchant_rejected"
            }
            return
        }
        step(&walk, to: "accepted", after: 1_800...28_800, actor: parcel.merchant.user, role: "merchant")
        step(&walk, to: sameHub ? "at_destination_hub" : "at_origin_hub", after: 7_200...86_400, at: origin)
        if case .cancelledByAdmin = fate {
            if step(&walk, to: "cancelled", after: 3_600...43_200, actor: world.admin, role: "admin", note: "Damaged at the hub") {
                walk.cancelReason = "admin"
            }
            return
        }
        if !sameHub {
            step(&walk, to: "in_transit", after: 3_600...28_800, at: origin)
            step(&walk, to: "at_destination_hub", after: 14_400...108_000, at: target)
        }
        let failures: Int
        switch fate {
        case .delivered(let failedAttempts): failures = failedAttempts
        case .returnedRefused: failures = 1
        default: failures = 3
        }
        for attempt in 1...(failures + 1) {
            let rider = Self.riders[random.below(Self.riders.count)]
            let riderNote = "Rider: \(rider.split(separator: " ").first.map(String.init) ?? rider)"
            guard step(&walk, to: "out_for_delivery", after: attempt == 1 ? 3_600...57_600 : 43_200...108_000, at: target, note: riderNote)
            else { return }
            walk.rider = rider
            let staff = target.staff[random.below(target.staff.count)]
            if attempt > failures {
                guard step(&walk, to: "delivered", after: 1_800...18_000, actor: staff, hub: target.id) else { return }
                walk.deliveredAt = walk.at
                walk.deliveredBy = staff
                return
            }
            let reason: String
            if case .returnedRefused = fate { reason = "customer_refused" } else {
                reason = ["customer_absent", "address_not_found", "other"][random.below(3)]
            }
            guard step(&walk, to: "at_destination_hub", after: 3_600...21_600, actor: staff, hub: target.id,
                       note: "Delivery attempt failed: \(reason)")
            else { return }
            attempts.append([Cell.of(random.uuid()), Cell.of(walk.parcel), Cell.of(attempt), reason, Cell.of(staff), Cell.of(target.id), Cell.time(walk.at)])
            if reason == "customer_refused" || attempt == 3 {
                let why = reason == "customer_refused" ? "Refused by the customer" : "\(attempt) delivery attempts failed"
                step(&walk, to: "returning", after: 0...0, actor: staff, hub: target.id, note: why)
                break
            }
        }
        guard !walk.stopped, walk.status == "returning" else { return }
        if !sameHub {
            let sentBack = walk.at + random.between(21_600...86_400)
            guard sentBack < end else { return }
            let staff = target.staff[random.below(target.staff.count)]
            event(walk.parcel, "returning", "returning", actor: staff, role: "hub_staff", hub: target.id, note: "Sent back to the origin hub", at: sentBack)
            walk.at = sentBack
            walk.returnDispatchedAt = sentBack
        }
        if step(&walk, to: "returned", after: 86_400...259_200, at: origin) {
            walk.leftAt = walk.at
        }
    }

    /// A hub's step, by one of its staff.
    @discardableResult
    private mutating func step(_ walk: inout Walk, to status: String, after delay: ClosedRange<Int64>, at hub: VolumeWorld.Hub, note: String? = nil)
        -> Bool
    {
        step(&walk, to: status, after: delay, actor: hub.staff[random.below(hub.staff.count)], role: "hub_staff", hub: hub.id, note: note)
    }

    /// The next step `delay` seconds later, unless the world ends first (then the parcel stays
    /// where it is).
    @discardableResult
    private mutating func step(
        _ walk: inout Walk, to status: String, after delay: ClosedRange<Int64>, actor: UUID?, role: String = "hub_staff",
        hub: UUID? = nil, note: String? = nil
    ) -> Bool {
        guard !walk.stopped else { return false }
        let at = walk.at + random.between(delay)
        guard at < end else {
            walk.stopped = true
            return false
        }
        move(&walk, to: status, at: at, actor: actor, role: role, hub: hub, note: note)
        return true
    }

    private mutating func move(_ walk: inout Walk, to status: String, at: Int64, actor: UUID?, role: String, hub: UUID? = nil, note: String? = nil) {
        event(walk.parcel, walk.status, status, actor: actor, role: role, hub: hub, note: note, at: at)
        walk.status = status
        walk.at = at
        if status == "cancelled" { walk.leftAt = at }
    }

    private mutating func event(
        _ parcel: UUID, _ from: String?, _ to: String, actor: UUID?, role: String, hub: UUID? = nil, note: String? = nil, at: Int64
    ) {
        events.append([Cell.of(parcel), from ?? Cell.null, to, Cell.of(actor), role, Cell.of(hub), note ?? Cell.null, Cell.time(at)])
    }

    // MARK: The parcel's rows and its money

    private mutating func finish(
        _ walk: Walk, _ parcel: Parcel, orderID: UUID, customer: VolumeWorld.Customer, destination: UUID, placed: Int64, cod: Bool,
        paid: (payment: UUID?, cents: Int64)?, refundsAllowed: Bool
    ) {
        let left = walk.status == "cancelled" || walk.status == "returned"
        var refunded: [UUID: Int] = [:]
        if let leftAt = walk.leftAt, left, let paid {
            // What the parcel held goes back: the lifecycle's automatic refund.
            let reason = walk.cancelReason == "merchant_rejected" ? "merchant_rejected" : walk.status == "returned" ? "returned" : "cancelled"
            refund(
                subOrder: parcel.id, orderID: orderID, payment: paid.payment, reason: reason, amount: paid.cents, payee: customer.phone,
                requestedBy: nil, at: leftAt)
        }
        if let deliveredAt = walk.deliveredAt, let staff = walk.deliveredBy {
            if cod {
                collections.append([Cell.of(random.uuid()), Cell.of(parcel.id), Cell.of(destination), Cell.of(staff), Cell.of(parcel.total), Cell.time(deliveredAt)])
            }
            if refundsAllowed, random.chance(50) {
                let line = parcel.lines[random.below(parcel.lines.count)]
                let units = 1 + random.below(line.quantity)
                let reason = ["damaged", "wrong_item", "not_as_described", "other"][random.below(4)]
                let approved = refund(
                    subOrder: parcel.id, orderID: orderID, payment: paid?.payment, reason: reason, amount: line.product.priceCents * Int64(units),
                    payee: customer.phone, requestedBy: customer.id, at: deliveredAt + random.between(86_400...864_000),
                    item: (line.id, units))
                if approved { refunded[line.id] = units }
            }
            for line in parcel.lines where random.chance(250) {
                review(line, parcel: parcel, author: customer.id, at: deliveredAt + random.between(86_400...1_728_000))
            }
        }
        for line in parcel.lines {
            items.append([
                Cell.of(line.id), Cell.of(parcel.id), Cell.of(line.product.id), line.product.name, Cell.of(line.product.priceCents),
                Cell.of(line.quantity), Cell.of(line.lineTotal), Cell.of(refunded[line.id] ?? 0), Cell.of(left ? line.quantity : 0),
            ])
        }
        let commission = Money.commission(on: parcel.itemsTotal, basisPoints: parcel.merchant.bps)
        var hash = ""
        for _ in 0..<4 { hash += String(format: "%016llx", random.next()) }
        subOrders.append([
            Cell.of(parcel.id), Cell.of(orderID), parcel.number, Cell.of(parcel.merchant.id), walk.status, walk.cancelReason ?? Cell.null,
            Cell.of(world.hubs[parcel.merchant.hub].id), Cell.of(destination), Cell.of(parcel.itemsTotal), Cell.of(parcel.feeShare),
            Cell.of(parcel.total), Cell.of(parcel.merchant.bps), Cell.of(commission), Cell.of(parcel.itemsTotal - commission), hash,
            Cell.time(placed), Cell.time(walk.at), walk.rider ?? Cell.null, walk.rider == nil ? Cell.null : "254799000000",
            Cell.time(walk.returnDispatchedAt),
        ])
    }

    private mutating func review(_ line: Line, parcel: Parcel, author: UUID, at: Int64) {
        guard at < end else { return }
        let hiddenAt = random.chance(20) ? at + random.between(3_600...172_800) : nil
        let hidden = hiddenAt.flatMap { $0 < end ? $0 : nil }
        reviews.append([
            Cell.of(random.uuid()), Cell.of(line.id), Cell.of(line.product.id), Cell.of(parcel.merchant.id), Cell.of(author),
            Cell.of(random.weighted([10, 8, 12, 25, 45]) + 1), Cell.time(at), Cell.time(at), Cell.time(hidden),
            hidden == nil ? Cell.null : Cell.of(world.admin), hidden == nil ? Cell.null : "Not about the product",
        ])
    }

    // MARK: Payments

    private enum PaymentOutcome {
        case succeeded, failed, lateSuccess(at: Int64)
        case flagged(resolution: Resolution)
        enum Resolution { case accepted, refunded }
    }

    /// A payment as far as it got: `settled` when its answer came before the end, `resolved`
    /// when an admin decided on a flagged one.
    private struct PaymentRow {
        let id: UUID
        let settled: Int64?
        let resolved: Int64?
    }

    static let failures = [("1032", "Request cancelled by user"), ("1", "The balance is insufficient for the transaction"),
                           ("2001", "The initiator information is invalid"), ("1037", "DS timeout user cannot be reached")]

    private mutating func payment(orderID: UUID, amount: Int64, phone: String, at created: Int64, _ outcome: PaymentOutcome) -> PaymentRow? {
        guard created < end else { return nil }
        serial += 1
        let id = random.uuid()
        let checkout = "ws_CO_vol_\(serial)"
        let settledAt = created + random.between(20...90)
        var row = (status: "pending", receipt: Cell.null, received: Cell.null, code: Cell.null, description: Cell.null,
                   settled: Optional<Int64>.none, resolution: Cell.null, note: Cell.null, resolvedBy: Cell.null, resolvedAt: Optional<Int64>.none)
        var result = PaymentRow(id: id, settled: nil, resolved: nil)
        if settledAt < end {
            row.settled = settledAt
            result = PaymentRow(id: id, settled: settledAt, resolved: nil)
            switch outcome {
            case .succeeded:
                (row.status, row.receipt, row.received, row.code, row.description) =
                    ("succeeded", "VS\(serial)", Cell.of(amount), "0", "The service request is processed successfully.")
            case .failed:
                let failure = Self.failures[random.below(Self.failures.count)]
                (row.status, row.code, row.description) = ("failed", failure.0, failure.1)
            case .lateSuccess(let success):
                (row.status, row.description) = ("failed", "no answer")
                if success < end {
                    (row.status, row.receipt, row.received, row.code, row.description, row.settled) =
                        ("succeeded", "VS\(serial)", Cell.of(amount), "0", "The service request is processed successfully.", success)
                    refund(subOrder: nil, orderID: orderID, payment: id, reason: "late_payment", amount: amount, payee: phone, requestedBy: nil, at: success)
                }
            case .flagged(let resolution):
                let received = amount - Money.centsPerShilling
                (row.status, row.receipt, row.received, row.code, row.description) =
                    ("flagged", "VS\(serial)", Cell.of(received), "0", "The service request is processed successfully.")
                let decided = settledAt + random.between(3_600...21_600)
                if decided < end {
                    (row.resolvedBy, row.resolvedAt) = (Cell.of(world.admin), decided)
                    result = PaymentRow(id: id, settled: settledAt, resolved: decided)
                    switch resolution {
                    case .accepted:
                        (row.status, row.resolution, row.note) = ("succeeded", "accepted", "Close enough")
                    case .refunded:
                        (row.resolution, row.note) = ("refunded", "Wrong amount")
                        refund(subOrder: nil, orderID: orderID, payment: id, reason: "flagged_payment", amount: received, payee: phone, requestedBy: nil, at: decided)
                    }
                }
            }
        }
        payments.append([
            Cell.of(id), Cell.of(orderID), row.status, Cell.of(amount), phone, "vol-\(serial)", checkout, row.receipt, row.received, row.code,
            row.description, Cell.time(created), Cell.time(row.settled), row.resolution, row.note, row.resolvedBy, Cell.time(row.resolvedAt),
        ])
        return result
    }

    // MARK: Refunds

    /// A refund from its creation on: automatic ones start approved; a customer's is decided by
    /// an admin (about one in three denied); approved ones are paid out by B2C (a few fail).
    /// Returns whether it was approved.
    @discardableResult
    private mutating func refund(
        subOrder: UUID?, orderID: UUID, payment: UUID?, reason: String, amount: Int64, payee: String, requestedBy: UUID?, at created: Int64,
        item: (id: UUID, units: Int)? = nil
    ) -> Bool {
        guard created < end else { return false }
        serial += 1
        let id = random.uuid()
        var status = requestedBy == nil ? "approved" : "requested"
        var (decided, paidAt, originator, receipt, failure): (Int64?, Int64?, String?, String?, String?) = (nil, nil, nil, nil, nil)
        var updated = created
        func record(_ from: String?, _ to: String, actor: UUID?, role: String, note: String?, at: Int64) {
            refundEvents.append([Cell.of(id), from ?? Cell.null, to, Cell.of(actor), role, note ?? Cell.null, Cell.time(at)])
            status = to
            updated = at
        }
        if let customer = requestedBy {
            record(nil, "requested", actor: customer, role: "customer", note: nil, at: created)
            let decision = created + random.between(7_200...259_200)
            if decision < end {
                decided = decision
                if random.chance(330) {
                    record("requested", "denied", actor: world.admin, role: "admin", note: "Not covered", at: decision)
                } else {
                    record("requested", "approved", actor: world.admin, role: "admin", note: nil, at: decision)
                }
            }
        } else {
            decided = created
            record(nil, "approved", actor: nil, role: "system", note: "Automatic refund", at: created)
        }
        if status == "approved", let approvedAt = decided {
            let sent = approvedAt + random.between(60...600)
            if sent < end {
                originator = "vol-b2c-\(serial)"
                record("approved", "paying", actor: nil, role: "system", note: "Payout sent to M-Pesa", at: sent)
                let result = sent + random.between(60...1_800)
                if result < end {
                    if random.chance(15) {
                        failure = "2001: The initiator information is invalid."
                        record("paying", "failed", actor: nil, role: "system", note: "M-Pesa could not pay: \(failure ?? "")", at: result)
                    } else {
                        receipt = "VR\(serial)"
                        paidAt = result
                        record("paying", "paid", actor: nil, role: "system", note: "Paid by M-Pesa, receipt \(receipt ?? "")", at: result)
                    }
                }
            }
        }
        refunds.append([
            Cell.of(id), Cell.of(subOrder), Cell.of(orderID), Cell.of(payment), status, reason,
            requestedBy == nil ? "" : "Seeded request", Cell.of(amount), Cell.of(requestedBy == nil), Cell.of(requestedBy), payee,
            originator ?? Cell.null, receipt ?? Cell.null, failure ?? Cell.null, Cell.time(decided), Cell.time(paidAt), Cell.time(created),
            Cell.time(updated),
        ])
        if let item { refundItems.append([Cell.of(id), Cell.of(item.id), Cell.of(item.units)]) }
        return decided != nil && status != "denied" && status != "requested"
    }
}

extension BulkRows {
    /// The same table without rows.
    var emptied: BulkRows { BulkRows(table, columns.map { ($0.name, $0.kind) }) }
}
