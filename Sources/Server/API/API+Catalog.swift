import Catalog
import Core
import Foundation
import Identity
import OpenAPIRuntime

extension API {
    func listCategories(_ input: Operations.ListCategories.Input) async throws -> Operations.ListCategories.Output {
        let tree = try await services.products.categories()
        return .ok(.init(body: .json(.init(items: tree.map(Components.Schemas.Category.init)))))
    }

    func listProducts(_ input: Operations.ListProducts.Input) async throws -> Operations.ListProducts.Output {
        let query = input.query
        let filter = Products.Filter(
            text: query.q, categoryID: try query.categoryId.map { try bodyUUID($0, "category_id") },
            merchantID: try query.merchantId.map { try bodyUUID($0, "merchant_id") },
            minPriceCents: query.minPriceCents, maxPriceCents: query.maxPriceCents, sort: query.sort?.domain ?? .newest)
        let page = try await services.products.list(filter, limit: query.limit, cursor: query.cursor)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Product.init), nextCursor: page.nextCursor))))
    }

    func getProduct(_ input: Operations.GetProduct.Input) async throws -> Operations.GetProduct.Output {
        let product = try await services.products.product(try uuid(input.path.id, "Product"))
        return .ok(.init(body: .json(.init(product))))
    }

    func listMerchantProducts(_ input: Operations.ListMerchantProducts.Input) async throws -> Operations.ListMerchantProducts.Output {
        let merchantID = try callingMerchant()
        let page = try await services.products.list(
            merchantID: merchantID, page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Product.init), nextCursor: page.nextCursor))))
    }

    func createMerchantProduct(_ input: Operations.CreateMerchantProduct.Input) async throws -> Operations.CreateMerchantProduct.Output {
        let merchantID = try callingMerchant()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let product = try await services.products.create(
            .init(
                categoryID: try bodyUUID(body.categoryId, "category_id"), name: body.name, description: body.description,
                priceCents: body.priceCents, stock: body.stock, imageURLs: body.imageUrls),
            merchantID: merchantID)
        return .created(.init(body: .json(.init(product))))
    }

    func updateMerchantProduct(_ input: Operations.UpdateMerchantProduct.Input) async throws -> Operations.UpdateMerchantProduct.Output {
        let merchantID = try callingMerchant()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let product = try await services.products.update(
            try uuid(input.path.id, "Product"),
            .init(
                name: body.name, description: body.description, categoryID: try body.categoryId.map { try bodyUUID($0, "category_id") },
                priceCents: body.priceCents, imageURLs: body.imageUrls, isActive: body.isActive, stock: body.stock,
                stockAdjustment: body.stockAdjustment),
            merchantID: merchantID)
        return .ok(.init(body: .json(.init(product))))
    }

    func deactivateMerchantProduct(_ input: Operations.DeactivateMerchantProduct.Input) async throws
        -> Operations.DeactivateMerchantProduct.Output
    {
        let merchantID = try callingMerchant()
        try await services.products.deactivate(try uuid(input.path.id, "Product"), merchantID: merchantID)
        return .noContent(.init())
    }

    /// The merchant of the caller, who must be a merchant whose merchant record is active.
    func callingMerchant() throws -> UUID {
        guard let merchantID = try principal().merchantID else {
            throw Problem.forbidden("Your merchant account is not active.")
        }
        return merchantID
    }
}

extension Components.Schemas.ProductSort {
    var domain: Products.Sort {
        switch self {
        case .newest: .newest
        case .priceAsc: .priceAscending
        case .priceDesc: .priceDescending
        case .rating: .rating
        }
    }
}

extension Components.Schemas.MerchantBrief {
    init(_ merchant: MerchantName) {
        self.init(id: merchant.id.lowercased, name: merchant.name)
    }
}

extension Components.Schemas.Category {
    init(_ category: Products.Category) {
        self.init(
            id: category.id.lowercased, name: category.name, slug: category.slug,
            children: category.children.map(Components.Schemas.Category.init))
    }
}

extension Components.Schemas.Product {
    init(_ product: Products.Product) {
        self.init(
            id: product.id.lowercased, merchant: .init(product.merchant), categoryId: product.categoryID.lowercased,
            name: product.name, description: product.description, priceCents: product.priceCents, stock: product.stock,
            imageUrls: product.imageURLs, isActive: product.isActive, ratingAverage: product.ratingAverage,
            ratingCount: product.ratingCount, createdAt: product.createdAt, updatedAt: product.updatedAt)
    }
}
