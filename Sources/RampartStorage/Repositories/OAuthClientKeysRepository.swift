import Foundation
import RampartCore
import SQLKit

/// The keys side of an OAuth client: the public JWKS of a `private_key_jwt` client, the
/// algorithm its tokens are signed with, and the register of client assertions already used.
extension Tenant {
    /// Applies the method, keys and algorithm of `changes` to `client`, noting them in
    /// `details`. Returns whether the client's secret ends (it moved to `private_key_jwt`).
    func changeKeys(of client: inout OAuthClient, _ changes: OAuthClientChanges, details: inout AuditDetails) throws -> Bool {
        var endingSecret = false
        if let raw = changes.authMethod, raw != client.authMethod {
            let method = try OAuthClientRules.authMethod(raw, for: client.type)
            details.change("tokenEndpointAuthMethod", from: .string(client.authMethod.rawValue), to: .string(method.rawValue))
            endingSecret = method == .privateKeyJWT
            if client.authMethod == .privateKeyJWT && changes.jwks == nil {
                details.change("jwks", from: Self.auditKeys(client.jwks), to: .null)
                client.jwks = nil
            }
            client.authMethod = method
        }
        if let jwks = changes.jwks, jwks != client.jwks {
            details.change("jwks", from: Self.auditKeys(client.jwks), to: Self.auditKeys(jwks))
            client.jwks = jwks
        }
        try OAuthClientRules.keys(client.jwks, for: client.authMethod)
        if let alg = changes.idTokenSigningAlg, alg != client.idTokenSigningAlg {
            details.change("idTokenSigningAlg", from: .string(client.idTokenSigningAlg.rawValue), to: .string(alg.rawValue))
            client.idTokenSigningAlg = alg
        }
        return endingSecret
    }

    /// Writes what `changeKeys` set; a client that moved to `private_key_jwt` loses both its
    /// current and its previous secret at once.
    func storeOAuthClientKeys(_ client: OAuthClient, endingSecret: Bool) async throws {
        let ending = Int64(endingSecret ? 1 : 0)
        try await sql.raw("""
            UPDATE oauth_clients SET auth_method = \(bind: client.authMethod.rawValue), jwks = \(bind: client.jwks?.json),
            id_token_signing_alg = \(bind: client.idTokenSigningAlg.rawValue),
            secret_hash = CASE WHEN \(bind: ending) = 1 THEN NULL ELSE secret_hash END,
            previous_secret_hash = CASE WHEN \(bind: ending) = 1 THEN NULL ELSE previous_secret_hash END,
            previous_secret_expires_at = CASE WHEN \(bind: ending) = 1 THEN NULL ELSE previous_secret_expires_at END
            WHERE org_id = \(bind: orgID) AND id = \(bind: client.id)
            """).run()
    }

    static func decodeOAuthClientKeys(_ row: any ColumnReader, into client: inout OAuthClient, from index: Int) throws {
        guard let alg = OAuthTokenSigningAlgorithm(rawValue: try row.text(index + 1)) else {
            throw RampartError(.integrity, "An OAuth client row holds an unknown token signing algorithm.")
        }
        client.idTokenSigningAlg = alg
        client.jwks = try row.optionalText(index).map(OAuthClientJWKS.decode)
    }

    /// Which keys a client has, for the audit trail: their type and kid (public, but the
    /// moduli themselves would only bloat the events).
    static func auditKeys(_ jwks: OAuthClientJWKS?) -> JSONValue {
        guard let jwks else { return .null }
        return .array(jwks.keys.map { key in
            .object(["kty": .string(key.kty), "kid": key.kid.map(JSONValue.string) ?? .null])
        })
    }

    /// Records a client assertion's `jti` until `expiresAt`; false when it was already used.
    /// The primary key decides between two nodes presenting the same assertion at once: the
    /// second insert finds the first's row (PostgreSQL waits for the first to commit) and
    /// inserts nothing. Expired entries of the organisation are removed here, as they pass.
    public func useOAuthClientAssertion(clientID: String, jti: String, expiresAt: Timestamp) async throws -> Bool {
        try await sql.raw("""
            DELETE FROM oauth_client_assertions WHERE org_id = \(bind: orgID) AND expires_at < \(bind: clock().microseconds)
            """).run()
        let inserted = try await sql.raw("""
            INSERT INTO oauth_client_assertions (org_id, client_id, jti, expires_at)
            VALUES (\(bind: orgID), \(bind: clientID), \(bind: jti), \(bind: expiresAt.microseconds))
            ON CONFLICT (org_id, client_id, jti) DO NOTHING RETURNING jti
            """).all()
        return !inserted.isEmpty
    }
}
