import Core
import Foundation
import Hubs
import Hummingbird
import Identity

/// Merchant applications: pending ones to approve with a home hub (and commission) or reject,
/// decided ones to look back on (`MerchantApplications`).
struct MerchantApplicationPages: Sendable {
    let console: Console

    func register<Context>(_ routes: ConsoleRoutes<Context>) {
        routes.page("admin/merchant-applications", for: [.admin]) { visit in try await page(visit, failure: nil) }
        routes.action("admin/merchant-applications/:id/approve", for: [.admin]) { visit in
            try await decide(visit, "approved") { id in
                guard let hub = UUID(uuidString: visit.form["home_hub_id"]) else {
                    throw Problem.validation(field: "home_hub_id", "choose the merchant's home hub")
                }
                let commission = try visit.form.optional("commission_bps").map { text in
                    guard let value = Int(text) else { throw Problem.validation(field: "commission_bps", "must be a whole number of basis points") }
                    return value
                }
                return try await visit.services.merchantApplications.approve(
                    id, homeHubID: hub, commissionBps: commission, note: visit.form.optional("approve_note"), by: visit.principal)
            }
        }
        routes.action("admin/merchant-applications/:id/reject", for: [.admin]) { visit in
            try await decide(visit, "rejected") { id in
                try await visit.services.merchantApplications.reject(id, note: visit.form.optional("reject_note"), by: visit.principal)
            }
        }
    }

    struct Tab {
        let label: String
        let href: String
        let current: Bool
    }

    struct Option {
        let id: String
        let label: String
    }

    struct Application {
        let id: String
        let business: String
        let phone: String
        let zone: String
        let description: String
        let created: String
        let status: String
        let note: String?
        let pending: Bool
    }

    struct Model {
        let tabs: [Tab]
        let applications: [Application]
        let empty: Bool
        let hubs: [Option]
    }

    private func page(_ visit: Visit, failure: Failure?) async throws -> Response {
        let status = MerchantApplications.Status(rawValue: visit.query["status"]) ?? .pending
        let services = visit.services
        let applications = try await services.merchantApplications.list(status: status, page: try PageRequest(limit: 100, cursor: nil))
        let zones = try await services.places.zones(hubID: nil, activeOnly: false, page: try PageRequest(limit: 100, cursor: nil)).items
        let hubs = try await services.places.hubs(page: try PageRequest(limit: 100, cursor: nil)).items.filter(\.isActive)
        let zoneNames = Dictionary(zones.map { ($0.id, "\($0.name) (\($0.hubCode))") }) { first, _ in first }
        let model = Model(
            tabs: MerchantApplications.Status.allCases.map {
                Tab(label: Failure.label($0.rawValue), href: "/console/admin/merchant-applications?status=\($0.rawValue)", current: $0 == status)
            },
            applications: applications.items.map {
                Application(
                    id: $0.id.lowercased, business: $0.businessName, phone: $0.phone, zone: zoneNames[$0.zoneID] ?? "Unknown zone",
                    description: $0.description, created: console.dates.format($0.createdAt), status: Failure.label($0.status.rawValue),
                    note: $0.decisionNote, pending: $0.status == .pending)
            },
            empty: applications.items.isEmpty,
            hubs: hubs.map { Option(id: $0.id.lowercased, label: "\($0.code) — \($0.name)") })
        return visit.render("admin-applications", title: "Merchant applications", model, failure: failure, status: failure?.status ?? .ok)
    }

    private func decide(
        _ visit: Visit, _ done: String, _ action: @escaping (UUID) async throws -> MerchantApplications.Application
    ) async throws -> Response {
        try await visit.attempt {
            let application = try await action(try visit.id("id", "Merchant application"))
            return try await visit.redirect(to: "/console/admin/merchant-applications", flash: "\(application.businessName) \(done).")
        } failure: { failure in
            try await page(visit, failure: failure)
        }
    }
}
