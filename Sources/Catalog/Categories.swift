import Core
import Foundation
import Logging
import PostgresNIO

/// The category tree as admins keep it (SPEC sections 4 and 13): names, unique slugs, parents
/// without cycles, and an active flag. A deactivated category takes its descendants and all
/// their products out of the public catalog and out of checkout; a category that holds products
/// is never deleted, only deactivated.
public struct Categories: Sendable {
    public struct Category: Sendable, Equatable {
        public let id: UUID
        public let parentID: UUID?
        public let name: String
        public let slug: String
        public let isActive: Bool
        /// Active with every ancestor active: in the public tree, its products on sale.
        public let isListed: Bool
        public let createdAt: Date
        public let updatedAt: Date
    }

    /// Where a category hangs in the tree.
    public enum Parent: Sendable, Equatable {
        case root
        case category(UUID)
    }

    public struct Draft: Sendable {
        public var name: String
        public var slug: String
        public var parentID: UUID?
        public var isActive: Bool?

        public init(name: String, slug: String, parentID: UUID? = nil, isActive: Bool? = nil) {
            self.name = name
            self.slug = slug
            self.parentID = parentID
            self.isActive = isActive
        }
    }

    /// A partial update; `nil` leaves a field as it is.
    public struct Change: Sendable {
        public var name: String?
        public var slug: String?
        public var parent: Parent?
        public var isActive: Bool?

        public init(name: String? = nil, slug: String? = nil, parent: Parent? = nil, isActive: Bool? = nil) {
            self.name = name
            self.slug = slug
            self.parent = parent
            self.isActive = isActive
        }
    }

    public static let maximumNameLength = 80
    public static let maximumSlugLength = 80

    let database: Database
    let effects: Effects

    public init(database: Database, effects: Effects) {
        self.database = database
        self.effects = effects
    }

