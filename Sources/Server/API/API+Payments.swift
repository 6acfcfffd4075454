import Core
import Foundation
import Identity
import OpenAPIRuntime
import Payments

extension API {
    func pushMpesaPayment(_ input: Operations.PushMpesaPayment.Input) async throws -> Operations.PushMpesaPayment.Output {
        let caller = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let payment = try await services.payments.push(orderID: try bodyUUID(body.orderId, "order_id"), phone: body.phone, by: caller)
        return .accepted(
            .init(
                body: .json(
                    .init(paymentId: payment.id.lowercased, checkoutRequestId: payment.checkoutRequestID, status: try .init(mapping: payment.status.rawValue)))))
    }

    /// Daraja's STK result. The secret path is compared in constant time; a wrong one is 404 like
    /// any unknown route, so the callback's existence is not revealed.
    func receiveMpesaCallback(_ input: Operations.ReceiveMpesaCallback.Input) async throws -> Operations.ReceiveMpesaCallback.Output {
        try checkDarajaCaller(secret: input.path.secret)
        guard case .json(let container) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        try await services.payments.handleCallback(try JSONEncoder().encode(container))
        return .ok(.init(body: .json(.accepted)))
    }

    /// Daraja's B2C result for a refund payout, behind the same secret path.
    func receiveB2CResult(_ input: Operations.ReceiveB2CResult.Input) async throws -> Operations.ReceiveB2CResult.Output {
        try checkDarajaCaller(secret: input.path.secret)
        guard case .json(let container) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        try await services.payouts.handleResult(try JSONEncoder().encode(container))
        return .ok(.init(body: .json(.accepted)))
    }

    func receiveB2CTimeout(_ input: Operations.ReceiveB2CTimeout.Input) async throws -> Operations.ReceiveB2CTimeout.Output {
        try checkDarajaCaller(secret: input.path.secret)
        guard case .json(let container) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        try await services.payouts.handleTimeout(try JSONEncoder().encode(container))
        return .ok(.init(body: .json(.accepted)))
    }

    /// Daraja's callbacks come to a path ending in our secret (compared in constant time) and,
    /// when an allowlist is set, from its addresses; anything else is 404, like an unknown route.
    private func checkDarajaCaller(secret: String) throws {
        let mpesa = services.config.mpesa
        guard ConstantTime.equal(secret, mpesa.callbackSecret.revealed),
            mpesa.callbackAllowlist.isEmpty || mpesa.callbackAllowlist.contains(RequestInfo.current.clientIP)
        else { throw Problem.notFound("Route") }
    }

    func getPayment(_ input: Operations.GetPayment.Input) async throws -> Operations.GetPayment.Output {
        let caller = try principal()
        let payment = try await services.payments.payment(try uuid(input.path.id, "Payment"), viewer: caller)
        return .ok(.init(body: .json(try .init(payment))))
    }

    func listPayments(_ input: Operations.ListPayments.Input) async throws -> Operations.ListPayments.Output {
        let page = try await services.payments.payments(
            status: input.query.status.flatMap { Payments.Status(rawValue: $0.rawValue) },
            page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        let unmatched = try await services.payments.unmatchedCallbacks(limit: 100)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try page.items.map(Components.Schemas.Payment.init), nextCursor: page.nextCursor,
                        unmatched: unmatched.map {
                            .init(
                                id: $0.id.lowercased, checkoutRequestId: $0.checkoutRequestID, resultCode: $0.resultCode,
                                amountCents: $0.amountCents, mpesaReceipt: $0.mpesaReceipt, receivedAt: $0.receivedAt)
                        }))))
    }

    func resolvePayment(_ input: Operations.ResolvePayment.Input) async throws -> Operations.ResolvePayment.Output {
        let admin = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let payment = try await services.payments.resolve(
            try uuid(input.path.id, "Payment"), try Payments.Resolution(mapping: body.action.rawValue), note: body.note, by: admin)
        return .ok(.init(body: .json(try .init(payment))))
    }
}

extension Components.Schemas.DarajaAcknowledgement {
    static let accepted = Self(resultCode: 0, resultDesc: "Accepted")
}

extension Components.Schemas.Payment {
    init(_ payment: Payments.Payment) throws {
        self.init(
            id: payment.id.lowercased, orderId: payment.orderID.lowercased, method: .mpesa,
            status: try .init(mapping: payment.status.rawValue), amountCents: payment.amountCents, receivedCents: payment.receivedCents,
            phone: payment.phone, checkoutRequestId: payment.checkoutRequestID, mpesaReceipt: payment.mpesaReceipt,
            resultCode: payment.resultCode, resultDesc: payment.resultDesc, resolution: payment.resolution.flatMap { .init(rawValue: $0) },
            createdAt: payment.createdAt, settledAt: payment.settledAt)
    }
}
