import Hummingbird

/// Matches admin API requests against the controllers' routes before Hummingbird's router
/// sees them; every other request, and an API path with no route for its method, goes on to
/// `fallback` (whose 404 the error middleware turns into 404 or 405).
///
/// Why not Hummingbird's router for these: its trie compares path components as `String`
/// characters, and resolving one API path took about 4% of a `GET /api/v1/users/{id}`.
/// The API's paths are a few dozen fixed shapes, so a scan over the routes with the same
/// number of segments, comparing bytes, finds the route for a fraction of that.
struct APIRouter<Fallback: HTTPResponder<RampartRequestContext>>: HTTPResponder {
    typealias Context = RampartRequestContext

    private let routes: [CompiledRoute]
    private let fallback: Fallback
    /// More segments than any route has: such a path cannot match.
    private let segmentLimit: Int

    /// `middlewares` run around every API handler, outermost first, then `authenticator` around
    /// those that take an admin API token.
    init(_ routes: [APIRoute], middlewares: [any MiddlewareProtocol<Request, Response, Context>],
         authenticator: some MiddlewareProtocol<Request, Response, Context>, fallback: Fallback) {
        self.routes = routes.map { CompiledRoute($0, middlewares: $0.takesAdminToken ? middlewares + [authenticator] : middlewares) }
        self.fallback = fallback
        segmentLimit = (self.routes.map(\.segments.count).max() ?? 0) + 1
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        guard let (index, parameters) = match(request.method, path) else {
            return try await fallback.respond(to: request, context: context)
        }
        let route = routes[index]
        var context = context
        context.pathParameters = PathParameters(path: path, parameters)
        // The route's pattern, as Hummingbird records it: the request metrics are labelled by it.
        context.coreContext.endpointPath.value = route.pattern
        return try await route.handler(request, context)
    }

    /// The index of the route `path` matches, and where its parameters are in it.
    private func match(_ method: HTTPRequest.Method, _ path: String) -> (Int, [PathParameters.Parameter])? {
        var path = path
        return path.withUTF8 { bytes in
            let slash = UInt8(ascii: "/")
            let prefix = APIRoute.prefix.utf8
            guard bytes.count > prefix.count, bytes[prefix.count] == slash, bytes.starts(with: prefix) else { return nil }
            return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: segmentLimit) { segments in
                // Empty segments are skipped, as Hummingbird's router skips them.
                var count = 0
                var start = prefix.count
                while start < bytes.count {
                    if bytes[start] == slash { start += 1; continue }
                    var end = start
                    while end < bytes.count, bytes[end] != slash { end += 1 }
                    guard count < segmentLimit else { return nil }
                    segments[count] = start..<end
                    count += 1
                    start = end
                }
                let segments = UnsafeBufferPointer(rebasing: segments[..<count])
                // The most specific shape the path has wins, whatever the method: a literal
                // segment (`/simulate`) is never taken for a parameter (`{id}`) of another route.
                var found: Int?
                var specific = -1
                for (index, route) in routes.enumerated() where route.literalCount >= specific && route.matches(segments, of: bytes) {
                    if route.literalCount > specific { specific = route.literalCount; found = nil }
                    if found == nil && route.method == method { found = index }
                }
                guard let index = found else { return nil }
                var parameters: [PathParameters.Parameter] = []
                for (pattern, segment) in zip(routes[index].segments, segments) {
                    if case .parameter(let name) = pattern { parameters.append(.init(name: name, bytes: segment)) }
                }
                return (index, parameters)
            }
        }
    }
}

/// The parameters of a matched API path (`{id}` in `/users/{id}`), as sent.
struct PathParameters: Sendable {
    struct Parameter: Sendable {
        let name: Substring
        /// Byte offsets into the path.
        let bytes: Range<Int>
    }

    private let path: String
    private let parameters: [Parameter]

    init(path: String = "", _ parameters: [Parameter] = []) {
        self.path = path
        self.parameters = parameters
    }

    subscript(name: String) -> String? {
        guard let bytes = parameters.first(where: { $0.name == name })?.bytes else { return nil }
        let utf8 = path.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: bytes.lowerBound)
        return String(utf8[start..<utf8.index(start, offsetBy: bytes.count)])
    }
}

/// One API route, its path split into segments and its handler wrapped in the middlewares.
private struct CompiledRoute: Sendable {
    let method: HTTPRequest.Method
    let segments: [RouteSegment]
    /// `/api/v1/users/{id}`
    let pattern: String
    let handler: APIRoute.Handler
    let literalCount: Int

    init(_ route: APIRoute, middlewares: [any MiddlewareProtocol<Request, Response, RampartRequestContext>]) {
        method = route.method
        segments = RouteSegment.segments(of: route.path)
        literalCount = RouteSegment.literalCount(segments)
        pattern = APIRoute.prefix + route.path
        handler = middlewares.reversed().reduce(route.handler) { next, middleware in
            { request, context in try await middleware.handle(request, context: context, next: next) }
        }
    }

    /// Whether a path's segments (byte ranges of `path`) have this route's shape.
    func matches(_ pathSegments: UnsafeBufferPointer<Range<Int>>, of path: UnsafeBufferPointer<UInt8>) -> Bool {
        pathSegments.count == segments.count
            && zip(segments, pathSegments).allSatisfy { pattern, range in pattern.accepts(path[range]) }
    }
}
