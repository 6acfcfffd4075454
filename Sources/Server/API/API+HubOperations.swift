import Core
import Foundation
import Hubs
import Identity
import OpenAPIRuntime
import Orders

extension API {
    func listHubParcels(_ input: Operations.ListHubParcels.Input) async throws -> Operations.ListHubParcels.Output {
        let staff = try principal()
        guard let hubID = staff.hubID else { throw Problem.forbidden() }
        let page = try await services.hubOperations.parcels(
            at: hubID, queue: input.query.queue.flatMap { HubOperations.Queue(rawValue: $0.rawValue) },
            status: input.query.status.flatMap { SubOrderStatus(rawValue: $0.rawValue) },
            page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: try page.items.map { try .init($0, audience: .hubStaff) }, nextCursor: page.nextCursor))))
    }

    func receiveParcel(_ input: Operations.ReceiveParcel.Input) async throws -> Operations.ReceiveParcel.Output {
        let staff = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let parcel = try await services.hubOperations.receive(try uuid(input.path.id, "Sub-order"), accepted: body.accepted, note: body.note, by: staff)
        return .ok(.init(body: .json(try .init(parcel, audience: .hubStaff))))
    }

    func dispatchParcel(_ input: Operations.DispatchParcel.Input) async throws -> Operations.DispatchParcel.Output {
        let staff = try principal()
        let parcel = try await services.hubOperations.dispatch(try uuid(input.path.id, "Sub-order"), by: staff)
        return .ok(.init(body: .json(try .init(parcel, audience: .hubStaff))))
    }

    func sendParcelOutForDelivery(_ input: Operations.SendParcelOutForDelivery.Input) async throws
        -> Operations.SendParcelOutForDelivery.Output
    {
        let staff = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let parcel = try await services.hubOperations.sendOutForDelivery(
            try uuid(input.path.id, "Sub-order"), riderName: body.riderName, riderPhone: body.riderPhone, by: staff)
        return .ok(.init(body: .json(try .init(parcel, audience: .hubStaff))))
    }

    func deliverParcel(_ input: Operations.DeliverParcel.Input) async throws -> Operations.DeliverParcel.Output {
        let staff = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let parcel = try await services.hubOperations.deliver(
            try uuid(input.path.id, "Sub-order"), handoverCode: body.handoverCode, codCollectedCents: body.codCollectedCents, by: staff)
        return .ok(.init(body: .json(try .init(parcel, audience: .hubStaff))))
    }

    func recordFailedAttempt(_ input: Operations.RecordFailedAttempt.Input) async throws -> Operations.RecordFailedAttempt.Output {
        let staff = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let parcel = try await services.hubOperations.attemptFailed(
            try uuid(input.path.id, "Sub-order"), reason: try SubOrderLifecycle.AttemptReason(mapping: body.reason.rawValue),
            note: body.note, by: staff)
        return .ok(.init(body: .json(try .init(parcel, audience: .hubStaff))))
    }

    func dispatchReturn(_ input: Operations.DispatchReturn.Input) async throws -> Operations.DispatchReturn.Output {
        let staff = try principal()
        let parcel = try await services.hubOperations.dispatchReturn(try uuid(input.path.id, "Sub-order"), by: staff)
        return .ok(.init(body: .json(try .init(parcel, audience: .hubStaff))))
    }

    func completeReturn(_ input: Operations.CompleteReturn.Input) async throws -> Operations.CompleteReturn.Output {
        let staff = try principal()
        let parcel = try await services.hubOperations.completeReturn(try uuid(input.path.id, "Sub-order"), by: staff)
        return .ok(.init(body: .json(try .init(parcel, audience: .hubStaff))))
    }

    func getMyCash(_ input: Operations.GetMyCash.Input) async throws -> Operations.GetMyCash.Output {
        let staff = try principal()
        let open = try await services.cash.openCollections(of: staff)
        let past = try await services.cash.remittances(of: staff, page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(
            .init(
                body: .json(
                    .init(
                        openCents: open.reduce(0) { $0 + $1.amountCents }, openCollections: open.map(Components.Schemas.Collection.init),
                        remittances: past.items.map(Components.Schemas.Remittance.init), nextCursor: past.nextCursor))))
    }

    func remitCash(_ input: Operations.RemitCash.Input) async throws -> Operations.RemitCash.Output {
        let staff = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let remittance = try await services.cash.remit(declaredCents: body.declaredCents, by: staff)
        return .created(.init(body: .json(.init(remittance))))
    }

    func getCashOverview(_ input: Operations.GetCashOverview.Input) async throws -> Operations.GetCashOverview.Output {
        let open = try await services.cash.openCashByStaff()
        let remittances = try await services.cash.allRemittances(page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(
            .init(
                body: .json(
                    .init(
                        open: open.map {
                            .init(
                                hub: .init($0.hub), staffId: $0.staffID.lowercased, staffName: $0.staffName, openCents: $0.openCents,
                                collectionCount: $0.collectionCount)
                        },
                        remittances: remittances.items.map(Components.Schemas.Remittance.init), nextCursor: remittances.nextCursor))))
    }

    func listNotifications(_ input: Operations.ListNotifications.Input) async throws -> Operations.ListNotifications.Output {
        let caller = try principal()
        let page = try await services.notifications.list(
            userID: caller.userID, page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map {
                            .init(
                                id: $0.id.lowercased, kind: $0.kind, title: $0.title, body: $0.body, orderId: $0.orderID?.lowercased,
                                subOrderId: $0.subOrderID?.lowercased, createdAt: $0.createdAt)
                        }, nextCursor: page.nextCursor))))
    }
}

extension Components.Schemas.Collection {
    init(_ collection: CashRemittances.Collection) {
        self.init(
            id: collection.id.lowercased, subOrderId: collection.subOrderID.lowercased, subOrderNumber: collection.subOrderNumber,
            amountCents: collection.amountCents, collectedAt: collection.collectedAt)
    }
}

extension Components.Schemas.Remittance {
    init(_ remittance: CashRemittances.Remittance) {
        self.init(
            id: remittance.id.lowercased, hubId: remittance.hubID.lowercased, staffId: remittance.staffID.lowercased,
            expectedCents: remittance.expectedCents, declaredCents: remittance.declaredCents, varianceCents: remittance.varianceCents,
            collections: remittance.collections.map(Components.Schemas.Collection.init), createdAt: remittance.createdAt)
    }
}
