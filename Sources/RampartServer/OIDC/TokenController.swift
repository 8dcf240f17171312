import Crypto
import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// The back-channel endpoints products call: `/token` (RFC 6749 and 7636), `/revoke`
/// (RFC 7009) and `/introspect` (RFC 7662), each under `/o/{slug}/oauth`.
struct TokenController: Sendable {
    let services: RampartServices
    let keyring: OIDCKeyring

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.post("/o/:slug/oauth/token", use: token)
        router.post("/o/:slug/oauth/revoke", use: revoke)
        router.post("/o/:slug/oauth/introspect", use: introspect)
    }

    /// The organisation, the form and the authenticated client of a back-channel call.
    private struct Call {
        let organization: Organization
        let form: [String: String]
        let client: OAuthClient
        let issuer: TokenIssuer
        let audit: AuditContext
    }

    private func call(_ request: Request, _ context: RampartRequestContext) async throws -> Call {
        guard let slug = context.parameters.get("slug"),
              let organization = try await services.organizations.find(idOrSlug: slug.lowercased()) else {
            throw OAuthError(error: "invalid_request", description: "No organization answers at this address.", status: .notFound)
        }
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw OAuthError.invalidRequest("Send the parameters as application/x-www-form-urlencoded.")
        }
        let form: [String: String]
        do { form = try AuthorizeController.parameters(String(buffer: try await Self.body(request))) } catch let error as RampartError {
            throw OAuthError.invalidRequest(error.message)
        }
        let issuerURL = OIDCIssuer.url(slug: organization.slug, publicURL: services.configuration.publicURL)
        let client = try await ClientAuthentication(services: services)
            .authenticate(request, form: form, orgID: organization.id, issuer: issuerURL)
        let issuer = TokenIssuer(keyring: keyring, issuer: issuerURL, orgID: organization.id)
        let actor = AuditActor(type: .oauthClient, id: client.id, name: client.name, ip: context.remoteAddress?.ipAddress,
                               userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
        return Call(organization: organization, form: form, client: client, issuer: issuer,
                    audit: AuditContext(actor: actor, requestID: context.requestID))
    }

    private static func body(_ request: Request) async throws -> ByteBuffer {
        do { return try await request.body.collect(upTo: 64 * 1024) } catch {
            throw OAuthError(error: "invalid_request", description: "The request body is too large.", status: .contentTooLarge)
        }
    }

    private func answering(_ work: () async throws -> Response) async throws -> Response {
        do { return try await work() } catch let error as OAuthError { return error.response }
    }

    // MARK: - Token

    @Sendable func token(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await answering {
            let call = try await call(request, context)
            switch call.form["grant_type"] {
            case "authorization_code": return OAuthJSON.response(try await authorizationCode(call))
            case "refresh_token": return OAuthJSON.response(try await refresh(call))
            case "client_credentials": return OAuthJSON.response(try await clientCredentials(call))
            case nil: throw OAuthError.invalidRequest("grant_type is required.")
            default:
                throw OAuthError(error: "unsupported_grant_type",
                                 description: "Supported grant types: authorization_code, refresh_token, client_credentials.")
            }
        }
    }

    private enum Exchange: Sendable {
        case refused(OAuthError)
        case granted(OAuthGrant, TokenIssuer.Person, AuthorizationCodeRequest, refreshToken: String?)
    }

    private func authorizationCode(_ call: Call) async throws -> TokenIssuer.Issued {
        guard let code = call.form["code"].flatMap({ SecretToken(parsing: $0, as: .authorizationCode) }) else {
            throw OAuthError.invalidGrant("The code is missing or malformed.")
        }
        let verifier = call.form["code_verifier"] ?? ""
        let redirectURI = call.form["redirect_uri"]
        let client = call.client
        // Whatever goes wrong after the code is found, it stays used: the transaction commits
        // and the error is returned, never thrown.
        let exchange = try await services.database.write(org: call.organization.id) { tenant -> Exchange in
            switch try await tenant.redeemAuthorizationCode(code, clientID: client.id, by: call.audit) {
            case .invalid: return .refused(.invalidGrant("The code is unknown, expired, or was issued to another client."))
            case .replayed: return .refused(.invalidGrant("The code was already used; the tokens it gave are revoked."))
            case .redeemed(let request):
                guard redirectURI == request.redirectURI else {
                    return .refused(.invalidGrant("redirect_uri differs from the one of the authorization request."))
                }
                guard Self.pkceMatches(verifier: verifier, challenge: request.codeChallenge) else {
                    return .refused(.invalidGrant("code_verifier does not match the code_challenge."))
                }
                guard let user = try await tenant.user(request.userID), user.status == .active else {
                    return .refused(.invalidGrant("The person's account is no longer active."))
                }
                let (grant, refresh) = try await tenant.startOAuthGrant(request, code: code, client: client, by: call.audit)
                let person = TokenIssuer.Person(user: user, groups: try await tenant.groupNames(ofUser: user.id))
                return .granted(grant, person, request, refreshToken: refresh)
            }
        }
        switch exchange {
        case .refused(let error): throw error
        case .granted(let grant, let person, let request, let refresh):
            return try await call.issuer.forPerson(person, client: client, grantID: grant.id, scope: grant.scope,
                                                   authTime: grant.authTime, amr: grant.amr, nonce: request.nonce,
                                                   refreshToken: refresh, sid: grant.sid)
        }
    }

    /// RFC 7636 section 4.6: BASE64URL(SHA256(verifier)) equals the challenge, compared in constant time.
    static func pkceMatches(verifier: String, challenge: String) -> Bool {
        guard (43...128).contains(verifier.utf8.count),
              verifier.utf8.allSatisfy({ $0 < 0x80 && (CharacterSet.alphanumerics.contains(Unicode.Scalar($0)) || "-._~".utf8.contains($0)) })
        else { return false }
        let digest = Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncoded
        return constantTimeEquals(digest, challenge)
    }

    private enum Rotation: Sendable {
        case refused(OAuthError)
        case rotated(OAuthGrant, TokenIssuer.Person, refreshToken: String)
    }

    private func refresh(_ call: Call) async throws -> TokenIssuer.Issued {
        guard let token = call.form["refresh_token"].flatMap({ SecretToken(parsing: $0, as: .refreshToken) }) else {
            throw OAuthError.invalidGrant("The refresh token is missing or malformed.")
        }
        let client = call.client
        let rotation = try await services.database.write(org: call.organization.id) { tenant -> Rotation in
            switch try await tenant.rotateRefreshToken(token, clientID: client.id, by: call.audit) {
            case .invalid: return .refused(.invalidGrant("The refresh token is unknown, expired or revoked, or the person's access ended."))
            case .replayed: return .refused(.invalidGrant("The refresh token was already used; every token of its grant is revoked."))
            case .rotated(let grant, let refresh):
                guard let user = try await tenant.user(grant.userID) else {
                    return .refused(.invalidGrant("The person's account no longer exists."))
                }
                let person = TokenIssuer.Person(user: user, groups: try await tenant.groupNames(ofUser: user.id))
                return .rotated(grant, person, refreshToken: refresh)
            }
        }
        switch rotation {
        case .refused(let error): throw error
        case .rotated(let grant, let person, let refresh):
            let scope = try Self.narrowed(call.form["scope"], within: grant.scope)
            return try await call.issuer.forPerson(person, client: client, grantID: grant.id, scope: scope,
                                                   authTime: grant.authTime, amr: grant.amr, nonce: nil, refreshToken: refresh,
                                                   sid: grant.sid)
        }
    }

    /// A refresh may ask for fewer scopes than the grant holds, never more (RFC 6749 section 6).
    static func narrowed(_ requested: String?, within granted: [String]) throws -> [String] {
        guard let requested else { return granted }
        let scopes = requested.split(separator: " ").map(String.init)
        guard !scopes.isEmpty, scopes.allSatisfy(granted.contains) else {
            throw OAuthError(error: "invalid_scope", description: "A refresh can only keep or narrow the granted scopes.")
        }
        return scopes
    }

    /// Scopes that name a person's data; a client acting for itself gets none of them.
    static let personScopes: Set<String> = ["openid", "profile", "email", "groups", "offline_access"]

    private func clientCredentials(_ call: Call) async throws -> TokenIssuer.Issued {
        guard call.client.type == .confidential else {
            throw OAuthError(error: "unauthorized_client", description: "A public client cannot use client_credentials.")
        }
        let allowed = call.client.scopes.filter { !Self.personScopes.contains($0) }
        let scope: [String]
        if let requested = call.form["scope"] {
            scope = requested.split(separator: " ").map(String.init)
            guard scope.allSatisfy(allowed.contains) else {
                throw OAuthError(error: "invalid_scope", description: "The client may ask only for its service scopes: \(allowed.joined(separator: " ")).")
            }
        } else {
            scope = allowed
        }
        return try await call.issuer.forClient(call.client, scope: scope)
    }

    // MARK: - Revocation and introspection

    /// RFC 7009: a refresh token or access token of the calling client ends its whole grant.
    /// The answer is 200 whether or not the token was known, so it reveals nothing.
    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await answering {
            let call = try await call(request, context)
            guard let presented = call.form["token"] else { throw OAuthError.invalidRequest("token is required.") }
            if let grantID = try await grantID(of: presented, call: call), grantID.clientID == call.client.id {
                try await services.database.write(org: call.organization.id) { tenant in
                    try await tenant.revokeOAuthGrant(grantID.id, reason: "revoked_by_client", by: call.audit)
                }
            }
            return OAuthJSON.response([String: String]())
        }
    }

    private func grantID(of presented: String, call: Call) async throws -> (id: String, clientID: String)? {
        if let refresh = SecretToken(parsing: presented, as: .refreshToken) {
            let found = try await services.database.read(org: call.organization.id) { try await $0.oauthGrant(refreshToken: refresh) }
            return found.map { ($0.0.id, $0.0.clientID) }
        }
        let claims = try await keyring.verify(presented, orgID: call.organization.id, type: AccessTokenClaims.type,
                                              as: AccessTokenClaims.self)
        guard let claims, claims.orgID == call.organization.id, let grantID = claims.grantID else { return nil }
        return (grantID, claims.clientID)
    }

    struct Introspection: Encodable, Sendable {
        let active: Bool
        var scope: String?
        var client_id: String?
        var sub: String?
        var exp: Int64?
        var iat: Int64?
        var iss: String?
        var aud: String?
        var token_type: String?
        var org_id: String?

        static let inactive = Introspection(active: false)
    }

    /// RFC 7662, for confidential clients of the organisation (resource servers). Anything
    /// not a live token of this organisation is `{"active": false}`.
    @Sendable func introspect(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await answering {
            let call = try await call(request, context)
            guard call.client.type == .confidential else {
                throw OAuthError(error: "unauthorized_client", description: "Only a confidential client may introspect tokens.",
                                 status: .forbidden)
            }
            guard let presented = call.form["token"] else { throw OAuthError.invalidRequest("token is required.") }
            return OAuthJSON.response(try await introspection(of: presented, call: call))
        }
    }

    private func introspection(of presented: String, call: Call) async throws -> Introspection {
        let orgID = call.organization.id
        if let refresh = SecretToken(parsing: presented, as: .refreshToken) {
            let found = try await services.database.read(org: orgID) { tenant -> (OAuthGrant, Timestamp)? in
                guard let (grant, expiresAt, used) = try await tenant.oauthGrant(refreshToken: refresh), !used,
                      expiresAt > .now(), try await tenant.oauthGrantIsLive(grant.id) else { return nil }
                return (grant, expiresAt)
            }
            guard let (grant, expiresAt) = found else { return .inactive }
            return Introspection(active: true, scope: grant.scope.joined(separator: " "), client_id: grant.clientID,
                                 sub: grant.userID, exp: expiresAt.microseconds / 1_000_000, iat: nil,
                                 iss: call.issuer.issuer, aud: grant.clientID, token_type: "refresh_token", org_id: orgID)
        }
        guard let claims = try await keyring.verify(presented, orgID: orgID, type: AccessTokenClaims.type, as: AccessTokenClaims.self),
              claims.orgID == orgID, claims.iss == call.issuer.issuer else { return .inactive }
        if let grantID = claims.grantID {
            guard try await services.database.read(org: orgID, { try await $0.oauthGrantIsLive(grantID) }) else { return .inactive }
        } else {
            guard try await services.database.read(org: orgID, { try await $0.oauthClient(claims.clientID) }) != nil else {
                return .inactive
            }
        }
        return Introspection(active: true, scope: claims.scope, client_id: claims.clientID, sub: claims.sub, exp: claims.exp,
                             iat: claims.iat, iss: claims.iss, aud: claims.aud, token_type: "Bearer", org_id: orgID)
    }
}
