import Catalog
import Core
import Foundation
import Logging
import Orders
import PostgresNIO

/// Reviews of delivered order items, merchants' replies and admins' moderation (SPEC section 7).
///
/// The product's `rating_count` and `rating_total` move in the transaction that changes a
/// review, always by an increment applied to the row's current values, so concurrent reviews,
/// edits and hides all count exactly once: a review row changes under its own row lock (edits
/// and hides of one review take turns) and the product row under its own.
public struct Reviews: Sendable {
    /// How long after writing it the author may edit a review.
    public static let editWindow: TimeInterval = 30 * 24 * 60 * 60
    public static let ratings = 1...5
    public static let maximumTitleLength = 120
    public static let maximumBodyLength = 5000
    public static let maximumReplyLength = 2000
    public static let maximumNoteLength = 500

    public struct Draft: Sendable {
        public var orderItemID: UUID
        public var rating: Int
        public var title: String?
        public var body: String?

        public init(orderItemID: UUID, rating: Int, title: String? = nil, body: String? = nil) {
            self.orderItemID = orderItemID
            self.rating = rating
            self.title = title
            self.body = body
        }
    }

    /// An edit; `nil` leaves a field as it is, an empty title or body removes it.
    public struct Change: Sendable {
        public var rating: Int?
        public var title: String?
        public var body: String?

        public init(rating: Int? = nil, title: String? = nil, body: String? = nil) {
            self.rating = rating
            self.title = title
            self.body = body
        }
    }

    /// The orders of a product's public reviews; each is newest first within equal ratings.
    public enum Sort: String, Sendable, CaseIterable {
        case newest, highest, lowest
    }

    let database: Database
    let effects: Effects
    let products: Products

    public init(database: Database, effects: Effects, products: Products) {
        self.database = database
        self.effects = effects
        self.products = products
    }

    // MARK: Authors

    /// The author's review of an order item of theirs whose parcel was delivered; one per item.
    public func create(_ draft: Draft, authorID: UUID) async throws -> Review {
        var validator = Validator()
        Self.checkRating(draft.rating, into: &validator)
        let title = Self.optionalText(draft.title, "title", max: Self.maximumTitleLength, into: &validator)
        let body = Self.optionalText(draft.body, "body", max: Self.maximumBodyLength, into: &validator)
        try validator.validate()
        let id = UUID()
        let now = effects.now()
        // One statement: the item is checked, the review inserted (the unique index on the item
        // refuses a second one, also a concurrent one) and the product counts it. Unlike `hide`,
        // nothing in it waits for a changed row to be re-read, so the product's update is current.
        let counted = try await database.query(
            """
            WITH item AS (
                SELECT oi.id, oi.product_id, s.merchant_id
                FROM order_items oi JOIN sub_orders s ON s.id = oi.sub_order_id JOIN orders o ON o.id = s.order_id
                WHERE oi.id = \(draft.orderItemID) AND o.customer_id = \(authorID) AND s.status = \(SubOrderStatus.delivered.rawValue)
            ), created AS (
                INSERT INTO reviews (id, order_item_id, product_id, merchant_id, author_id, rating, title, body, created_at, updated_at)
                SELECT \(id), item.id, item.product_id, item.merchant_id, \(authorID), \(draft.rating), \(title), \(body), \(now), \(now)
                FROM item
                ON CONFLICT (order_item_id) DO NOTHING
                RETURNING product_id, rating
            )
            UPDATE products p SET rating_count = p.rating_count + 1, rating_total = p.rating_total + created.rating
            FROM created WHERE p.id = created.product_id
            RETURNING p.id
            """)
        if counted.isEmpty { try await explainRefusal(orderItemID: draft.orderItemID, authorID: authorID) }
        return try await review(id)
    }

