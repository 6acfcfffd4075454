import Core
import Foundation
import Testing

@Suite struct PaginationTests {
    @Test func cursorSurvivesTheRoundTrip() throws {
        let cursor = Cursor(createdAt: Date(timeIntervalSince1970: 1_795_000_000.123456), id: UUID())
        let page = try PageRequest(limit: 5, cursor: cursor.encoded)
        #expect(page.after == cursor)
        #expect(page.limit == 5)
    }

    @Test func limitDefaultsAndBounds() throws {
        #expect(try PageRequest(limit: nil, cursor: nil).limit == 20)
        #expect(throws: Problem.self) { try PageRequest(limit: 0, cursor: nil) }
        #expect(throws: Problem.self) { try PageRequest(limit: 101, cursor: nil) }
    }

    @Test func aForeignCursorIsAValidationError() {
        do {
            _ = try PageRequest(limit: nil, cursor: "not-a-cursor")
            Issue.record("expected a problem")
        } catch {
            #expect(error.status == 422)
            #expect(error.errors.first?.field == "cursor")
        }
    }

    @Test func pageKeepsTheExtraRowOnlyAsASignal() {
        let rows = (0..<4).map { (id: UUID(), at: Date(timeIntervalSince1970: Double(100 - $0))) }
        let page = Page(fetched: rows, limit: 3) { Cursor(createdAt: $0.at, id: $0.id) }
        #expect(page.items.count == 3)
        #expect(page.nextCursor == Cursor(createdAt: rows[2].at, id: rows[2].id).encoded)
        let last = Page(fetched: Array(rows.prefix(3)), limit: 3) { Cursor(createdAt: $0.at, id: $0.id) }
        #expect(last.nextCursor == nil)
    }
}
