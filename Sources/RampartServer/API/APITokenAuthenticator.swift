import Hummingbird
import RampartCore
import RampartStorage

/// Resolves `Authorization: Bearer rmp_…` to a principal. Missing, malformed, unknown,
/// expired and revoked tokens all get the same 401, so none can be told apart.
struct APITokenAuthenticator: RouterMiddleware {
    typealias Context = RampartRequestContext
    let services: RampartServices

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let unauthorized = RampartError(.unauthorized,
                                        "Send a valid admin API token as 'Authorization: Bearer <token>'.")
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer ",
              let secret = SecretToken(parsing: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces),
                                       as: .apiToken)
        else { throw unauthorized }
        let now = Timestamp.now()
        guard let token = try await services.database.read(org: secret.orgID, { tenant in
            try await tenant.authenticateAPIToken(secret, at: now)
        }) else { throw unauthorized }
        if services.tokenUsage.shouldRecord(token.id, lastUsed: token.lastUsedAt, now: now) {
            try await services.database.write(org: secret.orgID) { try await $0.markAPITokenUsed(token.id, at: now) }
        }
        var context = context
        context.principal = Principal(orgID: secret.orgID, roles: [token.role],
                                      actor: AuditActor(type: .apiToken, id: token.id, name: token.name))
        context.logger[metadataKey: "org_id"] = .string(secret.orgID)
        return try await next(request, context)
    }
}