    /// Edits the author's own review within the edit window; another user's review is 404.
    public func update(_ id: UUID, _ change: Change, authorID: UUID) async throws -> Review {
        var validator = Validator()
        if let rating = change.rating { Self.checkRating(rating, into: &validator) }
        let title = Self.optionalText(change.title, "title", max: Self.maximumTitleLength, into: &validator)
        let body = Self.optionalText(change.body, "body", max: Self.maximumBodyLength, into: &validator)
        try validator.validate()
        let now = effects.now()
        try await database.transaction { connection in
            let logger = database.logger
            let rows = try await connection.exec(
                "SELECT rating, created_at, hidden_at FROM reviews WHERE id = \(id) AND author_id = \(authorID) FOR UPDATE",
                logger: logger)
            guard let row = rows.first else { throw Problem.notFound("Review") }
            let (rating, createdAt, hiddenAt) = try row.decode((Int, Date, Date?).self)
            if hiddenAt != nil {
                throw Problem.conflict("A moderator hid this review; it can no longer be edited.", code: "review_hidden")
            }
            let editableUntil = createdAt.addingTimeInterval(Self.editWindow)
            guard now < editableUntil else {
                var problem = Problem.conflict("Reviews can be edited for 30 days after they are written.", code: "edit_window_closed")
                problem.extensions["editable_until"] = .string(editableUntil.formatted(.iso8601))
                throw problem
            }
            // The row is locked, so the rating read above is the one this edit replaces and the
            // statement below never waits for another change of it.
            let delta = (change.rating ?? rating) - rating
            try await connection.exec(
                """
                WITH edited AS (
                    UPDATE reviews SET
                        rating = \(change.rating ?? rating),
                        title = CASE WHEN \(change.title != nil) THEN \(title) ELSE title END,
                        body = CASE WHEN \(change.body != nil) THEN \(body) ELSE body END,
                        updated_at = \(now)
                    WHERE id = \(id)
                    RETURNING product_id
                )
                UPDATE products p SET rating_total = p.rating_total + \(delta)
                FROM edited WHERE p.id = edited.product_id AND \(delta) <> 0
                """, logger: logger)
        }
        return try await review(id)
    }

    /// The author's reviews, hidden ones included, newest first.
    public func list(authorID: UUID, page: PageRequest) async throws -> Page<Review> {
        var query = FilterQuery()
        query.filter("r.author_id = \(try query.bind(authorID))")
        return try await newestFirst(query, page: page)
    }

    // MARK: Merchants

    /// Writes the merchant's reply, or replaces it: one reply per review. Reviews of another
    /// merchant's products, and hidden ones, are 404. The author hears of the first reply.
    public func reply(to id: UUID, body rawBody: String, merchantID: UUID) async throws -> Review {
        var validator = Validator()
        let body = validator.text(rawBody, "body", max: Self.maximumReplyLength)
        try validator.validate()
        let now = effects.now()
        try await database.transaction { connection in
            let logger = database.logger
            let rows = try await connection.exec(
                """
                SELECT r.replied_at IS NULL AS first, m.business_name FROM reviews r JOIN merchants m ON m.id = r.merchant_id
                WHERE r.id = \(id) AND r.merchant_id = \(merchantID) AND r.hidden_at IS NULL FOR UPDATE OF r
                """, logger: logger)
            guard let row = rows.first else { throw Problem.notFound("Review") }
            let (isFirst, businessName) = try row.decode((Bool, String).self)
            try await connection.exec(
                """
                UPDATE reviews SET reply_body = \(body), replied_at = coalesce(replied_at, \(now)), reply_updated_at = \(now)
                WHERE id = \(id)
                """, logger: logger)
            if isFirst {
                try await Self.tellAuthor(
                    of: id, kind: "review_replied", title: "The seller replied to your review",
                    body: ("\(businessName) replied to your review of ", "."), now: now, on: connection, logger: logger)
            }
        }
        return try await review(id)
    }

    /// Reviews of the merchant's products (not hidden ones), newest first; `unansweredOnly`
    /// keeps those without a reply.
    public func list(merchantID: UUID, unansweredOnly: Bool, page: PageRequest) async throws -> Page<Review> {
        var query = FilterQuery()
        query.filter("r.merchant_id = \(try query.bind(merchantID))")
        query.filter("r.hidden_at IS NULL")
        if unansweredOnly { query.filter("r.reply_body IS NULL") }
        return try await newestFirst(query, page: page)
    }

    // MARK: Admins