    /// Every category, active or not, newest first.
    public func list(page: PageRequest) async throws -> Page<Category> {
        let rows = try await database.query(
            """
            SELECT \(unescaped: Self.columns) FROM categories
            WHERE \(page.after?.createdAt)::timestamptz IS NULL OR (created_at, id) < (\(page.after?.createdAt), \(page.after?.id))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """)
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) { Cursor(createdAt: $0.createdAt, id: $0.id) }
    }

    public func category(_ id: UUID) async throws -> Category {
        let rows = try await database.query("SELECT \(unescaped: Self.columns) FROM categories WHERE id = \(id)")
        guard let row = rows.first else { throw Problem.notFound("Category") }
        return try Self.decode(row)
    }

    public func create(_ draft: Draft) async throws -> Category {
        var validator = Validator()
        let name = validator.text(draft.name, "name", max: Self.maximumNameLength)
        let slug = Self.checkedSlug(draft.slug, into: &validator)
        try validator.validate()
        let id = UUID()
        let now = effects.now()
        return try await changingTree { connection, logger in
            if let parentID = draft.parentID {
                let parents = try await connection.exec("SELECT 1 FROM categories WHERE id = \(parentID)", logger: logger)
                guard !parents.isEmpty else { throw Problem.validation(field: "parent_id", "no such category") }
            }
            try await connection.exec(
                """
                INSERT INTO categories (id, parent_id, name, slug, is_active, created_at, updated_at)
                VALUES (\(id), \(draft.parentID), \(name), \(slug), \(draft.isActive ?? true), \(now), \(now))
                """, logger: logger)
            return id
        }
    }

    /// Renames, re-slugs, moves or (de)activates a category. A move under the category itself
    /// or one of its descendants is refused (409 `category_cycle`); the check runs in the
    /// serialised transaction, so two moves racing cannot close a cycle together.
    public func update(_ id: UUID, _ change: Change) async throws -> Category {
        var validator = Validator()
        let name = change.name.map { validator.text($0, "name", max: Self.maximumNameLength) }
        let slug = change.slug.map { Self.checkedSlug($0, into: &validator) }
        if case .category(let parentID) = change.parent {
            validator.check(parentID != id, "parent_id", "cannot be the category itself")
        }
        try validator.validate()
        let now = effects.now()
        return try await changingTree { connection, logger in
            let existing = try await connection.exec("SELECT 1 FROM categories WHERE id = \(id)", logger: logger)
            guard !existing.isEmpty else { throw Problem.notFound("Category") }
            var newParent: UUID?
            if case .category(let parentID) = change.parent {
                // The new parent's ancestors, itself included; UNION stops on any cycle already there.
                let ancestry = try await connection.exec(
                    """
                    WITH RECURSIVE up AS (
                        SELECT id, parent_id FROM categories WHERE id = \(parentID)
                        UNION SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id
                    )
                    SELECT id FROM up
                    """, logger: logger)
                let ancestors = try ancestry.map { try $0.decode(UUID.self) }
                guard !ancestors.isEmpty else { throw Problem.validation(field: "parent_id", "no such category") }
                if ancestors.contains(id) {
                    throw Problem.conflict(
                        "The new parent lies below this category; a category cannot become its own ancestor.", code: "category_cycle")
                }
                newParent = parentID
            }
            try await connection.exec(
                """
                UPDATE categories SET
                    name = coalesce(\(name), name), slug = coalesce(\(slug), slug),
                    parent_id = CASE WHEN \(change.parent != nil) THEN \(newParent) ELSE parent_id END,
                    is_active = coalesce(\(change.isActive), is_active), updated_at = \(now)
                WHERE id = \(id)
                """, logger: logger)
            return id
        }
    }

    /// Deletes an empty category: one holding products (active or not) or child categories
    /// answers 409 `category_in_use`; deactivate it instead.
    public func delete(_ id: UUID) async throws {
        try await database.transaction { connection in
            let logger = database.logger
            try await Self.serialise(on: connection, logger: logger)
            // Waits for a product being put into the category, so the check below sees it.
            let locked = try await connection.exec("SELECT 1 FROM categories WHERE id = \(id) FOR UPDATE", logger: logger)
            guard !locked.isEmpty else { throw Problem.notFound("Category") }
            let deleted = try await connection.exec(
                """
                DELETE FROM categories c WHERE c.id = \(id)
                  AND NOT EXISTS (SELECT 1 FROM products p WHERE p.category_id = c.id)
                  AND NOT EXISTS (SELECT 1 FROM categories child WHERE child.parent_id = c.id)
                RETURNING id
                """, logger: logger)
            guard !deleted.isEmpty else {
                throw Problem.conflict(
                    "The category holds products or other categories; deactivate it instead (is_active: false).",
                    code: "category_in_use")
            }
        }
    }

    // MARK: Rules

    /// Runs a change of the tree and answers the changed category. Changes of the tree take
    /// turns (a table lock that plain reads and product writes do not wait for), so the cycle
    /// check and the listed flags always see the tree as the previous change left it.
    private func changingTree(
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> UUID
    ) async throws -> Category {
        do {
            return try await database.transaction { connection in
                let logger = database.logger
                try await Self.serialise(on: connection, logger: logger)
                let id = try await body(connection, logger)
                try await Self.relist(on: connection, logger: logger)
                let rows = try await connection.exec("SELECT \(unescaped: Self.columns) FROM categories WHERE id = \(id)", logger: logger)
                return try Self.decode(rows[0])
            }
        } catch where DatabaseError.uniqueViolation(error) == "categories_slug_key" {
            throw Problem.conflict("Another category has this slug.", code: "slug_taken")
        }
    }

    private static func serialise(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.exec("LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE", logger: logger)
    }

    /// Recomputes `is_listed` from the roots down. The tree holds hundreds of categories, not
    /// millions, so the whole of it is cheaper to recompute than to reason about in parts.
    private static func relist(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.exec(
            """
            WITH RECURSIVE listed AS (
                SELECT id, is_active AS listed FROM categories WHERE parent_id IS NULL
                UNION ALL
                SELECT c.id, l.listed AND c.is_active FROM categories c JOIN listed l ON c.parent_id = l.id
            )
            UPDATE categories c SET is_listed = l.listed FROM listed l WHERE c.id = l.id AND c.is_listed <> l.listed
            """, logger: logger)
    }

    /// Lower-case letters and digits in groups joined by single hyphens, e.g. `home-kitchen`.
    private static func checkedSlug(_ raw: String, into validator: inout Validator) -> String {
        let slug = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let groups = slug.split(separator: "-", omittingEmptySubsequences: false)
        let wellFormed = groups.allSatisfy { group in
            !group.isEmpty && group.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) }
        }
        validator.check(
            wellFormed && slug.count <= maximumSlugLength, "slug",
            "must be 1 to \(maximumSlugLength) lower-case letters and digits, in groups joined by single hyphens")
        return slug
    }

    private static let columns = "id, parent_id, name, slug, is_active, is_listed, created_at, updated_at"

    private static func decode(_ row: PostgresRow) throws -> Category {
        let r = row.makeRandomAccess()
        return Category(
            id: try r.get("id"), parentID: try r.get("parent_id"), name: try r.get("name"), slug: try r.get("slug"),
            isActive: try r.get("is_active"), isListed: try r.get("is_listed"), createdAt: try r.get("created_at"),
            updatedAt: try r.get("updated_at"))
    }
}
