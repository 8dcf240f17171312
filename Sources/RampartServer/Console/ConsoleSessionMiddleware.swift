import Hummingbird
import RampartCore
import RampartStorage

/// Resolves the console session cookie to a principal; without one, the console sends the
/// person to sign in. Only people with an organisation role have a console.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = RampartRequestContext
    let services: RampartServices

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let cookie = ConsoleCookie.value(ConsoleCookie.session, in: request),
              let secret = SecretToken(parsing: cookie, as: .session),
              let session = try await services.database.read(org: secret.orgID, { try await $0.session(secret) }),
              !session.user.roles.isEmpty
        else { return ConsoleRenderer.redirect("/console/signin") }
        var context = context
        context.consoleSession = session
        context.principal = Principal(orgID: secret.orgID, roles: Set(session.user.roles),
                                      actor: AuditActor(type: .user, id: session.user.id, name: session.user.email))
        context.logger[metadataKey: JSONLogHandler.orgIDKey] = .string(secret.orgID)
        return try await next(request, context)
    }
}
