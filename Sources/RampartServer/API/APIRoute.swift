import Hummingbird

/// One admin API operation. Controllers list their routes as values, so the router, the
/// 405 handling and the OpenAPI consistency test all read the same list.
struct APIRoute: Sendable {
    typealias Handler = @Sendable (Request, RampartRequestContext) async throws -> Response
    let method: HTTPRequest.Method
    /// OpenAPI spelling, relative to /api/v1: `/users/{id}`.
    let path: String
    let handler: Handler

    /// Where the admin API lives; route paths are relative to it.
    static let prefix = "/api/v1"

    init(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        self.method = method; self.path = path; self.handler = handler
    }
}

/// Paths with their methods, for answering 405 with an `Allow` header.
struct RouteCatalog: Sendable {
    let entries: [(method: HTTPRequest.Method, segments: [String])]

    init(_ routes: [(method: HTTPRequest.Method, path: String)]) {
        entries = routes.map { ($0.method, Self.segments($0.path)) }
    }

    /// Methods allowed on a concrete path, or empty if no route has this shape.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = Self.segments(path)
        var methods: [HTTPRequest.Method] = []
        for entry in entries where entry.segments.count == parts.count {
            let matches = zip(entry.segments, parts).allSatisfy { pattern, part in pattern.hasPrefix("{") || pattern == part }
            if matches && !methods.contains(entry.method) { methods.append(entry.method) }
        }
        return methods
    }

    static func segments(_ path: String) -> [String] { path.split(separator: "/").map(String.init) }
}