    /// Hides a review with the admin's note: it leaves the public listing and the product's
    /// rating, and the author is told why, in one transaction. Hiding twice is 409 `already_hidden`.
    public func hide(_ id: UUID, note rawNote: String, adminID: UUID) async throws -> Review {
        var validator = Validator()
        let note = validator.text(rawNote, "note", max: Self.maximumNoteLength)
        try validator.validate()
        let now = effects.now()
        try await database.transaction { connection in
            let logger = database.logger
            // The conditional UPDATE waits for an edit in flight and then hides the edited rating.
            let hidden = try await connection.exec(
                """
                UPDATE reviews SET hidden_at = \(now), hidden_by = \(adminID), hidden_note = \(note)
                WHERE id = \(id) AND hidden_at IS NULL
                RETURNING product_id, rating
                """, logger: logger)
            guard let row = hidden.first else {
                let existing = try await connection.exec("SELECT 1 FROM reviews WHERE id = \(id)", logger: logger)
                guard !existing.isEmpty else { throw Problem.notFound("Review") }
                throw Problem.conflict("This review is hidden already.", code: "already_hidden")
            }
            let (productID, rating) = try row.decode((UUID, Int).self)
            // A statement of its own: combined with the review's UPDATE in one statement that had
            // waited for an edit, PostgreSQL 15 was seen updating the product row as it was when
            // the statement began, losing the edit's change of the total.
            try await connection.exec(
                """
                UPDATE products SET rating_count = rating_count - 1, rating_total = rating_total - \(rating)
                WHERE id = \(productID)
                """, logger: logger)
            try await Self.tellAuthor(
                of: id, kind: "review_hidden", title: "Your review was hidden", body: ("A moderator hid your review of ", ": \(note)"),
                now: now, on: connection, logger: logger)
        }
        return try await review(id)
    }

    // MARK: Shoppers

    /// A product's visible reviews, sorted and paged by keyset. The product must be on sale
    /// (as for its product page); otherwise 404.
    public func list(productID: UUID, sort: Sort, limit: Int?, cursor: String?) async throws -> Page<Review> {
        let page = try PageRequest(limit: limit, cursor: cursor, ordering: sort.cursorOrdering)
        _ = try await products.product(productID)
        var query = FilterQuery()
        query.filter("r.product_id = \(try query.bind(productID))")
        query.filter("r.hidden_at IS NULL")
        if let after = page.after { query.filter(try sort.rowsAfter(after, in: &query)) }
        let limit = try query.bind(page.limit + 1)
        let rows = try await database.query(query.query(Self.selectReviews, "ORDER BY \(sort.orderBy) LIMIT \(limit)"))
        return Page(fetched: try rows.map(Self.decode), limit: page.limit, position: sort.position)
    }

    // MARK: Reading

    public func review(_ id: UUID) async throws -> Review {
        let rows = try await database.query("\(unescaped: Self.selectReviews) WHERE r.id = \(id)")
        guard let row = rows.first else { throw Problem.notFound("Review") }
        return try Self.decode(row)
    }

    private func newestFirst(_ filter: FilterQuery, page: PageRequest) async throws -> Page<Review> {
        var query = filter
        if let after = page.after { query.filter(try Sort.newest.rowsAfter(after, in: &query)) }
        let limit = try query.bind(page.limit + 1)
        let rows = try await database.query(query.query(Self.selectReviews, "ORDER BY \(Sort.newest.orderBy) LIMIT \(limit)"))
        return Page(fetched: try rows.map(Self.decode), limit: page.limit, position: Sort.newest.position)
    }

    /// Why a review of an order item was not written: not the caller's item (404), reviewed
    /// already, or its parcel not delivered (409).
    private func explainRefusal(orderItemID: UUID, authorID: UUID) async throws -> Never {
        let rows = try await database.query(
            """
            SELECT s.status, EXISTS (SELECT 1 FROM reviews r WHERE r.order_item_id = oi.id) AS reviewed
            FROM order_items oi JOIN sub_orders s ON s.id = oi.sub_order_id JOIN orders o ON o.id = s.order_id
            WHERE oi.id = \(orderItemID) AND o.customer_id = \(authorID)
            """)
        guard let row = rows.first else { throw Problem.notFound("Order item") }
        let (status, reviewed) = try row.decode((String, Bool).self)
        if reviewed {
            throw Problem.conflict("You have reviewed this item already; edit that review instead.", code: "already_reviewed")
        }
        guard status == SubOrderStatus.delivered.rawValue else {
            throw Problem(
                status: 409, code: "not_delivered", title: "Conflict",
                detail: "An item can be reviewed once its parcel is delivered; it is \(status).",
                extensions: ["current_status": .string(status)])
        }
        throw Problem.internalError  // a delivered, unreviewed item of the author's is always written
    }

    /// A notification to the review's author, whose body names the reviewed item between
    /// `body.before` and `body.after`, linked to the item's parcel.
    private static func tellAuthor(
        of reviewID: UUID, kind: String, title: String, body: (before: String, after: String), now: Date,
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.exec(
            """
            INSERT INTO notifications (user_id, kind, title, body, order_id, sub_order_id, created_at)
            SELECT r.author_id, \(kind), \(title), \(body.before) || oi.name || \(body.after), s.order_id, s.id, \(now)
            FROM reviews r JOIN order_items oi ON oi.id = r.order_item_id JOIN sub_orders s ON s.id = oi.sub_order_id
            WHERE r.id = \(reviewID)
            """, logger: logger)
    }

