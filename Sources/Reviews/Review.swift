// Reviews: verified-purchase reviews of delivered order items (SPEC section 7).
import Foundation

public struct Review: Sendable, Equatable {
    public struct Reply: Sendable, Equatable {
        public let body: String
        public let createdAt: Date
        public let updatedAt: Date
    }

    public let id: UUID
    public let orderItemID: UUID
    public let productID: UUID
    public let productName: String
    public let merchantID: UUID
    public let authorID: UUID
    /// What shoppers see of the author: first name and the initial of the last, e.g. "Wanjiru K.".
    public let authorName: String
    public let rating: Int
    public let title: String?
    public let body: String?
    public let createdAt: Date
    public let updatedAt: Date
    public let reply: Reply?
    public let hiddenAt: Date?
    public let hiddenNote: String?

    /// The author may edit the review until then.
    public var editableUntil: Date { createdAt.addingTimeInterval(Reviews.editWindow) }

    static func displayName(_ fullName: String) -> String {
        let words = fullName.split(whereSeparator: \.isWhitespace)
        guard let first = words.first else { return "Customer" }
        guard words.count > 1, let initial = words.last?.first else { return String(first) }
        return "\(first) \(initial)."
    }
}
