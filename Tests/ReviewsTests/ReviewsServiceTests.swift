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
            // Setup: twenty customers reviewed the same product with three stars.
            let reviews = world.services.reviews
            let product = world.products[0][0]
            let admin = try await world.admin()
            var written: [(review: UUID, author: UUID)] = []
            for index in 0..<20 {
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
            #expect(outcomes["hidden"] == 20, "\(outcomes)")
            #expect((outcomes["edited"] ?? 0) + (outcomes["review_hidden"] ?? 0) == 40, "\(outcomes)")
            let ratings = try await world.ratings(of: product)
            #expect(ratings.stored == [0, 0] && ratings.recomputed == [0, 0])
        }
    }

    @Test func aHideThatWaitsForAnEditCountsWhatCommittedMeanwhile() async throws {
        try await World.with { world in
            // Setup: a four-star and a three-star review, a third buyer about to review, and an edit
            // of the three stars in a transaction the test holds open (it does what an edit does).
            let reviews = world.services.reviews
            let product = world.products[0][0]
            let admin = try await world.admin()
            for (name, rating) in [("kept", 4), ("edited", 3)] {
                let reviewer = try await world.reviewer(name, buys: product)
                _ = try await reviews.create(.init(orderItemID: reviewer.item, rating: rating), authorID: reviewer.user)
            }
            let late = try await world.reviewer("late", buys: product)
            let edited = try await world.database.query("SELECT id FROM reviews WHERE rating = 3")[0].decode(UUID.self)
            let logger = world.database.logger

            try await world.database.withConnection { edit in
                try await edit.exec("BEGIN", logger: logger)
                try await edit.exec("SELECT 1 FROM reviews WHERE id = \(edited) FOR UPDATE", logger: logger)

                // Act: the hide starts and waits for the edit; meanwhile another review is written,
                // then the edit moves three stars to five and commits.
                async let hiding = reviews.hide(edited, note: "Spam", adminID: admin)
                var waiting = false
                for _ in 0..<100_000 where !waiting {
                    waiting = try await world.database.query(
                        """
                        SELECT count(*) > 0 FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%hidden_at IS NULL%'
                        """)[0].decode(Bool.self)
                }
                _ = try await reviews.create(.init(orderItemID: late.item, rating: 4), authorID: late.user)
                try await edit.exec("UPDATE reviews SET rating = 5 WHERE id = \(edited)", logger: logger)
                try await edit.exec("UPDATE products SET rating_total = rating_total + 2 WHERE id = \(product)", logger: logger)
                try await edit.exec("COMMIT", logger: logger)
                let hidden = try await hiding

                // Check: the hide took off the five stars the edit left, on top of the new review.
                #expect(waiting)
                #expect(hidden.rating == 5 && hidden.hiddenNote == "Spam")
            }
            let ratings = try await world.ratings(of: product)
            #expect(ratings.stored == [2, 8] && ratings.recomputed == [2, 8])
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
