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

    /// `middlewares` run around every API handler, outermost first.
    init(_ routes: [APIRoute], middlewares: [any MiddlewareProtocol<Request, Response, Context>], fallback: Fallback) {
        self.routes = routes.map { CompiledRoute($0, middlewares: middlewares) }
        self.fallback = fallback
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        guard let (route, parameters) = match(request.method, request.uri.path) else {
            return try await fallback.respond(to: request, context: context)
        }
        var context = context
        context.coreContext.parameters = parameters
        // The route's pattern, as Hummingbird records it: the request metrics are labelled by it.
        context.coreContext.endpointPath.value = route.pattern
        return try await route.handler(request, context)
    }

    private func match(_ method: HTTPRequest.Method, _ path: String) -> (CompiledRoute, Parameters)? {
        let slash = UInt8(ascii: "/")
        guard path.utf8.starts(with: APIRoute.prefix.utf8) else { return nil }
        let rest = path.utf8.dropFirst(APIRoute.prefix.utf8.count)
        guard rest.first == slash else { return nil }
        // Empty segments are skipped, as Hummingbird's router skips them.
        let segments = rest.split(separator: slash)
        for route in routes where route.method == method && route.segments.count == segments.count {
            var parameters = Parameters()
            let matches = zip(route.segments, segments).allSatisfy { pattern, segment in
                switch pattern {
                case .literal(let literal): return segment.elementsEqual(literal.utf8)
                case .parameter(let name):
                    parameters[name] = Substring(segment)
                    return true
                }
            }
            if matches { return (route, parameters) }
        }
        return nil
    }
}

/// One API route, its path split into segments and its handler wrapped in the middlewares.
private struct CompiledRoute: Sendable {
    enum Segment: Sendable {
        case literal(String)
        case parameter(Substring)
    }

    let method: HTTPRequest.Method
    let segments: [Segment]
    /// `/api/v1/users/{id}`
    let pattern: String
    let handler: APIRoute.Handler

    init(_ route: APIRoute, middlewares: [any MiddlewareProtocol<Request, Response, RampartRequestContext>]) {
        method = route.method
        segments = route.path.split(separator: "/").map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? .parameter(segment.dropFirst().dropLast()) : .literal(String(segment))
        }
        pattern = APIRoute.prefix + route.path
        handler = middlewares.reversed().reduce(route.handler) { next, middleware in
            { request, context in try await middleware.handle(request, context: context, next: next) }
        }
    }
}
