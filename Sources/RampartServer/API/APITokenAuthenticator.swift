import Hummingbird
import RampartCore
import RampartStorage

/// Reads `Authorization: Bearer rmp_…` into the request's credential. Only its form is
/// checked here; the token itself is looked up inside the transaction that serves the
/// request (`APIController`), which saves a database round trip per request and means a
/// token revoked a moment ago is refused by the very next request.
struct APITokenAuthenticator: RouterMiddleware {
    typealias Context = RampartRequestContext

    static let unauthorized = RampartError(.unauthorized,
                                           "Send a valid admin API token as 'Authorization: Bearer <token>'.")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer ",
              let secret = SecretToken(parsing: String(header.dropFirst(7).trimmingSpaces), as: .apiToken)
        else { throw Self.unauthorized }
        var context = context
        context.credential = secret
        context.logger[metadataKey: JSONLogHandler.orgIDKey] = .string(secret.orgID)
        return try await next(request, context)
    }
}

private extension Substring {
    var trimmingSpaces: Substring {
        var trimmed = self
        while let first = trimmed.first, first == " " || first == "\t" { trimmed.removeFirst() }
        while let last = trimmed.last, last == " " || last == "\t" { trimmed.removeLast() }
        return trimmed
    }
}

extension Tenant {
    /// The principal an API token stands for, if it is usable now. Unknown, expired and
    /// revoked tokens all answer the same 401, so none can be told apart.
    func principal(for secret: SecretToken, at now: Timestamp) async throws -> (Principal, APIToken) {
        guard let token = try await authenticateAPIToken(secret, at: now) else { throw APITokenAuthenticator.unauthorized }
        let principal = Principal(orgID: orgID, roles: [token.role],
                                  actor: AuditActor(type: .apiToken, id: token.id, name: token.name))
        return (principal, token)
    }
}
