import Foundation
import RampartCore
import RampartStorage

/// Makes the tokens a grant or a client receives: a JWT access token (RFC 9068) and, for a
/// person with the `openid` scope, an ID token with the claims their scopes allow.
struct TokenIssuer: Sendable {
    let keyring: OIDCKeyring
    let issuer: String
    let orgID: String

    static let accessTokenLifetimeSeconds: Int64 = 600
    static let idTokenLifetimeSeconds: Int64 = 600

    /// What the person's claims are made of, read in the transaction that issues them.
    struct Person: Sendable {
        let user: User
        let groups: [String]
    }

    struct Issued: Encodable, Sendable {
        let access_token: String
        let token_type = "Bearer"
        let expires_in: Int64
        let scope: String
        let id_token: String?
        let refresh_token: String?
    }

    func forPerson(_ person: Person, client: OAuthClient, grantID: String, scope: [String], authTime: Timestamp, amr: [String],
                   nonce: String?, refreshToken: String?, sid: String? = nil) async throws -> Issued {
        let now = Int64(Date().timeIntervalSince1970)
        let acr = AuthenticationContext.acr(for: amr)
        let access = AccessTokenClaims(
            iss: issuer, sub: person.user.id, aud: client.id, exp: now + Self.accessTokenLifetimeSeconds, iat: now,
            jti: Identifier.make(), clientID: client.id, scope: scope.joined(separator: " "),
            authTime: authTime.microseconds / 1_000_000, acr: acr, amr: amr, orgID: orgID, grantID: grantID)
        var idToken: String?
        if scope.contains("openid") {
            var claims = IDTokenClaims(
                iss: issuer, sub: person.user.id, aud: client.id, exp: now + Self.idTokenLifetimeSeconds, iat: now,
                authTime: authTime.microseconds / 1_000_000, nonce: nonce, acr: acr, amr: amr, azp: client.id, orgID: orgID,
                email: scope.contains("email") ? person.user.email : nil, emailVerified: nil,
                name: scope.contains("profile") ? person.user.displayName : nil,
                groups: scope.contains("groups") ? person.groups : nil)
            claims.sid = sid
            idToken = try await keyring.sign(claims, orgID: orgID, type: "JWT", algorithm: client.idTokenSigningAlg)
        }
        return Issued(access_token: try await keyring.sign(access, orgID: orgID, type: AccessTokenClaims.type,
                                                           algorithm: client.idTokenSigningAlg),
                      expires_in: Self.accessTokenLifetimeSeconds, scope: scope.joined(separator: " "),
                      id_token: idToken, refresh_token: refreshToken)
    }

    /// A token for a service integration itself (`client_credentials`): its subject is the client.
    func forClient(_ client: OAuthClient, scope: [String]) async throws -> Issued {
        let now = Int64(Date().timeIntervalSince1970)
        let access = AccessTokenClaims(
            iss: issuer, sub: client.id, aud: client.id, exp: now + Self.accessTokenLifetimeSeconds, iat: now,
            jti: Identifier.make(), clientID: client.id, scope: scope.joined(separator: " "), authTime: nil, acr: nil,
            amr: nil, orgID: orgID, grantID: nil)
        return Issued(access_token: try await keyring.sign(access, orgID: orgID, type: AccessTokenClaims.type,
                                                           algorithm: client.idTokenSigningAlg),
                      expires_in: Self.accessTokenLifetimeSeconds, scope: scope.joined(separator: " "), id_token: nil,
                      refresh_token: nil)
    }
}
