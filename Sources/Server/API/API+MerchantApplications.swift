import Core
import Foundation
import Identity
import OpenAPIRuntime

extension API {
    func submitMerchantApplication(_ input: Operations.SubmitMerchantApplication.Input) async throws
        -> Operations.SubmitMerchantApplication.Output
    {
        let caller = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        guard let zoneID = UUID(uuidString: body.zoneId) else { throw Problem.validation(field: "zone_id", "must be a UUID") }
        let application = try await services.merchantApplications.submit(
            .init(businessName: body.businessName, phone: body.phone, zoneID: zoneID, description: body.description), by: caller)
        return .created(.init(body: .json(try .init(application))))
    }

    func listMyMerchantApplications(_ input: Operations.ListMyMerchantApplications.Input) async throws
        -> Operations.ListMyMerchantApplications.Output
    {
        let applications = try await services.merchantApplications.mine(try principal())
        return .ok(.init(body: .json(.init(items: try applications.map(Components.Schemas.MerchantApplication.init)))))
    }

    func listMerchantApplications(_ input: Operations.ListMerchantApplications.Input) async throws
        -> Operations.ListMerchantApplications.Output
    {
        let page = try await services.merchantApplications.list(
            status: input.query.status.flatMap { MerchantApplications.Status(rawValue: $0.rawValue) },
            page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(
            .init(body: .json(.init(items: try page.items.map(Components.Schemas.MerchantApplication.init), nextCursor: page.nextCursor))))
    }

    func approveMerchantApplication(_ input: Operations.ApproveMerchantApplication.Input) async throws
        -> Operations.ApproveMerchantApplication.Output
    {
        let admin = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        guard let hubID = UUID(uuidString: body.homeHubId) else {
            throw Problem.validation(field: "home_hub_id", "must be a UUID")
        }
        let application = try await services.merchantApplications.approve(
            try uuid(input.path.id, "Merchant application"), homeHubID: hubID, commissionBps: body.commissionBps,
            note: body.note, by: admin)
        return .ok(.init(body: .json(try .init(application))))
    }

    func rejectMerchantApplication(_ input: Operations.RejectMerchantApplication.Input) async throws
        -> Operations.RejectMerchantApplication.Output
    {
        let admin = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let application = try await services.merchantApplications.reject(
            try uuid(input.path.id, "Merchant application"), note: body.note, by: admin)
        return .ok(.init(body: .json(try .init(application))))
    }
}

extension Components.Schemas.MerchantApplication {
    init(_ application: MerchantApplications.Application) throws {
        self.init(
            id: application.id.lowercased, userId: application.userID.lowercased,
            businessName: application.businessName, phone: application.phone,
            zoneId: application.zoneID.lowercased, description: application.description,
            status: try .init(mapping: application.status.rawValue), decisionNote: application.decisionNote,
            decidedAt: application.decidedAt, merchantId: application.merchantID?.lowercased,
            createdAt: application.createdAt)
    }
}
