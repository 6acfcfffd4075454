import Core
import Foundation
import Identity
import OpenAPIRuntime
import Orders
import Refunds

extension API {
    func requestRefund(_ input: Operations.RequestRefund.Input) async throws -> Operations.RequestRefund.Output {
        let caller = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let refund = try await services.refunds.request(
            .init(
                subOrderID: try bodyUUID(body.subOrderId, "sub_order_id"),
                items: try body.items.enumerated().map { index, item in
                    (try bodyUUID(item.orderItemId, "items.\(index).order_item_id"), item.quantity)
                },
                reason: try Refunds.Reason(mapping: body.reason.rawValue), details: body.details ?? "",
                evidenceURLs: body.evidenceUrls ?? []),
            by: caller)
        return .created(.init(body: .json(try .init(refund))))
    }

    func listMyRefunds(_ input: Operations.ListMyRefunds.Input) async throws -> Operations.ListMyRefunds.Output {
        let caller = try principal()
        let page = try await services.refunds.refunds(of: caller, page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: try page.items.map(Components.Schemas.Refund.init), nextCursor: page.nextCursor))))
    }

    func getMyRefund(_ input: Operations.GetMyRefund.Input) async throws -> Operations.GetMyRefund.Output {
        let refund = try await services.refunds.refund(try uuid(input.path.id, "Refund"), viewer: try principal())
        return .ok(.init(body: .json(try .init(refund))))
    }

    func listRefunds(_ input: Operations.ListRefunds.Input) async throws -> Operations.ListRefunds.Output {
        let page = try await services.refunds.refunds(
            status: try input.query.status.map { try RefundRecord.Status(mapping: $0.rawValue) },
            page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: try page.items.map(Components.Schemas.Refund.init), nextCursor: page.nextCursor))))
    }

    func approveRefund(_ input: Operations.ApproveRefund.Input) async throws -> Operations.ApproveRefund.Output {
        let admin = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let refund = try await services.refunds.approve(
            try uuid(input.path.id, "Refund"), .init(amountCents: body.amountCents, restock: body.restock ?? false, note: body.note),
            by: admin)
        return .ok(.init(body: .json(try .init(refund))))
    }

    func denyRefund(_ input: Operations.DenyRefund.Input) async throws -> Operations.DenyRefund.Output {
        let admin = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let refund = try await services.refunds.deny(try uuid(input.path.id, "Refund"), note: body.note, by: admin)
        return .ok(.init(body: .json(try .init(refund))))
    }

    func retryRefundPayout(_ input: Operations.RetryRefundPayout.Input) async throws -> Operations.RetryRefundPayout.Output {
        let refund = try await services.refunds.retryPayout(try uuid(input.path.id, "Refund"), by: try principal())
        return .ok(.init(body: .json(try .init(refund))))
    }
}

extension Components.Schemas.Refund {
    init(_ refund: RefundRecord) throws {
        self.init(
            id: refund.id.lowercased, orderId: refund.orderID.lowercased, subOrderId: refund.subOrderID?.lowercased,
            paymentId: refund.paymentID?.lowercased, status: try .init(mapping: refund.status.rawValue),
            reason: try .init(mapping: refund.reason), details: refund.details,
            items: refund.items.map { .init(orderItemId: $0.orderItemID.lowercased, quantity: $0.quantity) },
            amountCents: refund.amountCents, restock: refund.restock, automatic: refund.automatic, evidenceUrls: refund.evidenceURLs,
            mpesaReceipt: refund.mpesaReceipt, failureReason: refund.failureReason,
            history: try refund.history.map {
                .init(
                    fromStatus: try $0.fromStatus.map { try .init(mapping: $0.rawValue) }, toStatus: try .init(mapping: $0.toStatus.rawValue),
                    actorRole: try .init(mapping: $0.actorRole), note: $0.note, at: $0.at)
            },
            createdAt: refund.createdAt, decidedAt: refund.decidedAt, paidAt: refund.paidAt)
    }
}
