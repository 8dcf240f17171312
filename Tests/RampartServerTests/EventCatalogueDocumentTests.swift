import Foundation
import RampartCore
import Testing

/// docs/events.md and the code name the same audit actions: every action Rampart writes has a
/// row in the catalogue's tables, and every row names an action that exists.
@Suite("docs/events.md matches the audit actions")
struct EventCatalogueDocumentTests {
    @Test func everyActionIsDocumentedAndEveryDocumentedActionExists() throws {
        let path = OpenAPIDocumentTests.documentPath.deletingLastPathComponent().appendingPathComponent("events.md")
        let text = try String(contentsOf: path, encoding: .utf8)
        // The catalogue is the "## Actions" section; each of its rows starts with the action in
        // backticks: "| `user.created` | …".
        let start = try #require(text.range(of: "\n## Actions\n"))
        let rest = text[start.upperBound...]
        let actions = rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
        let documented = Set(actions.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).prefix { $0 != "`" }.description
        }.filter { $0.contains(".") && !$0.contains(" ") })
        let written = Set(AuditAction.catalogue.map(\.rawValue))
        #expect(written.subtracting(documented).sorted() == [], "actions missing from docs/events.md")
        #expect(documented.subtracting(written).sorted() == [], "documented actions the code never writes")
    }
}
