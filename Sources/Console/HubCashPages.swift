import Core
import Foundation
import Hubs
import Hummingbird
import Identity

/// Hub staff's cash: what they collected and still hold, and the remittance that hands it to
/// the hub (`CashRemittances`, as `GET/POST /api/v1/hub/remittances`).
struct HubCashPages: Sendable {
    let console: Console

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        routes.page("hub/cash", for: [.hubStaff]) { visit in try await page(visit, failure: nil) }
        routes.action("hub/cash/remit", for: [.hubStaff]) { visit in
            try await visit.attempt {
                let remittance = try await visit.services.cash.remit(declaredCents: try Shillings.required(visit.form, "declared"), by: visit.principal)
                let variance = remittance.varianceCents == 0 ? "no variance" : "variance \(Shillings.format(remittance.varianceCents))"
                return try await visit.redirect(
                    to: "/console/hub/cash", flash: "Remitted \(Shillings.format(remittance.declaredCents)) (\(variance)).")
            } failure: { failure in
                try await page(visit, failure: failure)
            }
        }
    }

    struct Collection {
        let number: String
        let amount: String
        let collected: String
    }

    struct Remittance {
        let created: String
        let expected: String
        let declared: String
        let variance: String
        let parcels: Int
    }

    struct Model {
        let openTotal: String
        let collections: [Collection]
        let holdsCash: Bool
        let remittances: [Remittance]
    }

    private func page(_ visit: Visit, failure: Failure?) async throws -> Response {
        let cash = visit.services.cash
        let open = try await cash.openCollections(of: visit.principal)
        let past = try await cash.remittances(of: visit.principal, page: try PageRequest(limit: 20, cursor: nil))
        let dates = console.dates
        let model = Model(
            openTotal: Shillings.format(open.reduce(0) { $0 + $1.amountCents }),
            collections: open.map {
                Collection(number: $0.subOrderNumber, amount: Shillings.format($0.amountCents), collected: dates.format($0.collectedAt))
            },
            holdsCash: !open.isEmpty,
            remittances: past.items.map {
                Remittance(
                    created: dates.format($0.createdAt), expected: Shillings.format($0.expectedCents),
                    declared: Shillings.format($0.declaredCents), variance: Shillings.format($0.varianceCents), parcels: $0.collections.count)
            })
        return visit.render("hub-cash", title: "My cash", model, failure: failure, status: failure?.status ?? .ok)
    }
}
