import HTTPTypes
import Hummingbird

/// Admin API answers carry organisation data and tokens: no cache, shared or private, keeps
/// them (`Cache-Control: no-store`), errors included.
struct NoStoreMiddleware: RouterMiddleware {
    typealias Context = RampartRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
