import HTTPTypes
import Hummingbird
import RampartCore
import RampartStorage

/// Sign-in, sign-out and the one-time setup link that sets a password.
struct ConsoleSignInController: Sendable {
    let services: RampartServices
    static let sessionLifetime: Double = 8 * 3600

    private var secure: Bool { services.configuration.secureCookies }

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/console/static/app.css") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/css; charset=utf-8"
            headers[.cacheControl] = "max-age=3600"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ConsoleRenderer.stylesheet))
        }
        router.get("/console/signin", use: showSignIn)
        router.post("/console/signin", use: signIn)
        router.get("/console/setup", use: showSetup)
        router.post("/console/setup", use: completeSetup)
    }

    /// The sign-in form has no session yet, so its CSRF token is a double-submit cookie.
    @Sendable func showSignIn(_ request: Request, context: RampartRequestContext) async throws -> Response {
        signInPage(context, organization: "", email: "", error: nil)
    }

    private func signInPage(_ context: RampartRequestContext, organization: String, email: String, error: String?,
                            status: HTTPResponse.Status = .ok) -> Response {
        let csrf = SignInFormToken(keys: services.keys).issue()
        var response = ConsoleRenderer.page("signin", [
            "title": "Sign in", "csrf": csrf, "organization": organization, "email": email, "error": error ?? "",
            "hasError": error != nil,
        ], status: status)
        response.headers.append(HTTPField(name: .setCookie, value: ConsoleCookie.make(ConsoleCookie.signinCSRF, csrf, secure: secure)))
        return response
    }

    @Sendable func signIn(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await ConsoleForm.read(request, expectedCSRF: ConsoleCookie.value(ConsoleCookie.signinCSRF, in: request) ?? "")
        guard SignInFormToken(keys: services.keys).verify(form["csrf"]) else { throw ConsoleForm.expired }
        let failure = "The organization, email or password is not right, or the account has no console access."
        let slug = form["organization"].trimmingCharacters(in: .whitespaces).lowercased()
        let email = form["email"].trimmingCharacters(in: .whitespaces).lowercased()
        guard let organization = try await services.organizations.find(idOrSlug: slug), !slug.isEmpty else {
            _ = try await services.passwords.verify(form["password"], against: nil)
            UnknownOrganizationSignIns.record(sourceIP: context.remoteAddress?.ipAddress, logger: context.logger)
            return signInPage(context, organization: slug, email: email, error: failure, status: .unauthorized)
        }
        let (user, hash) = try await services.database.read(org: organization.id) { tenant -> (User?, String?) in
            guard let user = try await tenant.user(email: email) else { return (nil, nil) }
            return (user, try await tenant.passwordHash(for: user.id))
        }
        let passwordOK = try await services.passwords.verify(form["password"], against: hash)
        let actor = AuditActor(type: .user, id: user?.id, name: email.isEmpty ? nil : String(email.prefix(320)),
                               ip: context.remoteAddress?.ipAddress,
                               userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
        let audit = AuditContext(actor: actor, requestID: context.requestID)
        guard let user, passwordOK, user.status == .active, !user.roles.isEmpty else {
            let reason = user == nil ? "unknown_user" : !passwordOK ? "bad_password"
                : user!.status != .active ? "deactivated" : "no_console_role"
            _ = try await services.database.write(org: organization.id) { tenant in
                try await tenant.appendAudit([audit.record(.signinFailed, user.map { [.user($0)] } ?? [],
                                                           details: AuditDetails(["reason": .string(reason)]),
                                                           outcome: .failure)])
            }
            return signInPage(context, organization: slug, email: email, error: failure, status: .unauthorized)
        }
        let session = try await services.database.write(org: organization.id) { tenant in
            try await tenant.touchLastActive(user.id)
            try await tenant.appendAudit([audit.record(.signinSucceeded, [.user(user)])])
            return try await tenant.createSession(for: user.id, lifetime: Self.sessionLifetime)
        }
        return ConsoleRenderer.redirect("/console", cookies: [
            ConsoleCookie.make(ConsoleCookie.session, session.secret, secure: secure, maxAge: Int(Self.sessionLifetime)),
            ConsoleCookie.clear(ConsoleCookie.signinCSRF, secure: secure),
        ])
    }

    @Sendable func signOut(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let session = context.consoleSession
        _ = try await ConsoleForm.read(request, expectedCSRF: session?.csrfToken ?? "")
        if let cookie = ConsoleCookie.value(ConsoleCookie.session, in: request),
           let secret = SecretToken(parsing: cookie, as: .session), let principal = context.principal {
            let audit = principal.auditContext(context, request: request)
            try await services.database.write(org: secret.orgID) { tenant in
                try await tenant.deleteSession(secret)
                if let user = session?.user { try await tenant.appendAudit([audit.record(.signout, [.user(user)])]) }
            }
        }
        return ConsoleRenderer.redirect("/console/signin", cookies: [ConsoleCookie.clear(ConsoleCookie.session, secure: secure)])
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
        let password = fields["password"] ?? ""
        do {
            try PasswordHasher.validate(password)
            guard password == fields["password_confirm"] else {
                throw RampartError.invalidField("password_confirm", "does not match the password")
            }
        } catch let error as RampartError {
            return setupPage(token: token, csrf: secret.hash, email: user.email, error: error.message, status: .badRequest)
        }
        let hash = try await services.passwords.hash(password)
        let requestID = context.requestID
        let ip = context.remoteAddress?.ipAddress
        let session = try await services.database.write(org: secret.orgID) { tenant -> (secret: String, csrf: String)? in
            guard let user = try await tenant.completeSetupLink(secret, passwordHash: hash, by: { user in
                AuditContext(actor: AuditActor(type: .user, id: user.id, name: user.email, ip: ip), requestID: requestID)
            }) else { return nil }
            try await tenant.touchLastActive(user.id)
            return try await tenant.createSession(for: user.id, lifetime: Self.sessionLifetime)
        }
        guard let session else { return setupExpired() }
        return ConsoleRenderer.redirect("/console", cookies: [
            ConsoleCookie.make(ConsoleCookie.session, session.secret, secure: secure, maxAge: Int(Self.sessionLifetime)),
        ])
    }
}
