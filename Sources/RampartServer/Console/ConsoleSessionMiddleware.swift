import Hummingbird
import RampartCore
import RampartStorage

/// Resolves the session cookie to a principal; without one, the console sends the person to
/// sign in. Only people with an organisation role have a console: everyone else goes to My
/// account, and a session still waiting for its second factor goes to that step.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = RampartRequestContext
    let services: RampartServices

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let resolver = SessionResolver(services: services)
        guard let (secret, session) = try await resolver.resolve(request) else {
            return ConsoleRenderer.redirect("/console/signin")
        }
        if !session.session.mfaCompleted || session.user.roles.isEmpty {
            guard let organization = try await services.organizations.find(idOrSlug: secret.orgID) else {
                return ConsoleRenderer.redirect("/console/signin")
            }
            let slug = organization.slug
            return ConsoleRenderer.redirect(session.session.mfaCompleted
                ? SessionResolver.landing(for: session.user, slug: slug)
                : try await resolver.pendingStep(session, orgID: secret.orgID, slug: slug))
        }
        var context = context
        context.consoleSession = session
        context.principal = Principal(orgID: secret.orgID, roles: Set(session.user.roles),
                                      actor: AuditActor(type: .user, id: session.user.id, name: session.user.email))
        context.logger[metadataKey: JSONLogHandler.orgIDKey] = .string(secret.orgID)
        return try await next(request, context)
    }
}
