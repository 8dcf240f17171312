import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import RampartCore
import RampartStorage

/// The browser's side of federated sign-in: `GET /o/{slug}/sso/{id}/start` (a provider's
/// `signInUrl`) records an attempt bound to this browser and sends it to the provider;
/// `GET /o/{slug}/sso/oidc/{id}/callback` (the provider's `redirectUri`) finishes it. The
/// SAML service provider adds its ACS beside them and finishes through `FederatedSignIn` too.
struct SSOController: Sendable {
    let services: RampartServices
    /// How long a person has at the provider before the attempt expires.
    static let attemptLifetimeSeconds: Double = 10 * 60
    /// Ties an attempt to the browser that started it: SameSite=Lax, since the provider's
    /// redirect back is a cross-site navigation that a Strict cookie would not come with.
    static let browserCookie = "rampart_sso"

    private var secure: Bool { services.configuration.secureCookies }

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/o/:slug/sso/:id/start", use: start)
        router.get("/o/:slug/sso/oidc/:id/callback", use: oidcCallback)
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
        guard provider.kind == .oidc else {
            return page("Sign-in through SAML providers is not available yet. Sign in another way, or ask your administrator.",
                        status: .notImplemented, slug: organization.slug)
        }
        // A product's authorize request that sent the person here rides in a Strict cookie that will
        // not come back with the provider's redirect: the attempt keeps it instead.
        let returnTo = query.get("return_to").flatMap { SSOReturnTo.validated($0, slug: organization.slug) }
            ?? SignInContinuation.target(in: request, slug: organization.slug)
        let hint = query.get("login_hint").map { String($0.prefix(320)) }.flatMap { $0.contains("@") ? $0 : nil }
        let browser = OIDCRelyingParty.random()
        let url: String
        do {
            url = try await OIDCRelyingParty(services: services).authorizationURL(
                provider: provider, organization: organization, browserHash: SSOHash.of(browser), returnTo: returnTo,
                testMode: testMode == true, loginHint: hint)
        } catch let failure as SSOFailure {
            _ = try await FederatedSignIn(services: services).fail(failure.reason, provider, organization, SignInClient(request, context))
            return page(failure.message, status: .badGateway, slug: organization.slug)
        }
        return ConsoleRenderer.redirect(url, cookies: [browserCookie(browser, slug: organization.slug)])
    }

    // MARK: - OpenID Connect callback

    @Sendable func oidcCallback(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await services.organization(at: context),
              let provider = try await provider(context, organization), provider.kind == .oidc else { return notFound() }
        let client = SignInClient(request, context)
        let signIns = FederatedSignIn(services: services)
        let query = request.uri.queryParameters
        let keys = services.keys
        let state = query.get("state").map { String($0.prefix(512)) } ?? ""
        let consumed = try await services.database.write(org: organization.id) {
            try await $0.consumeSSOAttempt(id: SSOHash.of(state), keys: keys)
        }
        let attempt: SSOAttempt
        switch consumed {
        case .failure(let refusal):
            let reason = SSOFailure.Reason(rawValue: refusal.rawValue) ?? .unknownState
            return render(try await signIns.fail(reason, provider, organization, client), organization)
        case .success(let found): attempt = found
        }
        let test = attempt.testMode ? attempt.id : nil
        // The attempt must be this provider's and this browser's (login CSRF, mix-up).
        guard attempt.providerID == provider.id else {
            return render(try await signIns.fail(.unknownState, provider, organization, client, testAttemptID: test), organization)
        }
        guard let cookie = ConsoleCookie.value(Self.browserCookie, in: request),
              constantTimeEquals(SSOHash.of(cookie), attempt.browserHash) else {
            return render(try await signIns.fail(.browserMismatch, provider, organization, client, testAttemptID: test), organization)
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

    private func browserCookie(_ value: String, slug: String) -> String {
        "\(Self.browserCookie)=\(value); Path=/o/\(slug)/sso/; HttpOnly; SameSite=Lax; Max-Age=\(Int(Self.attemptLifetimeSeconds))"
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
