import Hummingbird

/// One admin API operation. Controllers list their routes as values, so the router, the
/// 405 handling and the OpenAPI consistency test all read the same list.
struct APIRoute: Sendable {
    typealias Handler = @Sendable (Request, RampartRequestContext) async throws -> Response
    let method: HTTPRequest.Method
    /// OpenAPI spelling, relative to /api/v1: `/users/{id}`.
    let path: String
    let handler: Handler
    /// Whether the admin API token authenticator runs first. `POST /events` takes a
    /// product's credentials instead and checks them itself.
    let takesAdminToken: Bool

    /// Where the admin API lives; route paths are relative to it.
    static let prefix = "/api/v1"

    init(_ method: HTTPRequest.Method, _ path: String, takesAdminToken: Bool = true, _ handler: @escaping Handler) {
        self.method = method; self.path = path; self.takesAdminToken = takesAdminToken; self.handler = handler
    }
}

/// One segment of a route's path: fixed text, or a `{name}` parameter that takes any segment.
/// The router and the 405 catalog both read routes through it, so they agree on a path's shape.
enum RouteSegment: Sendable {
    case literal([UInt8])
    case parameter(Substring)

    /// How many fixed segments a shape has: of two shapes a path matches, the one with more wins.
    static func literalCount(_ segments: [RouteSegment]) -> Int {
        segments.reduce(0) { count, segment in if case .literal = segment { count + 1 } else { count } }
    }

    static func segments(of path: String) -> [RouteSegment] {
        path.split(separator: "/").map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}")
                ? .parameter(segment.dropFirst().dropLast()) : .literal(Array(segment.utf8))
        }
    }

    /// Whether a path segment, as bytes, fits here.
    func accepts(_ segment: some Sequence<UInt8>) -> Bool {
        guard case .literal(let literal) = self else { return true }
        return segment.elementsEqual(literal)
    }
}

/// Paths with their methods, for answering 405 with an `Allow` header.
struct RouteCatalog: Sendable {
    let entries: [(method: HTTPRequest.Method, segments: [RouteSegment])]

    init(_ routes: [APIRoute]) {
        entries = routes.map { ($0.method, RouteSegment.segments(of: $0.path)) }
    }

    /// Methods allowed on a concrete path, or empty if no route has this shape. Only the most
    /// specific shape counts: `/authentication-policies/simulate` is not also an `{id}`.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        let matching = entries.filter { entry in
            entry.segments.count == parts.count
                && zip(entry.segments, parts).allSatisfy { pattern, part in pattern.accepts(part.utf8) }
        }
        let specific = matching.map { RouteSegment.literalCount($0.segments) }.max()
        var methods: [HTTPRequest.Method] = []
        for entry in matching where RouteSegment.literalCount(entry.segments) == specific && !methods.contains(entry.method) {
            methods.append(entry.method)
        }
        return methods
    }
}
