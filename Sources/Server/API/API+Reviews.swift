import Core
import Foundation
import Identity
import OpenAPIRuntime
import Reviews

extension API {
    func createReview(_ input: Operations.CreateReview.Input) async throws -> Operations.CreateReview.Output {
        let caller = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let review = try await services.reviews.create(
            .init(orderItemID: try bodyUUID(body.orderItemId, "order_item_id"), rating: body.rating, title: body.title, body: body.body),
            authorID: caller.userID)
        return .created(.init(body: .json(.init(review, audience: .author))))
    }

    func listMyReviews(_ input: Operations.ListMyReviews.Input) async throws -> Operations.ListMyReviews.Output {
        let caller = try principal()
        let page = try await services.reviews.list(
            authorID: caller.userID, page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(page, audience: .author))))
    }

    func updateReview(_ input: Operations.UpdateReview.Input) async throws -> Operations.UpdateReview.Output {
        let caller = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let review = try await services.reviews.update(
            try uuid(input.path.id, "Review"), .init(rating: body.rating, title: body.title, body: body.body),
            authorID: caller.userID)
        return .ok(.init(body: .json(.init(review, audience: .author))))
    }

    func listProductReviews(_ input: Operations.ListProductReviews.Input) async throws -> Operations.ListProductReviews.Output {
        let query = input.query
        let page = try await services.reviews.list(
            productID: try uuid(input.path.id, "Product"), sort: query.sort.flatMap { Reviews.Sort(rawValue: $0.rawValue) } ?? .newest,
            limit: query.limit, cursor: query.cursor)
        return .ok(.init(body: .json(.init(page, audience: .public))))
    }

    func listMerchantReviews(_ input: Operations.ListMerchantReviews.Input) async throws -> Operations.ListMerchantReviews.Output {
        let merchantID = try callingMerchant()
        let page = try await services.reviews.list(
            merchantID: merchantID, unansweredOnly: input.query.unanswered ?? false,
            page: try PageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(page, audience: .merchant))))
    }

    func replyToReview(_ input: Operations.ReplyToReview.Input) async throws -> Operations.ReplyToReview.Output {
        let merchantID = try callingMerchant()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let review = try await services.reviews.reply(to: try uuid(input.path.id, "Review"), body: body.body, merchantID: merchantID)
        return .ok(.init(body: .json(.init(review, audience: .merchant))))
    }

    func hideReview(_ input: Operations.HideReview.Input) async throws -> Operations.HideReview.Output {
        let admin = try principal()
        guard case .json(let body) = input.body else { throw Problem.malformedRequest("Expected a JSON body.") }
        let review = try await services.reviews.hide(try uuid(input.path.id, "Review"), note: body.note, adminID: admin.userID)
        return .ok(.init(body: .json(.init(review, audience: .admin))))
    }
}

/// Who reads a review decides what it shows beyond the public fields.
enum ReviewAudience {
    case `public`, author, merchant, admin

    var seesOrderItem: Bool { self != .public }
    var seesModeration: Bool { self == .author || self == .admin }
}

extension Components.Schemas.Review {
    init(_ review: Review, audience: ReviewAudience) {
        self.init(
            id: review.id.lowercased, productId: review.productID.lowercased, productName: review.productName,
            rating: review.rating, title: review.title, body: review.body, authorName: review.authorName,
            createdAt: review.createdAt, updatedAt: review.updatedAt,
            reply: review.reply.map { .init(body: $0.body, createdAt: $0.createdAt, updatedAt: $0.updatedAt) },
            orderItemId: audience.seesOrderItem ? review.orderItemID.lowercased : nil,
            editableUntil: audience == .author ? review.editableUntil : nil,
            hiddenAt: audience.seesModeration ? review.hiddenAt : nil,
            hiddenNote: audience.seesModeration ? review.hiddenNote : nil)
    }
}

extension Components.Schemas.ReviewPage {
    init(_ page: Page<Review>, audience: ReviewAudience) {
        self.init(items: page.items.map { .init($0, audience: audience) }, nextCursor: page.nextCursor)
    }
}
