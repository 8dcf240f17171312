import HTTPTypes
import Hummingbird

/// HEAD answers exactly as GET would, without the body (RFC 9110 §9.3.2), so that monitors
/// and link checkers that probe with HEAD see the same status as a browser.
struct HeadResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == RampartRequestContext {
    let inner: Inner

    func respond(to request: Request, context: RampartRequestContext) async throws -> Response {
        guard request.method == .head else { return try await inner.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await inner.respond(to: Request(head: head, body: request.body), context: context)
        response.body = ResponseBody()
        return response
    }
}
