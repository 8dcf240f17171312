import Hummingbird
import Logging
import RampartCore

/// Turns every error into the surface's error format: `{"error": {...}}` for the API, a
/// page for the console. Nothing a client sends leads to a 500; an unexpected error is
/// logged by type only (never with request data) and answered with a generic message.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = RampartRequestContext
    let catalog: RouteCatalog
    let console: ConsoleErrorRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            let mapped = map(error, request: request, context: context)
            if request.uri.path.hasPrefix("/console") {
                return console.render(mapped, request: request, context: context)
            }
            var response = JSON.error(mapped, status: mapped.httpStatus)
            if mapped.code == .methodNotAllowed {
                response.headers[.allow] = allowed(request.uri.path).map(\.rawValue).joined(separator: ", ")
            }
            if mapped.code == .unauthorized {
                response.headers[.wwwAuthenticate] = "Bearer realm=\"rampart\""
            }
            return response
        }
    }

    private func allowed(_ path: String) -> [HTTPRequest.Method] {
        path.hasPrefix(APIRoute.prefix + "/") ? catalog.methods(for: String(path.dropFirst(APIRoute.prefix.count))) : []
    }

    private func map(_ error: any Error, request: Request, context: Context) -> RampartError {
        switch error {
        case let error as RampartError:
            if error.httpStatus == .internalServerError {
                context.logger.error("request failed", metadata: ["code": .string(error.code.rawValue),
                                                                  "at": .string("\(error.file):\(error.line)")])
                return RampartError(.internalError, "Something went wrong on our side; the request id identifies it.")
            }
            return error
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                if !allowed(request.uri.path).isEmpty {
                    return RampartError(.methodNotAllowed, "This path does not support \(request.method.rawValue).")
                }
                return RampartError(.notFound, "No such resource.")
            case .contentTooLarge:
                return RampartError(.payloadTooLarge, "The body is larger than 1 MiB.")
            case .badRequest:
                return RampartError(.invalidParameter, "The request is malformed.")
            case .unsupportedMediaType:
                return RampartError(.unsupportedMediaType, "Send the body as application/json.")
            default:
                context.logger.warning("http error", metadata: ["status": .stringConvertible(error.status.code)])
                return RampartError(.internalError, "Something went wrong on our side; the request id identifies it.")
            }
        case _ where MalformedFraming.matches(error):
            return RampartError(.malformedRequest, MalformedFraming.message)
        default:
            context.logger.error("unexpected error", metadata: ["type": .string(String(reflecting: type(of: error)))])
            return RampartError(.internalError, "Something went wrong on our side; the request id identifies it.")
        }
    }
}
