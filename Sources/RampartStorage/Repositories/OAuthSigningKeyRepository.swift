import Crypto
import Foundation
import RampartCore
import SQLKit

/// A token signing key of the organisation's OpenID Connect provider. The private key is
/// sealed with the organisation's data key; the newest unretired key signs, and retired
/// keys stay published for verification until the tokens they signed have expired.
public struct OAuthSigningKey: Sendable {
    public let kid: String
    public let algorithm: String
    public let privateKey: P256.Signing.PrivateKey
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
            ORDER BY created_at DESC, kid DESC
            """).all()
        var found: [OAuthSigningKey] = []
        for row in stored {
            let kid = try row.string("kid")
            let raw = try await keys.open(try row.string("sealed_private_key"), in: self, table: "oauth_signing_keys",
                                          row: kid, column: "sealed_private_key")
            found.append(OAuthSigningKey(kid: kid, algorithm: try row.string("algorithm"),
                                         privateKey: try P256.Signing.PrivateKey(rawRepresentation: raw),
                                         createdAt: try row.timestamp("created_at"), retiredAt: try row.optionalTimestamp("retired_at")))
        }
        return found
    }

    /// The organisation's first signing key, made when a token is first signed. Two nodes
    /// racing here both add one; the newer signs and both are published, which is harmless.
    public func ensureOAuthSigningKey(keys: KeyService) async throws {
        let live = try await sql.raw("""
            SELECT kid FROM oauth_signing_keys WHERE org_id = \(bind: orgID) AND retired_at IS NULL
            """).first()
        if live == nil { _ = try await insertSigningKey(keys: keys, at: clock()) }
    }

    /// A new signing key takes over at once; the one before is retired but stays published.
    public func rotateOAuthSigningKey(keys: KeyService, by context: AuditContext) async throws -> OAuthSigningKey {
        let now = clock()
        let retired = try await sql.raw("""
            UPDATE oauth_signing_keys SET retired_at = \(bind: now.microseconds)
            WHERE org_id = \(bind: orgID) AND retired_at IS NULL RETURNING kid
            """).all().map { try $0.string("kid") }
        let key = try await insertSigningKey(keys: keys, at: now)
        try await appendAudit([context.record(.oauthSigningKeyRotated, [], details: AuditDetails([
            "kid": .string(key.kid), "retiredKids": .array(retired.map(JSONValue.string)),
        ]), at: now)])
        return key
    }

    private func insertSigningKey(keys: KeyService, at now: Timestamp) async throws -> OAuthSigningKey {
        let privateKey = P256.Signing.PrivateKey()
        let kid = Identifier.make()
        let sealed = try await keys.seal(privateKey.rawRepresentation, in: self, table: "oauth_signing_keys", row: kid,
                                         column: "sealed_private_key")
        try await sql.raw("""
            INSERT INTO oauth_signing_keys (org_id, kid, algorithm, sealed_private_key, created_at)
            VALUES (\(bind: orgID), \(bind: kid), 'ES256', \(bind: sealed), \(bind: now.microseconds))
            """).run()
        return OAuthSigningKey(kid: kid, algorithm: "ES256", privateKey: privateKey, createdAt: now, retiredAt: nil)
    }
}
