import Foundation
import HTTPTypes
import Hummingbird
import RampartAuthn
import RampartCore
import RampartStorage

/// My account, for every person of an organisation: profile, password, two-step verification
/// with recovery codes, their sessions, and the products they can use.
struct AccountController: Sendable {
    let services: RampartServices
    private var secure: Bool { services.configuration.secureCookies }

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/o/:slug/account", use: show)
        router.post("/o/:slug/account/profile", use: updateProfile)
        router.post("/o/:slug/account/password", use: changePassword)
        router.get("/o/:slug/account/mfa/enrol", use: showEnrolment)
        router.post("/o/:slug/account/mfa/enrol", use: enrol)
        router.post("/o/:slug/account/recovery-codes", use: regenerateRecoveryCodes)
        router.post("/o/:slug/account/sessions/:id/end", use: endSession)
        router.post("/o/:slug/account/sessions/end-others", use: endOtherSessions)
        router.post("/o/:slug/account/apps/:id/revoke", use: revokeApp)
    }

    /// The signed-in person of this organisation. A session still waiting for its second factor
    /// only reaches the enrolment pages (`allowPending`); anything else goes to sign in.
    private struct Visitor {
        let organization: Organization
        let secret: SecretToken
        let user: User
        let session: UserSession
        var orgID: String { organization.id }
        var slug: String { organization.slug }
    }

    private enum Access { case visitor(Visitor), redirect(Response) }

    private func visitor(_ request: Request, _ context: RampartRequestContext, allowPending: Bool = false) async throws -> Access {
        guard let organization = try await services.organization(at: context) else {
            return .redirect(ConsoleRenderer.redirect("/signin"))
        }
        let resolver = SessionResolver(services: services)
        guard let (secret, signedIn) = try await resolver.resolve(request), secret.orgID == organization.id else {
            return .redirect(ConsoleRenderer.redirect("/o/\(organization.slug)/signin"))
        }
        if !signedIn.session.mfaCompleted && !allowPending {
            return .redirect(ConsoleRenderer.redirect(try await resolver.pendingStep(signedIn, orgID: organization.id, slug: organization.slug)))
        }
        return .visitor(Visitor(organization: organization, secret: secret, user: signedIn.user, session: signedIn.session))
    }

    private func audit(_ visitor: Visitor, _ request: Request, _ context: RampartRequestContext) -> AuditContext {
        SignInClient(request, context).audit(visitor.user, email: visitor.user.email)
    }

    // MARK: - The page

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard case .visitor(let visitor) = try await visitor(request, context) else { return try await redirect(request, context) }
        let notice = request.uri.queryParameters.get("done").flatMap { Self.notices[String($0)] }
        return try await page(visitor, notice: notice, error: nil)
    }

    static let notices = [
        "profile": "Your profile is saved.",
        "password": "Your password is changed. Your other sessions have ended.",
        "session": "The session has ended.",
        "others": "Every other session has ended.",
        "app": "The application no longer has access to your account.",
    ]

    private func redirect(_ request: Request, _ context: RampartRequestContext, allowPending: Bool = false) async throws -> Response {
        guard case .redirect(let response) = try await visitor(request, context, allowPending: allowPending) else {
            throw RampartError(.internalError, "Account access changed during the request.")
        }
        return response
    }

    private func page(_ visitor: Visitor, notice: String?, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = visitor.user
        let (factors, codesLeft, sessions, products, policy, apps) = try await services.database.read(org: visitor.orgID) { tenant in
            (try await tenant.factors(of: user.id), try await tenant.unusedRecoveryCodeCount(of: user.id),
             try await tenant.userSessions(of: user.id), try await tenant.productsAvailable(to: user.id),
             try await tenant.effectivePolicy(for: user.id), try await tenant.connectedApps(of: user.id))
        }
        let totp = factors.first { $0.kind == .totp && $0.state == .active }
        return ConsoleRenderer.page("account", [
            "title": "My account", "slug": visitor.slug, "organizationName": visitor.organization.name,
            "csrf": visitor.session.csrfToken, "email": user.email, "displayName": user.displayName,
            "isAdmin": !user.roles.isEmpty, "roles": user.roles.map(\.rawValue).joined(separator: ", "),
            "notice": notice ?? "", "hasNotice": notice != nil, "error": error ?? "", "hasError": error != nil,
            "hasTOTP": totp != nil, "totpSince": ConsolePage.time(totp?.createdAt), "totpLastUsed": ConsolePage.time(totp?.lastUsedAt),
            "mfaRequired": policy.settings.mfaRequired, "recoveryCodesLeft": codesLeft,
            "sessions": sessions.sorted { $0.lastSeenAt > $1.lastSeenAt }.map { session in
                ["id": session.id, "current": session.id == visitor.session.id, "ip": session.ip ?? "unknown",
                 "device": session.userAgent ?? "unknown", "createdAt": ConsolePage.time(session.createdAt),
                 "lastSeenAt": ConsolePage.time(session.lastSeenAt)] as [String: Any]
            },
            "products": products.map { ["name": $0.name, "url": $0.url, "kind": $0.kind.rawValue] },
            "hasProducts": !products.isEmpty,
            "apps": apps.map { app in
                ["id": app.grant.id, "name": app.clientName, "scopes": app.grant.scope.joined(separator: " "),
                 "since": ConsolePage.time(app.grant.createdAt), "lastUsed": ConsolePage.time(app.grant.lastUsedAt)]
            },
            "hasApps": !apps.isEmpty,
        ], status: status)
    }

    private func form(_ request: Request, _ visitor: Visitor) async throws -> ConsoleForm {
        try await ConsoleForm.read(request, expectedCSRF: visitor.session.csrfToken)
    }

    // MARK: - Profile and password

    @Sendable func updateProfile(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard case .visitor(let visitor) = try await visitor(request, context) else { return try await redirect(request, context) }
        let form = try await form(request, visitor)
        let audit = audit(visitor, request, context)
        do {
            _ = try await services.database.write(org: visitor.orgID) { tenant in
                try await tenant.updateUser(visitor.user.id, email: nil, displayName: form["display_name"], by: audit)
            }
        } catch let error as RampartError where isFormError(error) {
            return try await page(visitor, notice: nil, error: error.message, status: .badRequest)
        }
        return ConsoleRenderer.redirect("/o/\(visitor.slug)/account?done=profile")
    }

    /// Needs the current password; every other session of the person ends with the change.
    @Sendable func changePassword(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard case .visitor(let visitor) = try await visitor(request, context) else { return try await redirect(request, context) }
        let form = try await form(request, visitor)
        let user = visitor.user
        let stored = try await services.database.read(org: visitor.orgID) { try await $0.passwordHash(for: user.id) }
        guard try await PasswordCheck(services: services).verify(form["current_password"], against: stored) else {
            return try await page(visitor, notice: nil, error: "Your current password is not right.", status: .badRequest)
        }
        let hash: String
        do {
            let password = try await NewPasswordRules(services: services).check(
                form["new_password"], confirmation: form["new_password_confirm"], for: user, orgID: visitor.orgID)
            hash = try await services.passwords.hash(password)
        } catch let error as RampartError where isFormError(error) {
            return try await page(visitor, notice: nil, error: error.message, status: .badRequest)
        }
        let audit = audit(visitor, request, context)
        try await services.database.write(org: visitor.orgID) { tenant in
            try await tenant.setPasswordHash(hash, for: user.id)
            let ended = try await tenant.endAllUserSessions(of: user.id, keeping: visitor.session.id)
            try await tenant.appendAudit([audit.record(.passwordChanged, [.user(user)],
                                                       details: AuditDetails(["sessions_ended": .int(Int64(ended))]))])
        }
        return ConsoleRenderer.redirect("/o/\(visitor.slug)/account?done=password")
    }

    // MARK: - Two-step verification

    /// Each visit starts a new pending enrolment with a fresh seed (the previous pending one is
    /// abandoned), shown as a QR code, an `otpauth://` URI and the seed for typing.
    @Sendable func showEnrolment(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard case .visitor(let visitor) = try await visitor(request, context, allowPending: true) else {
            return try await redirect(request, context, allowPending: true)
        }
        return try await enrolmentPage(visitor, error: nil)
    }

    /// Shows the pending enrolment whose seed is `pendingSeed`, or starts a new one.
    private func enrolmentPage(_ visitor: Visitor, pendingSeed: [UInt8]? = nil, error: String?,
                               status: HTTPResponse.Status = .ok) async throws -> Response {
        let settings = TOTPFactorSettings.standard
        let seed = pendingSeed ?? TOTP.generateSecret()
        if pendingSeed == nil {
            let keys = services.keys
            let user = visitor.user
            _ = try await services.database.write(org: visitor.orgID) { tenant in
                try await tenant.createPendingTOTPFactor(for: user.id, secret: seed, settings: settings,
                                                         label: "Authenticator app", keys: keys)
            }
        }
        let uri = OTPAuthURI(issuer: "Rampart (\(visitor.organization.name))", accountName: visitor.user.email,
                             totp: try settings.totp(secret: seed)).text
        return ConsoleRenderer.page("enrol", [
            "title": "Set up two-step verification", "slug": visitor.slug, "csrf": visitor.session.csrfToken,
            "qr": QRCodeSVG.render(uri) ?? "", "uri": uri, "secret": Base32.encode(seed),
            "required": !visitor.session.mfaCompleted,
            "error": error ?? "", "hasError": error != nil,
        ], status: status)
    }

    /// One valid code activates the factor; ten recovery codes are made and shown once, and the
    /// session is replaced by a new one (a privilege change).
    @Sendable func enrol(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard case .visitor(let visitor) = try await visitor(request, context, allowPending: true) else {
            return try await redirect(request, context, allowPending: true)
        }
        let form = try await form(request, visitor)
        let keys = services.keys
        let user = visitor.user
        let audit = audit(visitor, request, context)
        let codes = RecoveryCodes.generate()
        let pending = try await services.database.read(org: visitor.orgID) {
            try await $0.totpFactor(of: user.id, state: .pending, keys: keys)
        }
        guard let pending else { return try await enrolmentPage(visitor, error: "The set-up expired. Scan this new QR code.") }
        let activated = try await services.database.write(org: visitor.orgID) { tenant -> Bool in
            guard case .accepted(let step) = pending.totp.verify(form["code"].trimmingCharacters(in: .whitespaces),
                                                                 at: Date(), lastAcceptedStep: nil),
                  try await tenant.activateTOTPFactor(pending.factor, acceptedStep: step, by: audit, user: user)
            else { return false }
            try await tenant.replaceRecoveryCodes(for: user, hashes: codes.map(\.hash), by: audit)
            return true
        }
        guard activated else {
            return try await enrolmentPage(visitor, pendingSeed: pending.totp.secret,
                                           error: "That code is not right. Type the code your app shows now.", status: .badRequest)
        }
        let signedIn = try await SignInService(services: services).upgrade(
            orgID: visitor.orgID, visitor.secret, user: user, client: SignInClient(request, context),
            event: .sessionElevated, details: AuditDetails(["reason": .string("mfa_enrolled")]), amr: ["pwd", "otp", "mfa"])
        var response = recoveryCodesPage(visitor, codes: codes.map(\.code), request: request)
        response.headers.append(HTTPField(name: .setCookie, value: SignInController(services: services).sessionCookie(signedIn)))
        return response
    }

    /// After the codes, the person goes on to the product that asked for the second factor, if one did.
    private func recoveryCodesPage(_ visitor: Visitor, codes: [String], request: Request) -> Response {
        let next = SignInContinuation.target(in: request, slug: visitor.slug)
            ?? SessionResolver.landing(for: visitor.user, slug: visitor.slug)
        return ConsoleRenderer.page("recovery-codes", ["title": "Your recovery codes", "codes": codes, "continue": next])
    }

    /// New codes; the old ones stop working.
    @Sendable func regenerateRecoveryCodes(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard case .visitor(let visitor) = try await visitor(request, context) else { return try await redirect(request, context) }
        _ = try await form(request, visitor)
        let user = visitor.user
        let audit = audit(visitor, request, context)
        let codes = RecoveryCodes.generate()
        try await services.database.write(org: visitor.orgID) { tenant in
            try await tenant.replaceRecoveryCodes(for: user, hashes: codes.map(\.hash), by: audit)
        }
        return recoveryCodesPage(visitor, codes: codes.map(\.code), request: request)
    }

    // MARK: - Sessions

    @Sendable func endSession(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard case .visitor(let visitor) = try await visitor(request, context) else { return try await redirect(request, context) }
        _ = try await form(request, visitor)
        let id = context.parameters.get("id") ?? ""
        let user = visitor.user
        let audit = audit(visitor, request, context)
        let ended = try await services.database.write(org: visitor.orgID) { tenant -> Bool in
            guard try await tenant.endUserSession(id, of: user.id) else { return false }
            try await tenant.appendAudit([audit.record(.sessionEnded, [.user(user)], details: AuditDetails(["session_id": .string(id)]))])
            return true
        }
        guard ended else { return try await page(visitor, notice: nil, error: "That session had already ended.", status: .notFound) }
        if id == visitor.session.id {
            return ConsoleRenderer.redirect("/o/\(visitor.slug)/signin", cookies: [ConsoleCookie.clear(ConsoleCookie.session, secure: secure)])
        }
        return ConsoleRenderer.redirect("/o/\(visitor.slug)/account?done=session")
    }

    /// Takes back an application's access: the grant and its refresh tokens end now.
    @Sendable func revokeApp(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard case .visitor(let visitor) = try await visitor(request, context) else { return try await redirect(request, context) }
        _ = try await form(request, visitor)
        let id = context.parameters.get("id") ?? ""
        let (user, audit) = (visitor.user, audit(visitor, request, context))
        let revoked = try await services.database.write(org: visitor.orgID) { tenant in
            try await tenant.revokeLiveOAuthGrant(id, ofUser: user.id, reason: "revoked_by_user", by: audit)
        }
        guard revoked else { return try await page(visitor, notice: nil, error: "That application had no access any more.", status: .notFound) }
        return ConsoleRenderer.redirect("/o/\(visitor.slug)/account?done=app")
    }

    /// "Sign out everywhere else": every session but this one ends.
    @Sendable func endOtherSessions(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard case .visitor(let visitor) = try await visitor(request, context) else { return try await redirect(request, context) }
        _ = try await form(request, visitor)
        let user = visitor.user
        let audit = audit(visitor, request, context)
        try await services.database.write(org: visitor.orgID) { tenant in
            let ended = try await tenant.endAllUserSessions(of: user.id, keeping: visitor.session.id)
            try await tenant.appendAudit([audit.record(.sessionEnded, [.user(user)], details: AuditDetails([
                "scope": .string("all_others"), "count": .int(Int64(ended)),
            ]))])
        }
        return ConsoleRenderer.redirect("/o/\(visitor.slug)/account?done=others")
    }
}