    // MARK: Rules

    private static func checkRating(_ rating: Int, into validator: inout Validator) {
        validator.check(ratings.contains(rating), "rating", "must be a whole number from 1 to 5")
    }

    /// Trimmed text; empty (or absent) is no text at all.
    private static func optionalText(_ raw: String?, _ field: String, max: Int, into validator: inout Validator) -> String? {
        guard let raw else { return nil }
        let text = validator.text(raw, field, min: 0, max: max)
        return text.isEmpty ? nil : text
    }

    // MARK: Rows

    private static let selectReviews = """
        SELECT r.id, r.order_item_id, r.product_id, p.name AS product_name, r.merchant_id, r.author_id,
               u.full_name AS author_full_name, r.rating, r.title, r.body, r.created_at, r.updated_at,
               r.reply_body, r.replied_at, r.reply_updated_at, r.hidden_at, r.hidden_note
        FROM reviews r JOIN products p ON p.id = r.product_id JOIN users u ON u.id = r.author_id
        """

    private static func decode(_ row: PostgresRow) throws -> Review {
        let r = row.makeRandomAccess()
        let replyBody: String? = try r.get("reply_body")
        let repliedAt: Date? = try r.get("replied_at")
        let replyUpdatedAt: Date? = try r.get("reply_updated_at")
        var reply: Review.Reply?
        if let replyBody, let repliedAt {
            reply = Review.Reply(body: replyBody, createdAt: repliedAt, updatedAt: replyUpdatedAt ?? repliedAt)
        }
        return Review(
            id: try r.get("id"), orderItemID: try r.get("order_item_id"), productID: try r.get("product_id"),
            productName: try r.get("product_name"), merchantID: try r.get("merchant_id"), authorID: try r.get("author_id"),
            authorName: Review.displayName(try r.get("author_full_name")), rating: try r.get("rating"), title: try r.get("title"),
            body: try r.get("body"), createdAt: try r.get("created_at"), updatedAt: try r.get("updated_at"), reply: reply,
            hiddenAt: try r.get("hidden_at"), hiddenNote: try r.get("hidden_note"))
    }
}

extension Reviews.Sort {
    /// Newest first is every list's default order; the rating orders name themselves in cursors.
    var cursorOrdering: String? { self == .newest ? nil : rawValue }

    /// The rating as this order sorts it, descending: `lowest` sorts on its negation, so every
    /// order reads its index (0012) in one direction and pages with one row comparison.
    private var ratingKey: String? {
        switch self {
        case .newest: nil
        case .highest: "r.rating"
        case .lowest: "-r.rating"
        }
    }

    var orderBy: String {
        [ratingKey, "r.created_at", "r.id"].compactMap { $0.map { "\($0) DESC" } }.joined(separator: ", ")
    }

    /// A rating order's cursor key holds the rating and the creation time in microseconds:
    /// rating × 10^16 + microseconds (10^16 µs is past the year 2286).
    private static let ratingScale: Int64 = 10_000_000_000_000_000

    func position(_ review: Review) -> Cursor {
        switch self {
        case .newest:
            return Cursor(createdAt: review.createdAt, id: review.id)
        case .highest, .lowest:
            let micros = Cursor(createdAt: review.createdAt, id: review.id).createdAtMicroseconds
            return Cursor(ordering: rawValue, key: Int64(review.rating) * Self.ratingScale + micros, id: review.id)
        }
    }

    func rowsAfter(_ cursor: Cursor, in query: inout FilterQuery) throws -> String {
        guard let ratingKey else {
            return "(r.created_at, r.id) < (\(try query.bind(cursor.createdAt)), \(try query.bind(cursor.id)))"
        }
        let (rating, micros) = cursor.key.quotientAndRemainder(dividingBy: Self.ratingScale)
        guard Reviews.ratings.contains(Int(rating)), micros >= 0 else {
            throw Problem.validation(field: "cursor", "is not a cursor this service issued")
        }
        let key = self == .lowest ? -rating : rating
        return "(\(ratingKey), r.created_at, r.id) < (\(try query.bind(key))::int, "
            + "\(try query.bind(ExactTimestamp(microsecondsSince1970: micros))), \(try query.bind(cursor.id)))"
    }
}
