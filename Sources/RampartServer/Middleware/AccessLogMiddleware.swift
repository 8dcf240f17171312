import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The opt-in access log (`--access-log`): one JSON line per request with the method, the
/// route's pattern (`/api/v1/users/{id}`, never the concrete path, whose ids and query
/// string may identify people), the status, the duration and the request id. Bodies are
/// never read. It runs inside `RequestIDMiddleware`, so the line carries the request's id,
/// and outside the error middleware, so it logs the status actually sent.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = RampartRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let response = try await next(request, context)
            log(request, context, status: response.status.code, start: start)
            return response
        } catch {
            log(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, start: start)
            throw error
        }
    }

    private func log(_ request: Request, _ context: Context, status: Int, start: UInt64) {
        let micros = (DispatchTime.now().uptimeNanoseconds - start) / 1000
        context.logger.info("access", metadata: [
            "method": .string(request.method.rawValue),
            "route": .string(context.endpointPath ?? "unmatched"),
            "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.3f", Double(micros) / 1000)),
        ])
    }
}
