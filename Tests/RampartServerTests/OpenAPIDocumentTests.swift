import Foundation
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// docs/openapi.yaml and the router describe the same API: no route missing from the
/// document, no documented route that does not exist.
@Suite("OpenAPI document matches the routes")
struct OpenAPIDocumentTests {
    static var documentPath: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")
    }

    /// The (METHOD, path) pairs under `paths:`, read with a deliberately small scanner: the
    /// document is written with two-space indentation, paths at level 1 and methods at level 2.
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: documentPath, encoding: .utf8)
        var operations: Set<String> = []
        var inPaths = false
        var currentPath: String?
        let methods: Set<String> = ["get", "put", "post", "patch", "delete", "head", "options", "trace"]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
            if inPaths, let first = line.first, first != " ", first != "#" { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast()).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path = currentPath {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if line.hasSuffix(":"), methods.contains(String(key)) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let documented = try Self.documentedOperations()
        #expect(documented.count >= 30)
        try await TestStore.with(.sqlite) { store in
            let services = RampartServices(configuration: AppConfiguration(dataDirectory: store.dataDirectory,
                                                                           database: store.configuration),
                                           database: store.database, keys: store.keys, logger: testLogger)
            let routed = Set(apiOperations(services).map { "\($0.method) \($0.path)" })
            #expect(routed.subtracting(documented).sorted() == [], "routes missing from docs/openapi.yaml")
            #expect(documented.subtracting(routed).sorted() == [], "documented routes that do not exist")
        }
    }
}
