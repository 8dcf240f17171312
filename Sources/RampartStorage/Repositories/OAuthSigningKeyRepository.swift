import Crypto
import CryptoExtras
import Foundation
import RampartCore
import SQLKit

/// A token signing key of the organisation's OpenID Connect provider. The private key is
/// sealed with the organisation's data key; the newest unretired key of each algorithm
/// signs, and retired keys stay published for verification until the tokens they signed
/// have expired. Each organisation has an ES256 key and an RSA-2048 key (RS256, for the
/// clients that ask for it); they are made and rotated together.
public struct OAuthSigningKey: Sendable {
    public enum PrivateKey: Sendable {
        case es256(P256.Signing.PrivateKey)
        case rs256(_RSA.Signing.PrivateKey)
    }

    public let kid: String
    public let algorithm: String
    public let privateKey: PrivateKey
    public let createdAt: Timestamp
    public let retiredAt: Timestamp?
}

extension Tenant {
    /// How long a retired key stays in the JWKS: well past the lifetime of any token it signed.
    public static let retiredSigningKeyPublishedSeconds: Double = 86_400

    /// The keys to publish, newest first.
    public func oauthSigningKeys(keys: KeyService) async throws -> [OAuthSigningKey] {
        let now = clock()
        let stored = try await sql.raw("""
            SELECT kid, algorithm, sealed_private_key, created_at, retired_at FROM oauth_signing_keys
            WHERE org_id = \(bind: orgID) AND (retired_at IS NULL OR retired_at > \(bind: now.adding(seconds: -Self.retiredSigningKeyPublishedSeconds).microseconds))
            ORDER BY created_at DESC, algorithm, kid DESC
            """).all()
        var found: [OAuthSigningKey] = []
        for row in stored {
            let kid = try row.string("kid")
            let raw = try await keys.open(try row.string("sealed_private_key"), in: self, table: "oauth_signing_keys",
                                          row: kid, column: "sealed_private_key")
            let algorithm = try row.string("algorithm")
            let privateKey: OAuthSigningKey.PrivateKey = algorithm == "RS256"
                ? .rs256(try _RSA.Signing.PrivateKey(derRepresentation: raw))
                : .es256(try P256.Signing.PrivateKey(rawRepresentation: raw))
            found.append(OAuthSigningKey(kid: kid, algorithm: algorithm, privateKey: privateKey,
                                         createdAt: try row.timestamp("created_at"), retiredAt: try row.optionalTimestamp("retired_at")))
        }
        return found
    }

    /// The algorithms every organisation has a live key for.
    public static let signingAlgorithms = ["ES256", "RS256"]

    /// The organisation's first signing keys, made when a token is first signed (and the RSA
    /// key of an organisation whose ES256 key predates it). Two nodes racing here both add
    /// one; the newer signs and both are published, which is harmless.
    public func ensureOAuthSigningKey(keys: KeyService) async throws {
        let live = Set(try await sql.raw("""
            SELECT algorithm FROM oauth_signing_keys WHERE org_id = \(bind: orgID) AND retired_at IS NULL
            """).all().map { try $0.string("algorithm") })
        let now = clock()
        for algorithm in Self.signingAlgorithms where !live.contains(algorithm) {
            _ = try await insertSigningKey(algorithm, keys: keys, at: now)
        }
    }

    /// New signing keys (one of each algorithm) take over at once; the ones before are
    /// retired but stay published. Returns the new ES256 key; the RS256 one is in the event.
    public func rotateOAuthSigningKey(keys: KeyService, by context: AuditContext) async throws -> OAuthSigningKey {
        let now = clock()
        let retired = try await sql.raw("""
            UPDATE oauth_signing_keys SET retired_at = \(bind: now.microseconds)
            WHERE org_id = \(bind: orgID) AND retired_at IS NULL RETURNING kid
            """).all().map { try $0.string("kid") }
        let key = try await insertSigningKey("ES256", keys: keys, at: now)
        let rsaKey = try await insertSigningKey("RS256", keys: keys, at: now)
        try await appendAudit([context.record(.oauthSigningKeyRotated, [], details: AuditDetails([
            "kid": .string(key.kid), "retiredKids": .array(retired.map(JSONValue.string)),
            "rsaKid": .string(rsaKey.kid),
        ]), at: now)])
        return key
    }

    private func insertSigningKey(_ algorithm: String, keys: KeyService, at now: Timestamp) async throws -> OAuthSigningKey {
        let privateKey: OAuthSigningKey.PrivateKey
        let raw: Data
        if algorithm == "RS256" {
            let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            (privateKey, raw) = (.rs256(rsa), rsa.derRepresentation)
        } else {
            let ec = P256.Signing.PrivateKey()
            (privateKey, raw) = (.es256(ec), ec.rawRepresentation)
        }
        let kid = Identifier.make()
        let sealed = try await keys.seal(raw, in: self, table: "oauth_signing_keys", row: kid, column: "sealed_private_key")
        try await sql.raw("""
            INSERT INTO oauth_signing_keys (org_id, kid, algorithm, sealed_private_key, created_at)
            VALUES (\(bind: orgID), \(bind: kid), \(bind: algorithm), \(bind: sealed), \(bind: now.microseconds))
            """).run()
        return OAuthSigningKey(kid: kid, algorithm: algorithm, privateKey: privateKey, createdAt: now, retiredAt: nil)
    }
}
