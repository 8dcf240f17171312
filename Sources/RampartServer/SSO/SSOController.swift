import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import RampartCore
import RampartSAML
import RampartStorage

/// The browser's side of federated sign-in: `GET /o/{slug}/sso/{id}/start` (a provider's
/// `signInUrl`) records an attempt bound to this browser and sends it to the provider;
/// `GET /o/{slug}/sso/oidc/{id}/callback` (the provider's `redirectUri`) finishes an OpenID
/// Connect one, `POST /o/{slug}/sso/saml/{id}/acs` (HTTP-POST binding) a SAML one; both
/// through `FederatedSignIn`. `GET /o/{slug}/sso/saml/{id}/metadata` is the SP metadata.
struct SSOController: Sendable {
    let services: RampartServices
    /// How long a person has at the provider before the attempt expires.
    static let attemptLifetimeSeconds: Double = 10 * 60
    /// Ties an attempt to the browser that started it: SameSite=Lax, since the provider's
    /// redirect back is a cross-site navigation that a Strict cookie would not come with; for
    /// SAML SameSite=None under TLS, since the IdP's form POST to the ACS is cross-site and
    /// browsers send Lax cookies only with top-level GETs. The cookie proves nothing alone: it
    /// must match the attempt that the RelayState names.
    static let browserCookie = "rampart_sso"

