import Foundation
import JWTKit
import RampartCore
import RampartStorage

/// A `private_key_jwt` client proving itself with a JWT it signed (OpenID Connect Core
/// section 9, RFC 7523 section 3): checked by jwt-kit against the client's registered keys
/// only, for the algorithms its key types allow, and accepted once. Every failure is the same
/// `invalid_client`, so an answer tells nothing about the keys or which check failed.
struct ClientAssertion: Sendable {
    static let type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    /// How far ahead `exp` may be: an hour, the default of common client libraries (authlib
    /// signs `iat + 3600`); the `jti` register makes a longer life no replay risk, and keeps
    /// each entry no longer than this.
    static let maximumLifetimeSeconds: Double = 3600
    /// The clock difference tolerated between the client and Rampart.
    static let skewSeconds: Double = 60
    static let maximumBytes = 16 * 1024

    let services: RampartServices
    let orgID: String
    /// The audiences the assertion may name: the issuer, the token endpoint, or the endpoint called.
    let audiences: Set<String>

    struct Claims: JWTPayload {
        let iss: String?
        let sub: String?
        let aud: Audience?
        let exp: Double?
        let iat: Double?
        let nbf: Double?
        let jti: String?

        /// Checked by `accepted`, with one clock and one error for all of them.
        func verify(using _: some JWTAlgorithm) async throws {}
    }

    /// A single audience or a list of them (RFC 7519 section 4.1.3).
    struct Audience: Codable, Sendable {
        let values: [String]

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let one = try? c.decode(String.self) { values = [one] } else { values = try c.decode([String].self) }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(values)
        }
    }

    /// The client the assertion proves, or nil. `formClientID` is the `client_id` sent beside it, if any.
    func authenticate(_ token: String, formClientID: String?) async throws -> OAuthClient? {
        guard token.utf8.count <= Self.maximumBytes, let unverified = Self.unverifiedClaims(token),
              let clientID = unverified.sub, formClientID == nil || formClientID == clientID,
              let header = OIDCKeyring.header(of: token), let alg = header.alg,
              OAuthClientJWKS.assertionAlgorithms.contains(alg) else { return nil }
        guard let client = try await services.database.read(org: orgID, { try await $0.oauthClient(clientID) }),
              client.authMethod == .privateKeyJWT, let jwks = client.jwks else { return nil }
        var verified: Claims?
        for key in jwks.keys where key.algorithms.contains(alg) && (header.kid == nil || header.kid == key.kid) {
            guard let collection = await SingleKeyCollection.make(key, alg: alg) else { continue }
            if let claims = try? await collection.verify(token, as: Claims.self) {
                verified = claims
                break
            }
        }
        guard let claims = verified, let expiresAt = accepted(claims, clientID: client.id) else { return nil }
        let fresh = try await services.database.write(org: orgID) {
            try await $0.useOAuthClientAssertion(clientID: client.id, jti: claims.jti ?? "", expiresAt: expiresAt)
        }
        return fresh ? client : nil
    }

    /// Until when the assertion's `jti` must be remembered, if its claims are acceptable now.
    private func accepted(_ claims: Claims, clientID: String) -> Timestamp? {
        let now = Date().timeIntervalSince1970
        guard claims.iss == clientID, claims.sub == clientID,
              let audience = claims.aud?.values, audience.contains(where: audiences.contains),
              let exp = claims.exp, exp > now - Self.skewSeconds, exp <= now + Self.maximumLifetimeSeconds + Self.skewSeconds,
              (claims.iat ?? now) <= now + Self.skewSeconds, (claims.nbf ?? now) <= now + Self.skewSeconds,
              let jti = claims.jti, (1...256).contains(jti.utf8.count) else { return nil }
        // Kept past the skew, so the entry outlives every moment the assertion could pass.
        return Timestamp(Date(timeIntervalSince1970: exp + Self.skewSeconds))
    }

    /// The claims before the signature is checked: only to find which client's keys to check it with.
    private static func unverifiedClaims(_ token: String) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: String(parts[1])) else { return nil }
        return try? JSONDecoder().decode(Claims.self, from: data)
    }
}
