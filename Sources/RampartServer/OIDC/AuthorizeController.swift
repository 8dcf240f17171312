import Foundation
import HTTPTypes
import Hummingbird
import RampartAuthn
import RampartCore
import RampartStorage

/// `/o/{slug}/oauth/authorize`: where a product sends a person to sign in. Rampart checks the
/// request, signs the person in (again, or with a second factor, when the request or their
/// policy asks), checks their access to the product and their consent to a third party, and
/// sends them back with a single-use code.
struct AuthorizeController: Sendable {
    let services: RampartServices
    private var secure: Bool { services.configuration.secureCookies }

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/o/:slug/oauth/authorize", use: authorize)
        router.post("/o/:slug/oauth/authorize", use: consent)
    }

    @Sendable func authorize(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await handle(request, context, parameters: try Self.parameters(request.uri.query ?? ""), decision: nil)
    }

    /// The consent page's answer: the original request comes back in a hidden field, under the
    /// session's own form token, and is checked again from the start.
    @Sendable func consent(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (form, parameters) = try await ConfirmedRequest.read(
            request, services: services, ended: "Your session ended; go back to the application and sign in again.")
        return try await handle(request, context, parameters: parameters, decision: form["decision"] == "allow")
    }

    private func handle(_ request: Request, _ context: RampartRequestContext, parameters: [String: String],
                        decision: Bool?) async throws -> Response {
        guard let organization = try await services.organization(at: context) else {
            return Self.errorPage("Unknown organization", "No organization signs in at this address.", status: .notFound)
        }
        let client = try await parameters["client_id"].asyncFlatMap { id in
            try await services.database.read(org: organization.id) { try await $0.oauthClient(id) }
        }
        let (checkedClient, redirectURI): (OAuthClient, String)
        switch AuthorizationRequest.redirectTarget(parameters, client: client) {
        case .failure(let error): return Self.errorPage("Cannot sign in to this application", error.message, status: .badRequest)
        case .success(let target): (checkedClient, redirectURI) = target
        }
        let issuer = OIDCIssuer.url(slug: organization.slug, publicURL: services.configuration.publicURL)
        let authorization: AuthorizationRequest
        switch AuthorizationRequest.parse(parameters, client: checkedClient, redirectURI: redirectURI) {
        case .failure(let refusal):
            return ConsoleRenderer.redirect(Self.errorRedirect(refusal, parameters: parameters, redirectURI: redirectURI, issuer: issuer))
        case .success(let parsed): authorization = parsed
        }
        return try await decide(authorization, organization: organization, request: request, context: context,
                                parameters: parameters, decision: decision, issuer: issuer)
    }

    private func decide(_ authorization: AuthorizationRequest, organization: Organization, request: Request,
                        context: RampartRequestContext, parameters: [String: String], decision: Bool?,
                        issuer: String) async throws -> Response {
        let slug = organization.slug
        func back(_ error: String, _ description: String) -> Response {
            ConsoleRenderer.redirect(authorization.redirect([("error", error), ("error_description", description)], issuer: issuer))
        }
        let resolved = try await SessionResolver(services: services).resolve(request)
        guard let (_, signedIn) = resolved, signedIn.session.mfaCompleted, signedIn.user.status == .active,
              resolved?.secret.orgID == organization.id else {
            if authorization.prompt.contains("none") { return back("login_required", "The person is not signed in.") }
            if Self.arrivedFromAnotherSite(request) { return Self.bounce(request) }
            return signIn(slug: slug, parameters: parameters, again: false)
        }
        let user = signedIn.user
        let session = signedIn.session
        let sid = session.sid
        let nowSeconds = Timestamp.now().microseconds / 1_000_000
        let signedInAt = session.createdAt.microseconds / 1_000_000
        let tooOld = authorization.maxAge.map { nowSeconds - signedInAt > Int64($0) } ?? false
        let beforeRequired = authorization.authenticatedAfter.map { signedInAt < $0 } ?? false
        if authorization.prompt.contains("login") || tooOld || beforeRequired {
            if authorization.prompt.contains("none") { return back("login_required", "A fresh sign-in is needed.") }
            return signIn(slug: slug, parameters: parameters, again: true)
        }
        let clientID = authorization.client.id
        let facts = try await services.database.read(org: organization.id) { tenant in
            (policy: try await tenant.effectivePolicy(for: user.id),
             hasFactor: try await tenant.factors(of: user.id).contains(where: \.countsAsSecondFactor),
             access: try await tenant.effectiveAccess(ofUser: user.id).contains { $0.product.id == authorization.client.productID },
             consented: try await tenant.hasConsented(user: user.id, client: clientID, to: authorization.scope))
        }
        let audit = SignInClient(request, context).audit(user, email: user.email)
        if let allowlist = facts.policy.settings.ipAllowlist {
            let address = context.remoteAddress?.ipAddress.flatMap(IPAddress.init)
            guard let address, allowlist.contains(where: { $0.contains(address) }) else {
                try await recordDenial(organization.id, audit, user: user, client: authorization.client, reason: "address_not_allowed")
                return back("access_denied", "Your organization does not allow sign-in from this network.")
            }
        }
        if (facts.policy.settings.mfaRequired || authorization.asksForMultiFactor) && !session.amr.contains("mfa") {
            if authorization.prompt.contains("none") { return back("interaction_required", "A second factor is needed.") }
            if facts.hasFactor { return signIn(slug: slug, parameters: parameters, again: true) }
            // No factor yet: enrolling one upgrades this session, and the continuation brings the person back.
            return ConsoleRenderer.redirect("/o/\(slug)/account/mfa/enrol",
                                            cookies: [SignInContinuation.cookie(Self.authorizeTarget(slug, parameters), secure: secure)])
        }
        guard facts.access else {
            try await recordDenial(organization.id, audit, user: user, client: authorization.client, reason: "no_product_access")
            return back("access_denied", "You do not have access to this application. Ask your administrator for access.")
        }
        if !authorization.client.firstParty && (!facts.consented || authorization.prompt.contains("consent")) {
            switch decision {
            case nil:
                if authorization.prompt.contains("none") { return back("consent_required", "Consent is needed.") }
                return consentPage(authorization, organization: organization, csrf: signedIn.csrfToken, parameters: parameters)
            case false?:
                try await recordDenial(organization.id, audit, user: user, client: authorization.client, reason: "consent_refused")
                return SignInContinuation.onward(to: authorization.redirect(
                    [("error", "access_denied"), ("error_description", "The person did not allow access.")], issuer: issuer))
            case true?: break
            }
        }
        let code = try await services.database.write(org: organization.id) { tenant in
            try await tenant.issueAuthorizationCode(
                AuthorizationCodeRequest(clientID: clientID, userID: user.id, redirectURI: authorization.redirectURI,
                                         scope: authorization.scope, nonce: authorization.nonce,
                                         codeChallenge: authorization.codeChallenge, authTime: session.createdAt, amr: session.amr,
                                         sid: sid),
                client: authorization.client, user: user, by: audit)
        }
        let cookies = SignInContinuation.target(in: request, slug: slug) == nil ? [] : [SignInContinuation.clear(secure: secure)]
        let target = authorization.redirect([("code", code)], issuer: issuer)
        // After the consent form, a redirect to the product would break the page's form-action policy.
        return decision == nil ? ConsoleRenderer.redirect(target, cookies: cookies) : SignInContinuation.onward(to: target, cookies: cookies)
    }

    private func recordDenial(_ orgID: String, _ audit: AuditContext, user: User, client: OAuthClient, reason: String) async throws {
        _ = try await services.database.write(org: orgID) { tenant in
            try await tenant.appendAudit([audit.record(.oauthAuthorizationDenied, [.user(user), .oauthClient(client)],
                                                       details: AuditDetails(["reason": .string(reason)]), outcome: .failure)])
        }
    }

    /// To the sign-in page, coming back here afterwards. `again` asks for a sign-in newer than
    /// now (`prompt=login`, `max_age`, a second factor the session lacks): the request comes
    /// back with `auth_after` instead of what asked for it, so it cannot loop.
    private func signIn(slug: String, parameters: [String: String], again: Bool) -> Response {
        var next = parameters
        if again {
            next["auth_after"] = String(Timestamp.now().microseconds / 1_000_000)
            next["prompt"] = nil
            next["max_age"] = nil
        }
        return ConsoleRenderer.redirect("/o/\(slug)/signin",
                                        cookies: [SignInContinuation.cookie(Self.authorizeTarget(slug, next), secure: secure)])
    }

    private static func authorizeTarget(_ slug: String, _ parameters: [String: String]) -> String {
        SignInContinuation.authorizePath(slug: slug) + "?" + ConfirmedRequest.encode(parameters)
    }

    private func consentPage(_ authorization: AuthorizationRequest, organization: Organization, csrf: String,
                             parameters: [String: String]) -> Response {
        ConsoleRenderer.page("consent", [
            "title": "Allow \(authorization.client.name)?", "clientName": authorization.client.name,
            "organizationName": organization.name, "slug": organization.slug, "csrf": csrf,
            "request": ConfirmedRequest.encode(parameters),
            "scopes": authorization.scope.map { ["description": Self.scopeDescription($0)] },
        ])
    }

    static func scopeDescription(_ scope: String) -> String {
        switch scope {
        case "openid": "Know who you are (your account id in this organization)"
        case "profile": "See your name"
        case "email": "See your email address"
        case "groups": "See the groups you belong to"
        case "offline_access": "Stay connected when you are not using it (refresh tokens)"
        default: "Use the permission ‘\(scope)’"
        }
    }

    /// A navigation from another site carries no Strict cookie, so a signed-in person looks
    /// signed out. One hop through a page of this origin makes the next request same-site,
    /// with the cookie, instead of weakening the cookie to SameSite=Lax.
    static func arrivedFromAnotherSite(_ request: Request) -> Bool {
        request.headers[.secFetchSite]?.lowercased() == "cross-site"
    }

    static func bounce(_ request: Request) -> Response { SignInContinuation.onward(to: request.uri.description) }

    static func errorRedirect(_ refusal: AuthorizationRequest.Refusal, parameters: [String: String], redirectURI: String,
                              issuer: String) -> String {
        var items = [("error", refusal.error), ("error_description", refusal.description)]
        if let state = parameters["state"], state.utf8.count <= 2048 { items.append(("state", state)) }
        items.append(("iss", issuer))
        return AuthorizationRequest.append(items, to: redirectURI)
    }

    static func errorPage(_ title: String, _ message: String, status: HTTPResponse.Status) -> Response {
        ConsoleRenderer.page("error", ["title": title, "status": Int(status.code), "message": message], status: status)
    }

    /// Query or form parameters; a repeated parameter is refused (RFC 6749 section 3.1).
    static func parameters(_ query: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in FormURLEncoding.pairs(query) {
            let name = name ?? ""
            guard result[name] == nil else {
                throw RampartError(.invalidParameter, "The parameter \(name.prefix(40)) is repeated; send it once.")
            }
            result[name] = value ?? ""
        }
        return result
    }
}

/// The issuer of an organisation's OpenID Connect provider: exactly `{public URL}/o/{slug}`.
public enum OIDCIssuer {
    public static func url(slug: String, publicURL: String) -> String { PublicLink.to("/o/\(slug)", at: publicURL) }
}

extension Optional {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
