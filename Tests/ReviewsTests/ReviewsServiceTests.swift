import Core
import Foundation
@testable import Reviews
import TestSupport
import Testing

@Suite struct ReviewsServiceTests {
    @Test func authorsAppearByFirstNameAndLastInitial() {
        #expect(Review.displayName("Wanjiru Akinyi Kamau") == "Wanjiru K.")
        #expect(Review.displayName("  Otieno  ") == "Otieno")
        #expect(Review.displayName(" ") == "Customer")
    }

    @Test func editsAndHidesRacingOnOneReviewCountItExactlyOnce() async throws {
        try await World.with { world in
            // Setup: ten customers reviewed the same product with three stars.
            let reviews = world.services.reviews
            let product = world.products[0][0]
            let admin = try await world.admin()
            var written: [(review: UUID, author: UUID)] = []
            for index in 0..<10 {
                let reviewer = try await world.reviewer("customer\(index)", buys: product)
                written.append((try await reviews.create(.init(orderItemID: reviewer.item, rating: 3), authorID: reviewer.user).id, reviewer.user))
            }
            let targets = written

            // Act: each review is edited twice and hidden, all at the same time.
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for (review, author) in targets {
                    for rating in [1, 5] {
                        group.addTask {
                            do {
                                _ = try await reviews.update(review, .init(rating: rating), authorID: author)
                                return "edited"
                            } catch let problem as Problem {
                                return problem.code
                            }
                        }
                    }
                    group.addTask {
                        _ = try await reviews.hide(review, note: "Duplicate", adminID: admin)
                        return "hidden"
                    }
                }
                return try await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
            }

            // Check: every review was hidden once; edits landed before or were refused after; nothing counts any more.
            #expect(outcomes["hidden"] == 10)
            #expect((outcomes["edited"] ?? 0) + (outcomes["review_hidden"] ?? 0) == 20, "\(outcomes)")
            let ratings = try await world.ratings(of: product)
            #expect(ratings.stored == [0, 0] && ratings.recomputed == [0, 0])
        }
    }

    @Test func aForgedRatingCursorIsRefused() async throws {
        try await World.with { world in
            // Setup: cursors naming the highest order, with a rating key out of range and a negative one.
            let forged = [
                Cursor(ordering: "highest", key: 9 * 10_000_000_000_000_000, id: UUID()),
                Cursor(ordering: "highest", key: -1, id: UUID()),
            ]

            // Act
            var refusedFields: [String?] = []
            for cursor in forged {
                do {
                    _ = try await world.services.reviews.list(
                        productID: world.products[0][0], sort: .highest, limit: nil, cursor: cursor.encoded)
                    refusedFields.append(nil)
                } catch let problem as Problem {
                    refusedFields.append(problem.errors.first?.field)
                }
            }

            // Check
            #expect(refusedFields == ["cursor", "cursor"])
        }
    }
}
