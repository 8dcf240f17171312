import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import RampartCore
import RampartStorage

/// Rampart as an OpenID Connect relying party of an organisation's provider: the
/// authorization code flow with PKCE (S256), state and nonce, the code exchanged at the token
/// endpoint with the client secret (basic, or post when the provider supports only that), and
/// the ID token verified by `UpstreamIDToken`.
struct OIDCRelyingParty: Sendable {
    let services: RampartServices

    /// One redirect URI per provider, so a response is bound to the provider it came from
    /// (the callback's provider must be the attempt's) and an admin registers a URL no other
    /// provider shares.
    static func redirectURI(slug: String, providerID: String, publicURL: String) -> String {
        PublicLink.to(callbackPath(slug: slug, providerID: providerID), at: publicURL)
    }

    static func callbackPath(slug: String, providerID: String) -> String { "/o/\(slug)/sso/oidc/\(providerID)/callback" }

    /// Where discovery is read: the issuer, or for Entra's multi-tenant template its `organizations` form.
    static func discoveryBase(_ settings: OIDCProviderSettings) -> String {
        settings.issuer.replacingOccurrences(of: OIDCProviderSettings.tenantPlaceholder, with: "organizations")
    }

    /// Starts a sign-in: records the attempt and returns the provider's authorization URL.
    func authorizationURL(provider: IdentityProvider, organization: Organization, browserHash: String, returnTo: String?,
                          testMode: Bool, loginHint: String?) async throws -> String {
        guard let settings = provider.oidc else { throw SSOFailure(.discoveryFailed) }
        let metadata = try await services.upstreamOIDC.metadata(discoveryBase: Self.discoveryBase(settings))
        // OpenID Connect Discovery section 4.3: the document must name the issuer it was fetched for.
        guard metadata.issuer == settings.issuer else { throw SSOFailure(.issuerMismatch) }
        let state = Self.random(), nonce = Self.random(), verifier = Self.random() + Self.random()
        let now = Timestamp.now()
        let attempt = SSOAttempt(id: SSOHash.of(state), providerID: provider.id, browserHash: browserHash,
                                 nonceHash: SSOHash.of(nonce), pkceVerifier: verifier, samlRequestID: nil, returnTo: returnTo,
                                 testMode: testMode, createdAt: now, expiresAt: now.adding(seconds: SSOController.attemptLifetimeSeconds))
        let keys = services.keys
        try await services.database.write(org: organization.id) { try await $0.startSSOAttempt(attempt, keys: keys) }
        var query: [(String, String)] = [
            ("response_type", "code"), ("client_id", settings.clientId),
            ("redirect_uri", Self.redirectURI(slug: organization.slug, providerID: provider.id,
                                              publicURL: services.configuration.publicURL)),
            ("scope", settings.scopes.joined(separator: " ")), ("state", state), ("nonce", nonce),
            ("code_challenge", Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncoded),
            ("code_challenge_method", "S256"),
        ]
        if let hd = settings.hostedDomain { query.append(("hd", hd)) }
        if let loginHint { query.append(("login_hint", loginHint)) }
        if testMode { query.append(("prompt", "login")) }
        let separator = metadata.authorization_endpoint.contains("?") ? "&" : "?"
        return metadata.authorization_endpoint + separator + FormURLEncoding.encode(query)
    }

    /// The identity behind an authorization code returned for `attempt`.
    func identity(provider: IdentityProvider, organization: Organization, attempt: SSOAttempt, code: String)
        async throws -> (FederatedIdentity, UpstreamIDToken)
    {
        guard let settings = provider.oidc else { throw SSOFailure(.discoveryFailed) }
        let metadata = try await services.upstreamOIDC.metadata(discoveryBase: Self.discoveryBase(settings))
        guard metadata.issuer == settings.issuer else { throw SSOFailure(.issuerMismatch) }
        let keys = services.keys
        let secret = try await services.database.read(org: organization.id) {
            try await $0.identityProviderClientSecret(provider.id, keys: keys)
        }
        let idToken = try await exchange(code: code, verifier: attempt.pkceVerifier ?? "", settings: settings,
                                         secret: secret, metadata: metadata,
                                         redirectURI: Self.redirectURI(slug: organization.slug, providerID: provider.id,
                                                                       publicURL: services.configuration.publicURL))
        let token = try await UpstreamIDToken.verify(
            idToken,
            expecting: .init(issuer: settings.issuer, clientID: settings.clientId, nonceHash: attempt.nonceHash ?? "",
                             allowedTenants: settings.allowedTenants, hostedDomain: settings.hostedDomain),
            jwksURI: metadata.jwks_uri, cache: services.upstreamOIDC)
        return (Self.identity(from: token.claims, mapping: provider.attributes), token)
    }

    /// The token request (RFC 6749 section 4.1.3); only the ID token is used.
    private func exchange(code: String, verifier: String, settings: OIDCProviderSettings, secret: String?,
                          metadata: UpstreamOIDCMetadata, redirectURI: String) async throws(SSOFailure) -> String {
        var form: [(String, String)] = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                                        ("code_verifier", verifier)]
        var request = HTTPClientRequest(url: metadata.token_endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let methods = metadata.token_endpoint_auth_methods_supported ?? ["client_secret_basic"]
        if let secret, !methods.contains("client_secret_basic"), methods.contains("client_secret_post") {
            form += [("client_id", settings.clientId), ("client_secret", secret)]
        } else if let secret {
            // RFC 6749 section 2.3.1: each part form-encoded before base64.
            let pair = FormURLEncoding.component(settings.clientId) + ":" + FormURLEncoding.component(secret)
            request.headers.add(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        } else {
            form.append(("client_id", settings.clientId))
        }
        request.body = .bytes(ByteBuffer(string: FormURLEncoding.encode(form)))
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                                        timeout: .init(connect: .seconds(3), read: .seconds(8))))
        let body = await UpstreamOIDCCache.send(request, with: client)
        try? await client.shutdown()
        guard let body, case .object(let response)? = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            throw SSOFailure(.tokenExchangeFailed)
        }
        guard let idToken = UpstreamIDToken.string(response["id_token"]) else { throw SSOFailure(.idTokenMissing) }
        return idToken
    }

    /// The claims an admin mapped, read as a protocol-neutral identity.
    static func identity(from claims: [String: JSONValue], mapping: AttributeMapping) -> FederatedIdentity {
        let text = { (name: String) in UpstreamIDToken.string(claims[name]).map { String($0.prefix(320)) } }
        let groups: [String]? = switch claims[mapping.groups] {
        case .array(let items)?: items.compactMap { UpstreamIDToken.string($0) }
        case .string(let one)?: [one]
        default: nil
        }
        let amr: [String] = if case .array(let items)? = claims["amr"] { items.compactMap { UpstreamIDToken.string($0) } } else { [] }
        var received: [String: String] = [:]
        for (name, value) in claims.prefix(100) {
            received[name] = UpstreamIDToken.string(value) ?? String(value.canonical.prefix(500))
        }
        return FederatedIdentity(
            subject: UpstreamIDToken.string(claims["sub"]) ?? "", email: text(mapping.email)?.lowercased(),
            emailVerified: UpstreamIDToken.bool(claims["email_verified"]), givenName: text(mapping.givenName),
            familyName: text(mapping.familyName), displayName: text(mapping.displayName), groups: groups,
            // RFC 8176: `mfa` says so outright; two different methods say it too.
            mfaSatisfied: amr.contains("mfa") || Set(amr).count >= 2, received: received)
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64URLEncoded
    }
}
