import Foundation
import JWTKit
import RampartCore

/// The claims of a token Rampart signs: valid until `exp`, and its signature, type and key are
/// checked before jwt-kit calls `verify` (`OIDCKeyring.verify`).
protocol ExpiringClaims: JWTPayload {
    var exp: Int64 { get }
}

extension ExpiringClaims {
    func verify(using _: some JWTAlgorithm) throws {
        guard Int64(Date().timeIntervalSince1970) < exp else { throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "expired") }
    }
}

/// An access token as a JWT (RFC 9068): products check it with the JWKS alone; userinfo and
/// introspection also check that its grant is still live.
struct AccessTokenClaims: ExpiringClaims, Equatable {
    let iss: String
    let sub: String
    let aud: String
    let exp: Int64
    let iat: Int64
    let jti: String
    let clientID: String
    let scope: String
    let authTime: Int64?
    let acr: String?
    let amr: [String]?
    let orgID: String
    /// The grant behind a person's token; nil for a client's own (`client_credentials`).
    let grantID: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, jti, scope, acr, amr
        case clientID = "client_id", authTime = "auth_time", orgID = "org_id", grantID = "grant_id"
    }

    static let type = "at+jwt"

    var scopes: [String] { scope.split(separator: " ").map(String.init) }
}

/// The ID token of OpenID Connect Core section 2, with the person's claims the scopes allow.
struct IDTokenClaims: ExpiringClaims {
    let iss: String
    let sub: String
    let aud: String
    let exp: Int64
    let iat: Int64
    let authTime: Int64
    let nonce: String?
    let acr: String
    let amr: [String]
    let azp: String
    let orgID: String
    let email: String?
    let emailVerified: Bool?
    let name: String?
    let groups: [String]?
    /// The Rampart session it came from (Back-Channel Logout 1.0 section 2.1).
    var sid: String? = nil

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nonce, acr, amr, azp, email, name, groups, sid
        case authTime = "auth_time", orgID = "org_id", emailVerified = "email_verified"
    }
}

/// Authentication context classes: whether a second factor was part of the sign-in.
enum AuthenticationContext {
    static let password = "urn:rampart:acr:pwd"
    static let multiFactor = "urn:rampart:acr:mfa"

    static func acr(for amr: [String]) -> String { amr.contains("mfa") ? multiFactor : password }
}

/// A logout token (OpenID Connect Back-Channel Logout 1.0 section 2.4): it says which
/// person's session ended, never carries a `nonce`, and lives two minutes.
struct LogoutTokenClaims: ExpiringClaims {
    let iss: String
    let aud: String
    let iat: Int64
    let exp: Int64
    let jti: String
    let sub: String
    let sid: String?
    let events: [String: [String: String]]

    static let type = "logout+jwt"
    static let event = "http://schemas.openid.net/event/backchannel-logout"
    static let lifetimeSeconds: Int64 = 120

    init(iss: String, aud: String, jti: String, sub: String, sid: String?, now: Int64) {
        self.iss = iss; self.aud = aud; self.iat = now; self.exp = now + Self.lifetimeSeconds; self.jti = jti
        self.sub = sub; self.sid = sid; self.events = [Self.event: [:]]
    }
}
