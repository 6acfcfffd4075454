import Core
import Foundation
import Hummingbird
import Identity
import Orders
import Payments

/// Money M-Pesa sent that needs an admin: flagged payments (a wrong amount) to accept or give
/// back (`Payments.resolve`), and callbacks that matched no payment.
struct PaymentPages: Sendable {
    let console: Console

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        routes.page("admin/payments", for: [.admin]) { visit in try await page(visit, failure: nil) }
        routes.action("admin/payments/:id/resolve", for: [.admin]) { visit in
            try await visit.attempt {
                let id = try visit.id("id", "Payment")
                guard let resolution = Payments.Resolution(rawValue: visit.form["action"]) else {
                    throw Problem.validation(field: "action", "choose accept or refund")
                }
                let payment = try await visit.services.payments.resolve(id, resolution, note: visit.form.optional("note"), by: visit.principal)
                let done = resolution == .accept ? "accepted for its order" : "refunded to the customer"
                return try await visit.redirect(to: "/console/admin/payments", flash: "Payment of \(Shillings.format(payment.amountCents)) \(done).")
            } failure: { failure in
                try await page(visit, failure: failure)
            }
        }
    }

    struct Flagged {
        let id: String
        let amount: String
        let received: String
        let phone: String
        let receipt: String?
        let result: String
        let created: String
        let resolution: String?
    }

    struct Unmatched {
        let checkoutRequestID: String
        let resultCode: String
        let amount: String
        let receipt: String?
        let received: String
    }

    struct Model {
        let flagged: [Flagged]
        let noFlagged: Bool
        let unmatched: [Unmatched]
        let noUnmatched: Bool
    }

    private func page(_ visit: Visit, failure: Failure?) async throws -> Response {
        let payments = visit.services.payments
        let flagged = try await payments.payments(status: .flagged, page: try PageRequest(limit: 100, cursor: nil)).items
        let unmatched = try await payments.unmatchedCallbacks(limit: 100)
        let dates = console.dates
        let model = Model(
            flagged: flagged.map {
                Flagged(
                    id: $0.id.lowercased, amount: Shillings.format($0.amountCents),
                    received: $0.receivedCents.map(Shillings.format) ?? "nothing reported", phone: $0.phone, receipt: $0.mpesaReceipt,
                    result: $0.resultDesc ?? $0.resultCode ?? "", created: dates.format($0.createdAt), resolution: $0.resolution)
            },
            noFlagged: flagged.isEmpty,
            unmatched: unmatched.map {
                Unmatched(
                    checkoutRequestID: $0.checkoutRequestID, resultCode: $0.resultCode, amount: $0.amountCents.map(Shillings.format) ?? "—",
                    receipt: $0.mpesaReceipt, received: dates.format($0.receivedAt))
            },
            noUnmatched: unmatched.isEmpty)
        return visit.render("admin-payments", title: "Payments", model, failure: failure, status: failure?.status ?? .ok)
    }
}
