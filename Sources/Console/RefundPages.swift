import Core
import Foundation
import Hummingbird
import Identity
import Orders
import Refunds

/// The admins' refund queue: requests by status, each with its order's history, the refund's
/// own history and evidence, and the decisions of `Refunds` (approve, deny, retry a payout), as
/// `/api/v1/admin/refunds/...` makes them.
struct RefundPages: Sendable {
    let console: Console

    static let tabs: [RefundRecord.Status] = [.requested, .approved, .paying, .failed, .paid, .denied]

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        routes.page("admin", for: [.admin]) { _ in console.pages.redirect(to: "/console/admin/refunds") }
        routes.page("admin/refunds", for: [.admin]) { visit in try await list(visit) }
        routes.page("admin/refunds/:id", for: [.admin]) { visit in try await refund(visit, failure: nil) }
        routes.action("admin/refunds/:id/approve", for: [.admin]) { visit in
            try await decide(visit, "approved; the payout is on its way") { id in
                let amount = try visit.form.optional("amount").map { _ in try Shillings.required(visit.form, "amount") }
                return try await visit.services.refunds.approve(
                    id, .init(amountCents: amount, restock: visit.form["restock"] == "on", note: visit.form.optional("approve_note")),
                    by: visit.principal)
            }
        }
        routes.action("admin/refunds/:id/deny", for: [.admin]) { visit in
            try await decide(visit, "denied") { id in
                try await visit.services.refunds.deny(id, note: visit.form["deny_note"], by: visit.principal)
            }
        }
        routes.action("admin/refunds/:id/retry-payout", for: [.admin]) { visit in
            try await decide(visit, "sent for payout again") { id in try await visit.services.refunds.retryPayout(id, by: visit.principal) }
        }
    }

    struct Tab {
        let label: String
        let href: String
        let current: Bool
    }

    struct Row {
        let href: String
        let amount: String
        let reason: String
        let status: String
        let created: String
        let automatic: Bool
    }

    struct ListModel {
        let tabs: [Tab]
        let heading: String
        let rows: [Row]
        let empty: Bool
        let nextHref: String?
    }

    private func list(_ visit: Visit) async throws -> Response {
        let status = RefundRecord.Status(rawValue: visit.query["status"]) ?? .requested
        let page = try await visit.services.refunds.refunds(
            status: status, page: try PageRequest(limit: 50, cursor: visit.query.optional("cursor")))
        let model = ListModel(
            tabs: Self.tabs.map { Tab(label: Failure.label($0.rawValue), href: "/console/admin/refunds?status=\($0.rawValue)", current: $0 == status) },
            heading: "\(Failure.label(status.rawValue)) refunds",
            rows: page.items.map { refund in
                Row(
                    href: "/console/admin/refunds/\(refund.id.lowercased)", amount: Shillings.format(refund.amountCents),
                    reason: Failure.label(refund.reason), status: Failure.label(refund.status.rawValue),
                    created: console.dates.format(refund.createdAt), automatic: refund.automatic)
            },
            empty: page.items.isEmpty,
            nextHref: page.nextCursor.map { "/console/admin/refunds?status=\(status.rawValue)&cursor=\($0)" })
        return visit.render("admin-refunds", title: "Refunds", model)
    }

    struct Item {
        let name: String
        let quantity: Int
        let amount: String
    }

    struct Step {
        let at: String
        let change: String
        let actor: String
        let note: String?
    }

    struct Model {
        let id: String
        let status: String
        let amount: String
        let amountShillings: String
        let reason: String
        let details: String
        let automatic: Bool
        let payee: String
        let receipt: String?
        let failureReason: String?
        let evidence: [String]
        let hasEvidence: Bool
        let items: [Item]
        let history: [Step]
        let orderNumber: String
        let subOrderNumber: String?
        let orderTotal: String
        let paymentMethod: String
        let orderHistory: [Step]
        let canDecide: Bool
        let canRetry: Bool
    }

    private func refund(_ visit: Visit, failure: Failure?) async throws -> Response {
        let refund = try await visit.services.refunds.refund(try visit.id("id", "Refund"), viewer: visit.principal)
        let order = try await visit.services.orders.order(refund.orderID, scope: .admin)
        let items = Dictionary(order.subOrders.flatMap(\.items).map { ($0.id, $0) }) { first, _ in first }
        let dates = console.dates
        let model = Model(
            id: refund.id.lowercased, status: Failure.label(refund.status.rawValue), amount: Shillings.format(refund.amountCents),
            amountShillings: String(refund.amountCents / Money.centsPerShilling), reason: Failure.label(refund.reason),
            details: refund.details, automatic: refund.automatic, payee: refund.payeePhone, receipt: refund.mpesaReceipt,
            failureReason: refund.failureReason, evidence: refund.evidenceURLs, hasEvidence: !refund.evidenceURLs.isEmpty,
            items: refund.items.map { item in
                let line = items[item.orderItemID]
                return Item(
                    name: line?.name ?? "Item", quantity: item.quantity,
                    amount: Shillings.format((line?.unitPriceCents ?? 0) * Int64(item.quantity)))
            },
            history: refund.history.map {
                Step(
                    at: dates.format($0.at), change: [$0.fromStatus.map { Failure.label($0.rawValue) }, Failure.label($0.toStatus.rawValue)]
                        .compactMap { $0 }.joined(separator: " → "),
                    actor: Failure.label($0.actorRole), note: $0.note)
            },
            orderNumber: order.number, subOrderNumber: order.subOrders.first { $0.id == refund.subOrderID }?.number,
            orderTotal: Shillings.format(order.totalCents), paymentMethod: order.paymentMethod == .cod ? "Cash on delivery" : "M-Pesa",
            orderHistory: order.timeline.reversed().map { event in
                Step(
                    at: dates.format(event.at),
                    change: "\(event.subOrderNumber): "
                        + (event.from.map { "\(Failure.label($0.rawValue)) → \(Failure.label(event.to.rawValue))" } ?? Failure.label(event.to.rawValue)),
                    actor: Failure.label(event.actorRole), note: event.note)
            },
            canDecide: refund.status == .requested, canRetry: refund.status == .failed)
        return visit.render("admin-refund", title: "Refund of \(model.amount)", model, failure: failure, status: failure?.status ?? .ok)
    }

    private func decide(_ visit: Visit, _ done: String, _ action: @escaping (UUID) async throws -> RefundRecord) async throws -> Response {
        let id = try visit.id("id", "Refund")
        return try await visit.attempt {
            let refund = try await action(id)
            return try await visit.redirect(
                to: "/console/admin/refunds/\(id.lowercased)", flash: "Refund of \(Shillings.format(refund.amountCents)) \(done).")
        } failure: { failure in
            try await self.refund(visit, failure: failure)
        }
    }
}
