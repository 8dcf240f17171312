import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import NIOConcurrencyHelpers

/// Request counts, errors and latency per route, under the metric names Hummingbird's own
/// `MetricsMiddleware` uses (`hb_requests`, `hb_request_errors`,
/// `http_server_request_duration`, `http_server_active_requests`).
///
/// Hummingbird's middleware times the whole body write by wrapping every response body in a
/// closure. That wrapping takes the response off Hummingbird's fast path, so head, body and
/// end go out as three writes and two syscalls instead of one. Rampart's responses are
/// complete buffers, so the time until the response is ready is the time that matters.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let cache = RouteMetricsCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = DispatchTime.now().uptimeNanoseconds
        let active = cache.activeRequests(request.method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            let metrics = cache.route(context.endpointPath ?? "Unknown", request.method, response.status)
            metrics.requests.increment()
            metrics.duration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let metrics = cache.route(context.endpointPath ?? "NotFound", request.method, status)
            metrics.requests.increment()
            metrics.errors.increment()
            throw error
        }
    }
}

/// Metric handles per route, method and status, made once: the metrics factory's own lookup
/// builds label strings on every call.
private final class RouteMetricsCache: Sendable {
    struct RouteKey: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: HTTPResponse.Status
    }

    struct RouteMetrics: Sendable {
        let requests: Counter
        let errors: Counter
        let duration: Timer

        init(_ key: RouteKey) {
            let dimensions = [("http.route", key.route), ("http.request.method", key.method.rawValue),
                              ("http.response.status_code", String(key.status.code))]
            requests = Counter(label: "hb.requests", dimensions: dimensions)
            duration = Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            errors = Counter(label: "hb.request.errors",
                             dimensions: [("http.route", key.route), ("http.request.method", key.method.rawValue),
                                          ("error.type", String(key.status.code))])
        }
    }

    private let routes = NIOLockedValueBox<[RouteKey: RouteMetrics]>([:])
    private let active = NIOLockedValueBox<[HTTPRequest.Method: Meter]>([:])

    func route(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> RouteMetrics {
        let key = RouteKey(route: route, method: method, status: status)
        return Self.cached(key, in: routes) { RouteMetrics(key) }
    }

    func activeRequests(_ method: HTTPRequest.Method) -> Meter {
        Self.cached(method, in: active) {
            Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
        }
    }

    private static func cached<Key: Hashable, Value>(_ key: Key, in box: NIOLockedValueBox<[Key: Value]>,
                                                     orMake make: () -> Value) -> Value {
        box.withLockedValue { cache in
            if let value = cache[key] { return value }
            let value = make()
            cache[key] = value
            return value
        }
    }
}
