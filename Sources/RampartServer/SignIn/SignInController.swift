import Foundation
import HTTPTypes
import Hummingbird
import RampartAuthn
import RampartCore
import RampartStorage

/// The sign-in pages every person of an organisation uses: `/o/{slug}/signin` with the
/// organisation known, `/console/signin` where it is typed, `/signin` to find it from an email,
/// and the second-factor step. Admins land in the console, everyone else in My account.
struct SignInController: Sendable {
    let services: RampartServices
    private var secure: Bool { services.configuration.secureCookies }
    private var signIns: SignInService { SignInService(services: services) }

    static let failure = "The email or password is not right."
    static let codeFailure = "That code is not right, or was already used. Try the next code from your app."

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/signin", use: showFinder)
        router.post("/signin", use: find)
        router.get("/console/signin", use: showConsoleSignIn)
        router.post("/console/signin", use: consoleSignIn)
        router.get("/o/:slug/signin", use: showSignIn)
        router.post("/o/:slug/signin", use: signIn)
        router.get("/o/:slug/signin/mfa", use: showSecondFactor)
        router.post("/o/:slug/signin/mfa", use: secondFactor)
        router.post("/o/:slug/signout", use: signOut)
    }

    // MARK: - Finding the organisation

    @Sendable func showFinder(_ request: Request, context: RampartRequestContext) async throws -> Response {
        finderPage(email: "", error: nil)
    }

    private func finderPage(email: String, error: String?, organizations: [Organization] = [],
                            status: HTTPResponse.Status = .ok) -> Response {
        let csrf = SignInFormToken(keys: services.keys).issue()
        var response = ConsoleRenderer.page("signin-find", [
            "title": "Sign in", "csrf": csrf, "email": email, "error": error ?? "", "hasError": error != nil,
            "organizations": organizations.map { ["name": $0.name, "slug": $0.slug, "email": Self.queryEscaped(email)] },
            "hasChoice": !organizations.isEmpty,
        ], status: status)
        response.headers.append(HTTPField(name: .setCookie, value: ConsoleCookie.make(ConsoleCookie.signinCSRF, csrf, secure: secure)))
        return response
    }

    /// Sends a person who knows only their email to their organisation's sign-in page.
    @Sendable func find(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await signInForm(request)
        let email = form["email"].trimmingCharacters(in: .whitespaces).lowercased()
        guard email.contains("@"), email.count <= 320 else {
            return finderPage(email: email, error: "Type the email address you sign in with.", status: .badRequest)
        }
        // A page that moves on, not a redirect: the console's `form-action 'self'` would stop
        // the redirect chain that ends at the provider.
        if let route = try await HomeRealm(services: services).route(email: email) { return SignInContinuation.onward(to: route) }
        let found = try await OrganizationFinder(services: services).organizations(withMember: email)
        if found.count == 1 {
            return ConsoleRenderer.redirect("/o/\(found[0].slug)/signin?email=\(Self.queryEscaped(email))")
        }
        if found.isEmpty {
            return finderPage(email: email, error: "No organization has an account with this email. Check it, or ask your administrator for your organization's sign-in address.", status: .notFound)
        }
        return finderPage(email: email, error: nil, organizations: found)
    }

    // MARK: - Password

    @Sendable func showConsoleSignIn(_ request: Request, context: RampartRequestContext) async throws -> Response {
        signInPage(organization: nil, typed: "", email: "", error: nil)
    }

    @Sendable func showSignIn(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context) else { return unknownOrganization() }
        let email = request.uri.queryParameters.get("email").map { String($0.prefix(320)) } ?? ""
        let notice = request.uri.queryParameters.get("reset") == "done"
            ? "Your password is changed and every session ended. Sign in with the new password." : nil
        return signInPage(organization: organization, typed: "", email: email, error: nil, notice: notice,
                          providers: try await HomeRealm(services: services).buttons(organization))
    }

    private func signInPage(organization: Organization?, typed: String, email: String, error: String?,
                            notice: String? = nil, status: HTTPResponse.Status = .ok,
                            retryAfter: Int? = nil, providers: [[String: String]] = []) -> Response {
        let csrf = SignInFormToken(keys: services.keys).issue()
        var values: [String: Any] = [
            "title": "Sign in", "csrf": csrf, "organization": typed, "email": email,
            "error": error ?? "", "hasError": error != nil, "notice": notice ?? "", "hasNotice": notice != nil,
            "action": organization.map { "/o/\($0.slug)/signin" } ?? "/console/signin",
        ]
        if let organization { values["fixedOrganization"] = ["name": organization.name, "slug": organization.slug] }
        values["providers"] = providers
        values["hasProviders"] = !providers.isEmpty
        var response = ConsoleRenderer.page("signin", values, status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        response.headers.append(HTTPField(name: .setCookie, value: ConsoleCookie.make(ConsoleCookie.signinCSRF, csrf, secure: secure)))
        return response
    }

    @Sendable func consoleSignIn(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await signInForm(request)
        let slug = form["organization"].trimmingCharacters(in: .whitespaces).lowercased()
        guard !slug.isEmpty, let organization = try await services.organizations.find(idOrSlug: slug) else {
            // The same work and the same answer as a wrong password.
            _ = try await services.passwords.verify(form["password"], against: nil)
            UnknownOrganizationSignIns.record(sourceIP: context.remoteAddress?.ipAddress, logger: context.logger)
            return signInPage(organization: nil, typed: slug, email: form["email"], error: Self.failure, status: .unauthorized)
        }
        return try await passwordSignIn(organization, form: form, typed: slug, request: request, context: context)
    }

    @Sendable func signIn(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context) else {
            UnknownOrganizationSignIns.record(sourceIP: context.remoteAddress?.ipAddress, logger: context.logger)
            return unknownOrganization()
        }
        let form = try await signInForm(request)
        return try await passwordSignIn(organization, form: form, typed: "", request: request, context: context)
    }

    private func passwordSignIn(_ organization: Organization, form: ConsoleForm, typed: String, request: Request,
                                context: RampartRequestContext) async throws -> Response {
        let email = form["email"].trimmingCharacters(in: .whitespaces).lowercased()
        let fixed = typed.isEmpty ? organization : nil
        let homeRealm = HomeRealm(services: services)
        // Home-realm discovery: an email of a domain routed to a provider goes there, unless a
        // password was typed (a break-glass account signs in with its password).
        if form["password"].isEmpty {
            if let route = try await homeRealm.route(email: email, in: organization) { return SignInContinuation.onward(to: route) }
            let error = form["sso"].isEmpty ? "Type your password." : "No identity provider signs in people with this email. Type your password."
            return signInPage(organization: fixed, typed: typed, email: email, error: error, status: .badRequest,
                              providers: fixed == nil ? [] : try await homeRealm.buttons(organization))
        }
        let outcome = try await signIns.signIn(organization: organization, email: email, password: form["password"],
                                               client: SignInClient(request, context))
        switch outcome {
        case .refused:
            return signInPage(organization: fixed, typed: typed, email: email, error: Self.failure, status: .unauthorized)
        case .lockedOut(let until):
            return signInPage(organization: fixed, typed: typed, email: email, error: Self.lockoutMessage(until),
                              status: .tooManyRequests, retryAfter: Self.seconds(until: until))
        case .denied(let denial):
            return signInPage(organization: fixed, typed: typed, email: email, error: Self.message(denial), status: .forbidden,
                              providers: try await homeRealm.buttons(organization))
        case .signedIn(let signedIn):
            let slug = organization.slug
            let cookies = [sessionCookie(signedIn), ConsoleCookie.clear(ConsoleCookie.signinCSRF, secure: secure)]
            switch signedIn.next {
            case .done:
                return SignInContinuation.afterSignIn(request, slug: slug, otherwise: SessionResolver.landing(for: signedIn.user, slug: slug),
                                                      cookies: cookies, secure: secure)
            case .secondFactor: return ConsoleRenderer.redirect("/o/\(slug)/signin/mfa", cookies: cookies)
            case .enrol: return ConsoleRenderer.redirect("/o/\(slug)/account/mfa/enrol", cookies: cookies)
            }
        }
    }

    // MARK: - Second factor

    @Sendable func showSecondFactor(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context) else { return unknownOrganization() }
        guard let (secret, _) = try await pending(request, organization) else {
            return ConsoleRenderer.redirect("/o/\(organization.slug)/signin")
        }
        return secondFactorPage(organization, csrf: secret.hash, error: nil)
    }

    private func secondFactorPage(_ organization: Organization, csrf: String, error: String?,
                                  status: HTTPResponse.Status = .ok, retryAfter: Int? = nil) -> Response {
        var response = ConsoleRenderer.page("mfa", [
            "title": "Two-step verification", "csrf": csrf, "slug": organization.slug, "organizationName": organization.name,
            "error": error ?? "", "hasError": error != nil,
        ], status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    @Sendable func secondFactor(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context) else { return unknownOrganization() }
        guard let (secret, _) = try await pending(request, organization) else {
            return ConsoleRenderer.redirect("/o/\(organization.slug)/signin")
        }
        // The pending session's own hash proves the form came from its page.
        let form = try await ConsoleForm.read(request, expectedCSRF: secret.hash)
        let recovery = !form["recovery_code"].isEmpty
        let outcome = try await signIns.completeSecondFactor(
            orgID: organization.id, pending: secret, code: recovery ? form["recovery_code"] : form["code"],
            recovery: recovery, client: SignInClient(request, context))
        switch outcome {
        case .refused:
            return secondFactorPage(organization, csrf: secret.hash, error: Self.codeFailure, status: .unauthorized)
        case .lockedOut(let until):
            return secondFactorPage(organization, csrf: secret.hash, error: Self.lockoutMessage(until),
                                    status: .tooManyRequests, retryAfter: Self.seconds(until: until))
        case .signedIn(let signedIn):
            return SignInContinuation.afterSignIn(
                request, slug: organization.slug, otherwise: SessionResolver.landing(for: signedIn.user, slug: organization.slug),
                cookies: [sessionCookie(signedIn)], secure: secure)
        }
    }

    private func pending(_ request: Request, _ organization: Organization) async throws -> (SecretToken, User)? {
        guard let cookie = ConsoleCookie.value(ConsoleCookie.session, in: request),
              let secret = SecretToken(parsing: cookie, as: .session),
              let (user, _) = try await signIns.pendingSession(orgID: organization.id, secret) else { return nil }
        return (secret, user)
    }

    // MARK: - Sign-out

    /// Ends the session whatever its state; the form's token is the session's own.
    @Sendable func signOut(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let slug = context.parameters.get("slug") ?? ""
        if let (secret, signedIn) = try await SessionResolver(services: services).resolve(request) {
            _ = try await ConsoleForm.read(request, expectedCSRF: signedIn.csrfToken)
            let audit = SignInClient(request, context).audit(signedIn.user, email: signedIn.user.email)
            try await services.database.write(org: secret.orgID) { tenant in
                try await tenant.signOutUserSession(secret)
                try await tenant.appendAudit([audit.record(.signout, [.user(signedIn.user)])])
            }
        }
        return ConsoleRenderer.redirect("/o/\(slug)/signin", cookies: [ConsoleCookie.clear(ConsoleCookie.session, secure: secure)])
    }

    // MARK: - Helpers

    /// A form without a session: its token must match the cookie and be one this store's
    /// servers issued (HMAC, with an expiry), so another site cannot plant a pair (login CSRF).
    private func signInForm(_ request: Request) async throws -> ConsoleForm {
        let form = try await ConsoleForm.read(request, expectedCSRF: ConsoleCookie.value(ConsoleCookie.signinCSRF, in: request) ?? "")
        guard SignInFormToken(keys: services.keys).verify(form["csrf"]) else { throw ConsoleForm.expired }
        return form
    }

    func sessionCookie(_ signedIn: SignedIn) -> String {
        let lifetime = Int(signedIn.session.expiresAt.microseconds - signedIn.session.createdAt.microseconds) / 1_000_000
        return ConsoleCookie.make(ConsoleCookie.session, signedIn.secret, secure: secure, maxAge: lifetime)
    }

    private func unknownOrganization() -> Response {
        ConsoleRenderer.page("error", ["title": "Unknown organization", "status": 404,
                                       "message": "No organization signs in at this address. Check the link, or find your organization by email at /signin."],
                             status: .notFound)
    }

    static func lockoutMessage(_ until: Timestamp) -> String {
        "Too many failed sign-ins. Try again after \(ConsolePage.time(until))."
    }

    static func seconds(until: Timestamp) -> Int {
        max(1, Int((until.microseconds - Timestamp.now().microseconds + 999_999) / 1_000_000))
    }

    static func message(_ denial: SignInDenial) -> String {
        switch denial {
        case .addressNotAllowed:
            "Your organization does not allow sign-in from this network. Connect from an allowed network, or ask your administrator."
        case .passwordSignInNotAllowed:
            "Your organization does not allow password sign-in for your account. Ask your administrator how to sign in."
        case .ssoRequired:
            "Your organization requires sign-in through its identity provider: use the Sign in with … button, or leave the password empty and continue."
        case .mfaEnrolmentOverdue:
            "Your organization requires two-step verification. Ask your administrator for help."
        }
    }

    static func queryEscaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }
}
