import Crypto
import Foundation
import JWTKit
import RampartCore

/// An upstream provider's ID token checked as OpenID Connect Core section 3.1.3.7 asks: the
/// signature by jwt-kit with one of the provider's published keys and an allowlisted
/// algorithm (never `none`, never an HMAC whose key would be public), then iss, aud, azp,
/// exp, iat and nonce, and the Entra tenant and Google hosted-domain rules.
struct UpstreamIDToken: Sendable {
    static let allowedAlgorithms: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
    static let skewSeconds: Double = 120
    static let maximumBytes = 32 * 1024

    /// The verified claims, any names: the attribute mapping decides which it reads.
    let claims: [String: JSONValue]

    struct Expectations: Sendable {
        /// The configured issuer; for Entra's template, with `{tenantid}`.
        let issuer: String
        let clientID: String
        let nonceHash: String
        let allowedTenants: [String]
        let hostedDomain: String?
    }

    struct Header: Decodable {
        let alg: String?
        let kid: String?
    }

    /// Every claim, as jwt-kit hands it over once the signature holds.
    struct Claims: JWTPayload {
        let values: [String: JSONValue]
        init(from decoder: any Decoder) throws { values = try decoder.singleValueContainer().decode([String: JSONValue].self) }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(values)
        }
        func verify(using _: some JWTAlgorithm) async throws {}
    }

    static func verify(_ token: String, expecting expected: Expectations, jwksURI: String,
                       cache: UpstreamOIDCCache) async throws(SSOFailure) -> UpstreamIDToken {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= maximumBytes, parts.count == 3, let headerData = Data(base64URLEncoded: String(parts[0])),
              let header = try? JSONDecoder().decode(Header.self, from: headerData) else { throw SSOFailure(.idTokenMalformed) }
        guard let alg = header.alg, allowedAlgorithms.contains(alg) else { throw SSOFailure(.algorithmNotAllowed) }
        var keys = try await cache.keys(jwksURI: jwksURI)
        if let kid = header.kid, !keys.contains(where: { $0.kid == kid }) {
            keys = try await cache.keys(jwksURI: jwksURI, refreshFor: kid)
        }
        let candidates = keys.filter { key in
            (header.kid == nil || key.kid == header.kid) && (key.alg == nil || key.alg == alg)
                && (alg.hasPrefix("ES") ? key.kty == "EC" : key.kty == "RSA")
        }
        guard !candidates.isEmpty else { throw SSOFailure(header.kid == nil ? .badSignature : .unknownKey) }
        var verified: Claims?
        for key in candidates {
            guard let collection = await SingleKeyCollection.make(key, alg: alg) else { continue }
            if let claims = try? await collection.verify(token, as: Claims.self) {
                verified = claims
                break
            }
        }
        guard let claims = verified?.values else { throw SSOFailure(.badSignature) }
        try check(claims, expected)
        return UpstreamIDToken(claims: claims)
    }

    private static func check(_ claims: [String: JSONValue], _ expected: Expectations) throws(SSOFailure) {
        let now = Date().timeIntervalSince1970
        let tenant = string(claims["tid"])
        let issuer = string(claims["iss"])
        if expected.issuer.contains(OIDCProviderSettings.tenantPlaceholder) {
            guard let tenant, issuer == expected.issuer.replacingOccurrences(of: OIDCProviderSettings.tenantPlaceholder, with: tenant)
            else { throw SSOFailure(.wrongIssuer) }
        } else if issuer != expected.issuer {
            throw SSOFailure(.wrongIssuer)
        }
        let audiences: [String] = switch claims["aud"] {
        case .string(let one)?: [one]
        case .array(let many)?: many.compactMap { string($0) }
        default: []
        }
        guard audiences.contains(expected.clientID) else { throw SSOFailure(.wrongAudience) }
        let azp = string(claims["azp"])
        if audiences.count > 1 || azp != nil {
            guard azp == expected.clientID else { throw SSOFailure(.wrongAuthorizedParty) }
        }
        guard let exp = number(claims["exp"]), exp > now - skewSeconds else { throw SSOFailure(.expired) }
        guard let iat = number(claims["iat"]), iat <= now + skewSeconds else { throw SSOFailure(.issuedInFuture) }
        guard let nonce = string(claims["nonce"]),
              constantTimeEquals(SSOHash.of(nonce), expected.nonceHash) else { throw SSOFailure(.nonceMismatch) }
        if !expected.allowedTenants.isEmpty {
            guard let tenant, expected.allowedTenants.contains(tenant.lowercased()) else { throw SSOFailure(.tenantNotAllowed) }
        }
        if let hostedDomain = expected.hostedDomain {
            guard string(claims["hd"])?.lowercased() == hostedDomain else { throw SSOFailure(.hostedDomainMismatch) }
        }
        guard let sub = string(claims["sub"]), !sub.isEmpty, sub.utf8.count <= 255 else { throw SSOFailure(.subjectMissing) }
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let n)?: Double(n)
        default: nil
        }
    }

    static func bool(_ value: JSONValue?) -> Bool {
        switch value {
        case .bool(let b)?: b
        case .string(let s)?: s == "true"  // some providers send the string
        default: false
        }
    }
}

/// SHA-256 in hex, for the values Rampart keeps only to compare (state, nonce, browser cookie).
enum SSOHash {
    static func of(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
