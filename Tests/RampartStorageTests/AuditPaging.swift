import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

extension TestStore {
    /// Walks `query` page by page with its cursors, as a client does, checking that no page
    /// holds more than the limit; stops after 11 pages, which no test needs.
    func auditPages(org: String, _ query: AuditQuery) async throws -> (sequences: [Int64], pages: Int) {
        var seen: [Int64] = [], cursor: Int64?, pages = 0
        repeat {
            var page = query
            page.beforeSequence = cursor
            let frozen = page
            let found = try await database.read(org: org) { try await $0.auditEvents(frozen) }
            #expect(found.items.count <= query.limit)
            seen += found.items.map(\.sequence)
            cursor = try found.nextCursor.map { try #require(Int64($0)) }
            pages += 1
        } while cursor != nil && pages <= 10
        return (seen, pages)
    }
}