    private var secure: Bool { services.configuration.secureCookies }

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/o/:slug/sso/:id/start", use: start)
        router.get("/o/:slug/sso/oidc/:id/callback", use: oidcCallback)
        router.post("/o/:slug/sso/saml/:id/acs", use: samlACS)
        router.get("/o/:slug/sso/saml/:id/acs", use: samlRedirectBindingACS)
        router.get("/o/:slug/sso/saml/:id/metadata", use: samlMetadata)
    }

    static func signInPath(slug: String, providerID: String) -> String { "/o/\(slug)/sso/\(providerID)/start" }

    // MARK: - Start

    @Sendable func start(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context),
              let provider = try await provider(context, organization) else { return notFound() }
        let query = request.uri.queryParameters
        let testMode = query.get("test").map { SSOTestLink(keys: services.keys).verify($0, providerID: provider.id) }
        if testMode == false { return page(SSOFailure(.attemptExpired).message, status: .badRequest, slug: organization.slug) }
        guard provider.enabled || testMode == true else {
            return page(SSOFailure(.providerDisabled).message, status: .forbidden, slug: organization.slug)
        }
        // A product's authorize request that sent the person here rides in a Strict cookie that will
        // not come back with the provider's redirect: the attempt keeps it instead.
        let returnTo = query.get("return_to").flatMap { SSOReturnTo.validated($0, slug: organization.slug) }
            ?? SignInContinuation.target(in: request, slug: organization.slug)
        let hint = query.get("login_hint").map { String($0.prefix(320)) }.flatMap { $0.contains("@") ? $0 : nil }
        let browser = OIDCRelyingParty.random()
        let url: String
        do {
            switch provider.kind {
            case .oidc:
                url = try await OIDCRelyingParty(services: services).authorizationURL(
                    provider: provider, organization: organization, browserHash: SSOHash.of(browser), returnTo: returnTo,
                    testMode: testMode == true, loginHint: hint)
            case .saml:
                url = try await SAMLServiceProvider(services: services).authnRequestURL(
                    provider: provider, organization: organization, browserHash: SSOHash.of(browser), returnTo: returnTo,
                    testMode: testMode == true)
            }
        } catch let failure as SSOFailure {
            _ = try await FederatedSignIn(services: services).fail(failure.reason, provider, organization, SignInClient(request, context),
                                                                   detail: failure.detail)
            return page(failure.message, status: .badGateway, slug: organization.slug)
        }
        return ConsoleRenderer.redirect(url, cookies: [browserCookie(browser, slug: organization.slug, crossSitePost: provider.kind == .saml)])
    }

    // MARK: - OpenID Connect callback

    @Sendable func oidcCallback(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context),
              let provider = try await provider(context, organization), provider.kind == .oidc else { return notFound() }
        let client = SignInClient(request, context)
        let signIns = FederatedSignIn(services: services)
        let query = request.uri.queryParameters
        let state = query.get("state").map { String($0.prefix(512)) } ?? ""
        let attempt: SSOAttempt
        switch try await consumeAttempt(named: state, organization) {
        case .failure(let refusal):
            let reason = SSOFailure.Reason(rawValue: refusal.rawValue) ?? .unknownState
            return render(try await signIns.fail(reason, provider, organization, client), organization)
        case .success(let found): attempt = found
        }
        let test = attempt.testMode ? attempt.id : nil
        if let reason = bindingFailure(of: attempt, provider, request) {
            return render(try await signIns.fail(reason, provider, organization, client, testAttemptID: test), organization)
        }
        guard provider.enabled || attempt.testMode else {
            return render(try await signIns.fail(.providerDisabled, provider, organization, client), organization)
        }
        if query.get("error") != nil {
            return render(try await signIns.fail(.providerError, provider, organization, client, testAttemptID: test), organization)
        }
        guard let code = query.get("code"), !code.isEmpty, code.utf8.count <= 4096 else {
            return render(try await signIns.fail(.missingCode, provider, organization, client, testAttemptID: test), organization)
        }
        let identity: FederatedIdentity
        do {
            identity = try await OIDCRelyingParty(services: services).identity(provider: provider, organization: organization,
                                                                               attempt: attempt, code: code).0
        } catch let failure as SSOFailure {
            return render(try await signIns.fail(failure.reason, provider, organization, client, testAttemptID: test), organization)
        }
        let outcome = try await signIns.complete(provider: provider, organization: organization, identity: identity,
                                                 attempt: attempt, client: client)
        return render(outcome, organization)
    }

    // MARK: - SAML

    /// The largest ACS form read: a response of the validator's largest size, base64 and form-encoded.
    static let maximumACSBody = 1024 * 1024

    /// The ACS (HTTP-POST binding). The RelayState Rampart gave the IdP names this browser's
    /// attempt, whose AuthnRequest ID the response must answer; without one the response is
    /// IdP-initiated, accepted only when the provider allows it (and then a RelayState that is a
    /// path of the organisation is where the person lands; anything else, such as another
    /// site's URL, is ignored).
    @Sendable func samlACS(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context),
              let provider = try await provider(context, organization), provider.kind == .saml else { return notFound() }
        let client = SignInClient(request, context)
        let signIns = FederatedSignIn(services: services)
        let fields: [String: String]
        do {
            fields = ConsoleForm.parse(String(buffer: try await request.body.collect(upTo: Self.maximumACSBody)))
        } catch {
            return render(try await signIns.fail(.samlTooLarge, provider, organization, client,
                                                 detail: "the posted form is larger than \(Self.maximumACSBody / 1024) KiB"), organization)
        }
        let relayState = fields["RelayState"].map { String($0.prefix(1024)) } ?? ""
        var attempt: SSOAttempt?
        if !relayState.isEmpty, !relayState.hasPrefix("/") {
            switch try await consumeAttempt(named: relayState, organization) {
            case .failure(.unknown) where provider.saml?.allowIdpInitiated == true:
                break  // the IdP's own RelayState on an IdP-initiated response
            case .failure(let refusal):
                let reason = SSOFailure.Reason(rawValue: refusal.rawValue) ?? .unknownState
                return render(try await signIns.fail(reason, provider, organization, client), organization)
            case .success(let found): attempt = found
            }
        }
        let test = attempt?.testMode == true ? attempt?.id : nil
        if let attempt, let reason = bindingFailure(of: attempt, provider, request) {
            return render(try await signIns.fail(reason, provider, organization, client, testAttemptID: test), organization)
        }
        guard provider.enabled || attempt?.testMode == true else {
            return render(try await signIns.fail(.providerDisabled, provider, organization, client), organization)
        }
        guard let response = fields["SAMLResponse"], !response.isEmpty else {
            return render(try await signIns.fail(.samlMalformed, provider, organization, client, testAttemptID: test,
                                                 detail: "the POST carries no SAMLResponse"), organization)
        }
        let identity: FederatedIdentity
        do {
            identity = try await SAMLServiceProvider(services: services).identity(
                provider: provider, organization: organization, base64Response: response, expectedRequestID: attempt?.samlRequestID)
        } catch let failure as SSOFailure {
            return render(try await signIns.fail(failure.reason, provider, organization, client, testAttemptID: test,
                                                 detail: failure.detail), organization)
        }
        let now = Timestamp.now()
        let finished = attempt ?? SSOAttempt(
            id: "", providerID: provider.id, browserHash: "", nonceHash: nil, pkceVerifier: nil, samlRequestID: nil,
            returnTo: relayState.isEmpty ? nil : SSOReturnTo.validated(relayState, slug: organization.slug), testMode: false,
            createdAt: now, expiresAt: now)
        return render(try await signIns.complete(provider: provider, organization: organization, identity: identity,
                                                 attempt: finished, client: client), organization)
    }

    /// A response sent with the HTTP-Redirect binding, which the Web SSO profile does not allow for
    /// responses (SAML profiles 4.1.2): refused with the reason and audited, so that a misconfigured
    /// IdP is found on the provider's page. The message is inflated within the size limit first,
    /// to tell an oversize one apart.
    @Sendable func samlRedirectBindingACS(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context),
              let provider = try await provider(context, organization), provider.kind == .saml else { return notFound() }
        let client = SignInClient(request, context)
        let message = request.uri.queryParameters.get("SAMLResponse") ?? ""
        do {
            _ = try SAMLRedirectBinding.inflate(base64: message, limit: SAMLServiceProvider.maximumRedirectMessageBytes)
        } catch {
            return render(try await FederatedSignIn(services: services).fail(SSOFailure(error).reason, provider, organization, client,
                                                                              detail: error.detail), organization)
        }
        return render(try await FederatedSignIn(services: services).fail(
            .samlBindingNotAllowed, provider, organization, client,
            detail: "the IdP sent its response with the HTTP-Redirect binding; set the IdP's ACS binding to HTTP-POST"), organization)
    }

    /// The SP metadata of one SAML provider, for the admin to hand to the IdP (or the IdP to fetch).
    @Sendable func samlMetadata(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context),
              let provider = try await provider(context, organization), provider.kind == .saml else { return notFound() }
        let xml = try await SAMLServiceProvider(services: services).metadata(provider: provider, organization: organization)
        return Response(status: .ok, headers: [.contentType: "application/samlmetadata+xml; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: xml)))
    }

    // MARK: - Attempts

    /// The attempt that the handle given to the provider (OIDC `state`, SAML `RelayState`) names,
    /// consumed: it finishes once.
    private func consumeAttempt(named handle: String, _ organization: Organization) async throws
        -> Result<SSOAttempt, SSOAttemptRefusal>
    {
        let keys = services.keys
        return try await services.database.write(org: organization.id) {
            try await $0.consumeSSOAttempt(id: SSOHash.of(handle), keys: keys)
        }
    }

    /// Why a consumed attempt may not finish here, if it may not: it must be this provider's and
    /// this browser's (login CSRF, mix-up).
    private func bindingFailure(of attempt: SSOAttempt, _ provider: IdentityProvider, _ request: Request) -> SSOFailure.Reason? {
        guard attempt.providerID == provider.id else { return .unknownState }
        guard let cookie = ConsoleCookie.value(Self.browserCookie, in: request),
              constantTimeEquals(SSOHash.of(cookie), attempt.browserHash) else { return .browserMismatch }
        return nil
    }

    // MARK: - Answers

    /// The page a finished attempt leads to. A success moves on through a page rather than a
    /// redirect: the browser arrived from the provider's site, and the session cookie
    /// (SameSite=Strict) only comes with requests this site starts.
    func render(_ outcome: FederatedOutcome, _ organization: Organization) -> Response {
        let slug = organization.slug
        let clearBrowser = ConsoleCookie.clear(Self.browserCookie, secure: secure)
        switch outcome {
        case .failed(let failure):
            return page(failure.message, status: .forbidden, slug: slug, cookies: [clearBrowser])
        case .tested:
            return page("The test sign-in finished. Its result is on the identity provider's page in the console.",
                        status: .ok, slug: slug, cookies: [clearBrowser], title: "Test finished")
        case .signedIn(let signedIn, let returnTo):
            let lifetime = Int(signedIn.session.expiresAt.microseconds - signedIn.session.createdAt.microseconds) / 1_000_000
            let cookies = [ConsoleCookie.make(ConsoleCookie.session, signedIn.secret, secure: secure, maxAge: lifetime), clearBrowser]
            switch signedIn.next {
            case .secondFactor: return SignInContinuation.onward(to: "/o/\(slug)/signin/mfa", cookies: cookies)
            case .enrol: return SignInContinuation.onward(to: "/o/\(slug)/account/mfa/enrol", cookies: cookies)
            case .done:
                return SignInContinuation.onward(to: returnTo ?? SessionResolver.landing(for: signedIn.user, slug: slug),
                                                 cookies: cookies + [SignInContinuation.clear(secure: secure)])
            }
        }
    }

    private func page(_ message: String, status: HTTPResponse.Status, slug: String, cookies: [String] = [],
                      title: String = "Sign-in failed") -> Response {
        var response = ConsoleRenderer.page("sso-error", ["title": title, "message": message, "slug": slug, "ok": status == .ok],
                                            status: status)
        for cookie in cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }

    private func notFound() -> Response {
        ConsoleRenderer.page("error", ["title": "Not found", "status": 404,
                                       "message": "No identity provider signs in at this address. Check the link."], status: .notFound)
    }

    private func provider(_ context: RampartRequestContext, _ organization: Organization) async throws -> IdentityProvider? {
        guard let id = context.parameters.get("id") else { return nil }
        return try await services.database.read(org: organization.id) { try await $0.identityProvider(id) }
    }

    private func browserCookie(_ value: String, slug: String, crossSitePost: Bool) -> String {
        // Browsers refuse SameSite=None without Secure: over plain HTTP only a same-site IdP can post back with it.
        let sameSite = crossSitePost && secure ? "None" : "Lax"
        return "\(Self.browserCookie)=\(value); Path=/o/\(slug)/sso/; HttpOnly; SameSite=\(sameSite); Max-Age=\(Int(Self.attemptLifetimeSeconds))"
            + (secure ? "; Secure" : "")
    }
}

