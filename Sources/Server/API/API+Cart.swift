import Catalog
import Core
import Foundation
import Identity
import OpenAPIRuntime

extension API {
    func getCart(_ input: Operations.GetCart.Input) async throws -> Operations.GetCart.Output {
        let cart = try await services.carts.cart(of: try principal())
        return .ok(.init(body: .json(.init(cart))))
    }

    func clearCart(_ input: Operations.ClearCart.Input) async throws -> Operations.ClearCart.Output {
        try await services.carts.clear(for: try principal())
        return .noContent(.init())
    }

    func addCartItem(_ input: Operations.AddCartItem.Input) async throws -> Operations.AddCartItem.Output {
        let principal = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let cart = try await services.carts.add(
            productID: try bodyUUID(body.productId, "product_id"), quantity: body.quantity, for: principal)
        return .ok(.init(body: .json(.init(cart))))
    }

    func updateCartItem(_ input: Operations.UpdateCartItem.Input) async throws -> Operations.UpdateCartItem.Output {
        let principal = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let cart = try await services.carts.change(
            productID: try uuid(input.path.productId, "Cart line"), quantity: body.quantity, for: principal)
        return .ok(.init(body: .json(.init(cart))))
    }

    func removeCartItem(_ input: Operations.RemoveCartItem.Input) async throws -> Operations.RemoveCartItem.Output {
        let principal = try principal()
        try await services.carts.remove(productID: try uuid(input.path.productId, "Cart line"), for: principal)
        return .noContent(.init())
    }
}

extension Components.Schemas.Cart {
    init(_ cart: Carts.Cart) {
        self.init(
            groups: cart.groups.map { group in
                .init(
                    merchant: .init(group.merchant), lines: group.lines.map(Components.Schemas.CartLine.init),
                    itemsTotalCents: group.itemsTotalCents)
            },
            itemsTotalCents: cart.itemsTotalCents, itemCount: cart.itemCount)
    }
}

extension Components.Schemas.CartLine {
    init(_ line: Carts.Line) {
        self.init(
            productId: line.productID.lowercased, name: line.name, unitPriceCents: line.unitPriceCents,
            quantity: line.quantity, lineTotalCents: line.lineTotalCents, stock: line.stock, isAvailable: line.isAvailable)
    }
}
