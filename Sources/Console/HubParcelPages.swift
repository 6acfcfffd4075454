import Core
import Foundation
import Hubs
import Hummingbird
import Identity
import Orders

/// Hub staff's parcels: the hub's work lists by stage, a search by number, and one page per
/// parcel with the forms for its next move. Every move is a `HubOperations` call, the same the
/// API's `/api/v1/hub/sub-orders/{id}/...` handlers make.
struct HubParcelPages: Sendable {
    let console: Console

    static let queues: [(queue: HubOperations.Queue, label: String)] = [
        (.inboundFromMerchants, "From merchants"), (.toDispatch, "To dispatch"), (.inboundTransfers, "Inbound transfers"),
        (.readyForDelivery, "Ready for delivery"), (.outForDelivery, "Out for delivery"), (.returning, "Returning"),
    ]

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        let staff: Set<Role> = [.hubStaff]
        routes.page("hub", for: staff) { visit in try await list(visit) }
        routes.page("hub/parcels/:id", for: staff) { visit in try await parcel(visit, failure: nil) }
        routes.action("hub/parcels/:id/receive", for: staff) { visit in
            try await move(visit, "received") { id, hub in
                try await hub.receive(id, accepted: true, note: visit.form.optional("receive_note"), by: visit.principal)
            }
        }
        routes.action("hub/parcels/:id/refuse", for: staff) { visit in
            try await move(visit, "refused; the refusal is recorded") { id, hub in
                try await hub.receive(id, accepted: false, note: visit.form.optional("refuse_note"), by: visit.principal)
            }
        }
        routes.action("hub/parcels/:id/dispatch", for: staff) { visit in
            try await move(visit, "dispatched") { id, hub in try await hub.dispatch(id, by: visit.principal) }
        }
        routes.action("hub/parcels/:id/out-for-delivery", for: staff) { visit in
            try await move(visit, "is out for delivery") { id, hub in
                try await hub.sendOutForDelivery(
                    id, riderName: visit.form["rider_name"], riderPhone: visit.form["rider_phone"], by: visit.principal)
            }
        }
        routes.action("hub/parcels/:id/deliver", for: staff) { visit in
            try await move(visit, "delivered") { id, hub in
                // Cash is typed in shillings; an M-Pesa parcel's form has no such field.
                let cash = try visit.form.optional("cash").map { _ in try Shillings.required(visit.form, "cash") }
                return try await hub.deliver(id, handoverCode: visit.form["handover_code"].trimmingCharacters(in: .whitespaces),
                                             codCollectedCents: cash, by: visit.principal)
            }
        }
        routes.action("hub/parcels/:id/attempt-failed", for: staff) { visit in
            try await move(visit, "is back at the hub after a failed attempt") { id, hub in
                guard let reason = SubOrderLifecycle.AttemptReason(rawValue: visit.form["reason"]) else {
                    throw Problem.validation(field: "reason", "choose why the delivery failed")
                }
                return try await hub.attemptFailed(id, reason: reason, note: visit.form.optional("attempt_note"), by: visit.principal)
            }
        }
        routes.action("hub/parcels/:id/dispatch-return", for: staff) { visit in
            try await move(visit, "is on its way back to its origin hub") { id, hub in try await hub.dispatchReturn(id, by: visit.principal) }
        }
        routes.action("hub/parcels/:id/return", for: staff) { visit in
            try await move(visit, "is returned to its merchant") { id, hub in try await hub.completeReturn(id, by: visit.principal) }
        }
    }

    // MARK: Pages

    struct QueueTab {
        let label: String
        let href: String
        let current: Bool
    }

    struct Row {
        let href: String
        let number: String
        let merchant: String
        let status: String
        let route: String
        let total: String
        let payment: String
        let created: String
    }

    struct ListModel {
        let hubName: String
        let tabs: [QueueTab]
        let number: String
        let heading: String
        let rows: [Row]
        let empty: Bool
        let nextHref: String?
    }

    private func list(_ visit: Visit) async throws -> Response {
        guard let hubID = visit.principal.hubID else { throw Problem.forbidden("You are not assigned to a hub.") }
        let number = visit.query.optional("number")
        let current = number == nil ? HubOperations.Queue(rawValue: visit.query["queue"]) ?? .inboundFromMerchants : nil
        let page = try await visit.services.hubOperations.parcels(
            at: hubID, queue: current, status: nil, number: number,
            page: try PageRequest(limit: 50, cursor: visit.query.optional("cursor")))
        let hub = try await visit.services.places.hub(hubID)
        let label = Self.queues.first { $0.queue == current }?.label
        let model = ListModel(
            hubName: "\(hub.name) (\(hub.code))",
            tabs: Self.queues.map { QueueTab(label: $0.label, href: "/console/hub?queue=\($0.queue.rawValue)", current: $0.queue == current) },
            number: number ?? "", heading: label ?? "Parcels numbered \(number ?? "")",
            rows: page.items.map { row($0) }, empty: page.items.isEmpty,
            nextHref: page.nextCursor.map { cursor in
                "/console/hub?" + (number.map { "number=\(Self.queryValue($0))" } ?? "queue=\(current?.rawValue ?? "")") + "&cursor=\(cursor)"
            })
        return visit.render("hub-parcels", title: "Parcels", model)
    }

    func row(_ parcel: SubOrder) -> Row {
        Row(
            href: "/console/hub/parcels/\(parcel.id.lowercased)", number: parcel.number, merchant: parcel.merchantName,
            status: Self.statusLabel(parcel.status), route: "\(parcel.originHub.code) → \(parcel.destinationHub.code)",
            total: Shillings.format(parcel.totalCents), payment: parcel.paymentMethod == .cod ? "Cash on delivery" : "M-Pesa",
            created: console.dates.format(parcel.createdAt))
    }

    struct Line {
        let name: String
        let quantity: Int
    }

    struct Event {
        let at: String
        let change: String
        let note: String?
    }

    struct ParcelModel {
        let id: String
        let parcel: Row
        let cashDue: String?
        let address: String
        let addressPhone: String
        let rider: String?
        let lines: [Line]
        let events: [Event]
        let canReceive: Bool
        let canDispatch: Bool
        let canSendOut: Bool
        let canDeliver: Bool
        let canDispatchReturn: Bool
        let canReturn: Bool
        let hasActions: Bool
        let reasons: [Reason]
    }

    struct Reason {
        let value: String
        let label: String
        let selected: Bool
    }

    private func parcel(_ visit: Visit, failure: Failure?) async throws -> Response {
        let parcel = try await visit.services.hubOperations.parcel(try visit.id("id", "Sub-order"), by: visit.principal)
        let hub = visit.principal.hubID
        let atOrigin = parcel.originHub.id == hub
        let atDestination = parcel.destinationHub.id == hub
        let sameHub = parcel.originHub.id == parcel.destinationHub.id
        // Which forms to offer; the service decides whether the move is allowed.
        let canReceive = (parcel.status == .accepted && atOrigin) || (parcel.status == .inTransit && atDestination)
        let canDispatch = parcel.status == .atOriginHub && atOrigin
        let canSendOut = parcel.status == .atDestinationHub && atDestination
        let canDeliver = parcel.status == .outForDelivery && atDestination
        let canDispatchReturn = parcel.status == .returning && atDestination && !sameHub
        let canReturn = parcel.status == .returning && atOrigin
        let typedReason = failure?.values["reason"]
        let model = ParcelModel(
            id: parcel.id.lowercased, parcel: row(parcel),
            cashDue: parcel.paymentMethod == .cod && parcel.status == .outForDelivery ? Shillings.format(parcel.totalCents) : nil,
            address: "\(parcel.deliveryAddress.line1), \(parcel.deliveryAddress.zoneName)", addressPhone: parcel.deliveryAddress.phone,
            rider: parcel.riderName.map { name in parcel.riderPhone.map { "\(name), \($0)" } ?? name },
            lines: parcel.items.map { Line(name: $0.name, quantity: $0.quantity) },
            events: parcel.events.reversed().map { event in
                Event(
                    at: console.dates.format(event.at),
                    change: event.from.map { "\(Self.statusLabel($0)) → \(Self.statusLabel(event.to))" } ?? Self.statusLabel(event.to),
                    note: event.note)
            },
            canReceive: canReceive, canDispatch: canDispatch, canSendOut: canSendOut, canDeliver: canDeliver,
            canDispatchReturn: canDispatchReturn, canReturn: canReturn,
            hasActions: canReceive || canDispatch || canSendOut || canDeliver || canDispatchReturn || canReturn,
            reasons: SubOrderLifecycle.AttemptReason.allCases.map {
                Reason(value: $0.rawValue, label: Failure.label($0.rawValue), selected: $0.rawValue == typedReason)
            })
        return visit.render(
            "hub-parcel", title: "Parcel \(parcel.number)", model, failure: failure,
            status: failure?.status ?? .ok)
    }

    /// One move of a parcel: done, back to its page with a message; refused, the same page with
    /// the service's reason and what was typed.
    private func move(
        _ visit: Visit, _ done: String, _ action: @escaping (UUID, HubOperations) async throws -> SubOrder
    ) async throws -> Response {
        let id = try visit.id("id", "Sub-order")
        return try await visit.attempt {
            let parcel = try await action(id, visit.services.hubOperations)
            return try await visit.redirect(to: "/console/hub/parcels/\(id.lowercased)", flash: "Parcel \(parcel.number) \(done).")
        } failure: { failure in
            try await self.parcel(visit, failure: failure)
        }
    }

    static func statusLabel(_ status: SubOrderStatus) -> String {
        Failure.label(status.rawValue)
    }

    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}