/// Where a person may be sent after signing in: a path of their own organisation on this
/// site, never another host (no open redirect).
enum SSOReturnTo {
    static func validated(_ raw: String, slug: String) -> String? {
        guard raw.utf8.count <= 2048, raw.hasPrefix("/o/\(slug)/") || raw == "/console" || raw.hasPrefix("/console/"),
              !raw.hasPrefix("//"), !raw.contains("\\"), !raw.contains(".."),
              !raw.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value >= 0x7F }) else { return nil }
        return raw
    }
}

/// A link that starts a test sign-in with one provider: issued to an admin by the API or the
/// console, an expiry and the provider authenticated with HMAC so nobody else can start one.
struct SSOTestLink: Sendable {
    static let lifetime: Int64 = 10 * 60
    private let key: SymmetricKey

    init(keys: KeyService) { key = keys.derivedKey(purpose: "rampart.sso-test-link.v1") }

    func issue(providerID: String, now: Timestamp = .now()) -> String {
        let expiry = now.microseconds / 1_000_000 + Self.lifetime
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(expiry).\(providerID)".utf8), using: key)
        return "\(expiry).\(Data(mac).base64URLEncoded)"
    }

    func verify(_ token: String, providerID: String, now: Timestamp = .now()) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 12, let expiry = Int64(parts[0]),
              let mac = Data(base64URLEncoded: String(parts[1])), mac.count == SHA256.byteCount,
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data("\(expiry).\(providerID)".utf8), using: key)
        else { return false }
        return now.microseconds / 1_000_000 < expiry
    }
}
