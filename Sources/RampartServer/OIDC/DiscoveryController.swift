import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// What a product reads to trust the organisation's provider: the discovery document
/// (OpenID Connect Discovery 1.0), the public keys (JWKS), and the person behind an access
/// token (`/userinfo`, OpenID Connect Core section 5.3).
struct DiscoveryController: Sendable {
    let services: RampartServices
    let keyring: OIDCKeyring

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/o/:slug/.well-known/openid-configuration", use: discovery)
        router.get("/o/:slug/oauth/jwks", use: jwks)
        router.get("/o/:slug/oauth/userinfo", use: userinfo)
        router.post("/o/:slug/oauth/userinfo", use: userinfo)
    }

    struct Configuration: Encodable, Sendable {
        let issuer: String
        let authorization_endpoint: String
        let token_endpoint: String
        let userinfo_endpoint: String
        let jwks_uri: String
        let revocation_endpoint: String
        let introspection_endpoint: String
        let end_session_endpoint: String
        let response_types_supported = ["code"]
        let response_modes_supported = ["query"]
        let grant_types_supported = ["authorization_code", "refresh_token", "client_credentials"]
        let subject_types_supported = ["public"]
        let id_token_signing_alg_values_supported = OAuthTokenSigningAlgorithm.allCases.map(\.rawValue)
        let token_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
        let token_endpoint_auth_signing_alg_values_supported = OAuthClientJWKS.assertionAlgorithms
        let revocation_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
        let revocation_endpoint_auth_signing_alg_values_supported = OAuthClientJWKS.assertionAlgorithms
        let introspection_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
        let introspection_endpoint_auth_signing_alg_values_supported = OAuthClientJWKS.assertionAlgorithms
        let code_challenge_methods_supported = ["S256"]
        let scopes_supported = OAuthClient.knownScopes
        let claims_supported = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "org_id",
                                "email", "name", "groups", "sid"]
        let acr_values_supported = [AuthenticationContext.password, AuthenticationContext.multiFactor]
        let prompt_values_supported = ["none", "login", "consent"]
        let authorization_response_iss_parameter_supported = true
        let request_parameter_supported = false
        let request_uri_parameter_supported = false
        let claims_parameter_supported = false
        let backchannel_logout_supported = true
        let backchannel_logout_session_supported = true
    }

    @Sendable func discovery(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await organization(context) else { throw RampartError.notFound("Organization") }
        let issuer = OIDCIssuer.url(slug: organization.slug, publicURL: services.configuration.publicURL)
        var response = try JSON.response(Configuration(
            issuer: issuer, authorization_endpoint: issuer + "/oauth/authorize", token_endpoint: issuer + "/oauth/token",
            userinfo_endpoint: issuer + "/oauth/userinfo", jwks_uri: issuer + "/oauth/jwks",
            revocation_endpoint: issuer + "/oauth/revoke", introspection_endpoint: issuer + "/oauth/introspect",
            end_session_endpoint: issuer + "/oauth/logout"))
        response.headers[.cacheControl] = "public, max-age=300"
        return response
    }

    @Sendable func jwks(_ request: Request, context: RampartRequestContext) async throws -> Response {
        guard let organization = try await organization(context) else { throw RampartError.notFound("Organization") }
        let keys = try await keyring.keys(orgID: organization.id)
        var response = try JSON.response(["keys": keys.jwks])
        // Short, so that a product sees a rotated key soon; it re-reads on an unknown kid anyway.
        response.headers[.cacheControl] = "public, max-age=300"
        return response
    }

    struct UserInfo: Encodable, Sendable {
        let sub: String
        let org_id: String
        var email: String?
        var name: String?
        var groups: [String]?
    }

    /// The person behind a live access token. The token's grant must still be live and the
    /// person active: a deactivated person's tokens stop working here at once.
    @Sendable func userinfo(_ request: Request, context: RampartRequestContext) async throws -> Response {
        func refused(_ description: String) -> Response {
            var response = OAuthJSON.response(["error": "invalid_token", "error_description": description], status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            return response
        }
        guard let organization = try await organization(context) else { throw RampartError.notFound("Organization") }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            var response = OAuthJSON.response(["error": "invalid_request", "error_description": "Send the access token as Authorization: Bearer."],
                                              status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer realm=\"rampart\""
            return response
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let issuer = OIDCIssuer.url(slug: organization.slug, publicURL: services.configuration.publicURL)
        guard let claims = try await keyring.verify(token, orgID: organization.id, type: AccessTokenClaims.type, as: AccessTokenClaims.self),
              claims.orgID == organization.id, claims.iss == issuer, let grantID = claims.grantID,
              claims.scopes.contains("openid") else {
            return refused("The access token is not valid here, has expired, or is not a person's token with the openid scope.")
        }
        let found = try await services.database.read(org: organization.id) { tenant -> (User, [String])? in
            guard try await tenant.oauthGrantIsLive(grantID), let user = try await tenant.user(claims.sub) else { return nil }
            return (user, try await tenant.groupNames(ofUser: user.id))
        }
        guard let (user, groups) = found else { return refused("The access token was revoked or the person's access ended.") }
        var info = UserInfo(sub: user.id, org_id: organization.id)
        if claims.scopes.contains("email") { info.email = user.email }
        if claims.scopes.contains("profile") { info.name = user.displayName }
        if claims.scopes.contains("groups") { info.groups = groups }
        return OAuthJSON.response(info)
    }

    private func organization(_ context: RampartRequestContext) async throws -> Organization? {
        guard let slug = context.parameters.get("slug"), !slug.isEmpty else { return nil }
        return try await services.organizations.find(idOrSlug: slug.lowercased())
    }
}
