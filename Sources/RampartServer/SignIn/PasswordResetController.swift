import HTTPTypes
import Hummingbird
import RampartCore
import RampartStorage

/// The one-time reset link (`/o/{slug}/reset?token=…`): thirty minutes, one use, refused for a
/// deactivated person; using it sets the password and ends every session of the person.
struct PasswordResetController: Sendable {
    let services: RampartServices

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/o/:slug/reset", use: show)
        router.post("/o/:slug/reset", use: reset)
    }

    static let expired = "This reset link is used, expired or unknown. Ask your administrator for a new one."

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let token = request.uri.queryParameters.get("token") ?? ""
        guard let (secret, user, slug) = try await link(token, context) else { return expiredPage() }
        return page(token: token, csrf: secret.hash, email: user.email, slug: slug, error: nil)
    }

    private func link(_ token: String, _ context: RampartRequestContext) async throws -> (SecretToken, User, String)? {
        guard let secret = SecretToken(parsing: token, as: .setupLink),
              let organization = try await services.organizations.find(idOrSlug: secret.orgID),
              organization.slug == context.parameters.get("slug")?.lowercased(),
              let user = try await services.database.read(org: secret.orgID, { try await $0.passwordResetUser(secret) })
        else { return nil }
        return (secret, user, organization.slug)
    }

    private func expiredPage() -> Response {
        ConsoleRenderer.page("error", ["title": "Link expired", "status": 404, "message": Self.expired], status: .notFound)
    }

    /// The form's CSRF token is the link's own hash, which only the holder of the link knows.
    private func page(token: String, csrf: String, email: String, slug: String, error: String?,
                      status: HTTPResponse.Status = .ok) -> Response {
        ConsoleRenderer.page("reset", ["title": "Choose a new password", "token": token, "csrf": csrf, "email": email,
                                       "slug": slug, "error": error ?? "", "hasError": error != nil], status: status)
    }

    @Sendable func reset(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await ConsoleForm.read(request)
        guard let (secret, user, slug) = try await link(form["token"], context) else { return expiredPage() }
        guard constantTimeEquals(form["csrf"], secret.hash) else {
            throw RampartError(.forbidden, "The form did not come from this page; open the reset link again.")
        }
        let hash: String
        do {
            let password = try await NewPasswordRules(services: services).check(
                form["password"], confirmation: form["password_confirm"], for: user, orgID: secret.orgID)
            hash = try await services.passwords.hash(password)
        } catch let error as RampartError where isFormError(error) {
            return page(token: form["token"], csrf: secret.hash, email: user.email, slug: slug, error: error.message,
                        status: .badRequest)
        }
        let audit = SignInClient(request, context).audit(user, email: user.email)
        let done = try await services.database.write(org: secret.orgID) { tenant -> Bool in
            // Spent here, in the same transaction as the change: of two submissions one wins.
            guard let user = try await tenant.consumePasswordResetToken(secret) else { return false }
            try await tenant.setPasswordHash(hash, for: user.id)
            let ended = try await tenant.endAllUserSessions(of: user.id)
            try await tenant.appendAudit([audit.record(.passwordReset, [.user(user)],
                                                       details: AuditDetails(["sessions_ended": .int(Int64(ended))]))])
            return true
        }
        guard done else { return expiredPage() }
        return ConsoleRenderer.redirect("/o/\(slug)/signin?reset=done&email=\(SignInController.queryEscaped(user.email))")
    }
}
