import HTTPTypes
import Hummingbird
import RampartAuthn
import RampartCore
import RampartStorage

/// The console's stylesheet, its sign-out, and the one-time setup link that sets a password.
struct ConsoleSignInController: Sendable {
    let services: RampartServices

    private var secure: Bool { services.configuration.secureCookies }

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/console/static/app.css") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/css; charset=utf-8"
            headers[.cacheControl] = "max-age=3600"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ConsoleRenderer.stylesheet))
        }
        router.get("/console/setup", use: showSetup)
        router.post("/console/setup", use: completeSetup)
    }

    /// Console sign-out: the session ends and the person returns to their organisation's sign-in page.
    @Sendable func signOut(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let session = context.consoleSession
        _ = try await ConsoleForm.read(request, expectedCSRF: session?.csrfToken ?? "")
        var location = "/console/signin"
        if let cookie = ConsoleCookie.value(ConsoleCookie.session, in: request),
           let secret = SecretToken(parsing: cookie, as: .session), let principal = context.principal {
            let audit = principal.auditContext(context, request: request)
            try await services.database.write(org: secret.orgID) { tenant in
                try await tenant.signOutUserSession(secret)
                if let user = session?.user { try await tenant.appendAudit([audit.record(.signout, [.user(user)])]) }
            }
            if let organization = try await services.organizations.find(idOrSlug: secret.orgID) {
                location = "/o/\(organization.slug)/signin"
            }
        }
        return ConsoleRenderer.redirect(location, cookies: [ConsoleCookie.clear(ConsoleCookie.session, secure: secure)])
    }

    @Sendable func showSetup(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let token = request.uri.queryParameters.get("token") ?? ""
        guard let secret = SecretToken(parsing: token, as: .setupLink),
              let user = try await services.database.read(org: secret.orgID, { try await $0.setupLinkUser(secret) })
        else { return setupExpired() }
        return setupPage(token: token, csrf: secret.hash, email: user.email, error: nil)
    }

    private func setupExpired() -> Response {
        ConsoleRenderer.page("error", ["title": "Link expired", "status": 404,
                                       "message": "This setup link is used, expired or unknown. Ask an org-admin for a new one."],
                             status: .notFound)
    }

    /// The CSRF token of the setup form is derived from the link itself (its hash), which only
    /// the holder of the link knows.
    private func setupPage(token: String, csrf: String, email: String, error: String?,
                           status: HTTPResponse.Status = .ok) -> Response {
        ConsoleRenderer.page("setup", ["title": "Set your password", "token": token, "csrf": csrf, "email": email,
                                       "error": error ?? "", "hasError": error != nil], status: status)
    }

    @Sendable func completeSetup(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let fields = try await ConsoleForm.read(request).fields
        let token = fields["token"] ?? ""
        guard let secret = SecretToken(parsing: token, as: .setupLink) else { return setupExpired() }
        guard constantTimeEquals(fields["csrf"] ?? "", secret.hash) else {
            throw RampartError(.forbidden, "The form did not come from this console; open the setup link again.")
        }
        guard let user = try await services.database.read(org: secret.orgID, { try await $0.setupLinkUser(secret) }) else {
            return setupExpired()
        }
        let hash: String
        do {
            let password = try await NewPasswordRules(services: services).check(
                fields["password"] ?? "", confirmation: fields["password_confirm"] ?? "", for: user, orgID: secret.orgID)
            hash = try await services.passwords.hash(password)
        } catch let error as RampartError where isFormError(error) {
            return setupPage(token: token, csrf: secret.hash, email: user.email, error: error.message, status: .badRequest)
        }
        let client = SignInClient(request, context)
        let completed = try await services.database.write(org: secret.orgID) { tenant -> User? in
            try await tenant.completeSetupLink(secret, passwordHash: hash, by: { client.audit($0, email: $0.email) })
        }
        guard let completed else { return setupExpired() }
        let signedIn = try await SignInService(services: services).startSession(orgID: secret.orgID, user: completed, client: client)
        let slug = try await services.organizations.find(idOrSlug: secret.orgID)?.slug ?? ""
        return ConsoleRenderer.redirect(SessionResolver.landing(for: completed, slug: slug), cookies: [
            SignInController(services: services).sessionCookie(signedIn),
        ])
    }
}
