extension Migration {
    /// Clients that authenticate with a signed JWT (`private_key_jwt`, RFC 7523) instead of a
    /// secret: their public keys, and the `jti` of every assertion seen until it expires, so
    /// that each is accepted once across all nodes. A client may also ask for RS256 tokens;
    /// the organisation's RSA signing key lives beside its ES256 key in `oauth_signing_keys`.
    static let oauthClientKeys = Migration(version: 7, name: "oauth_client_keys",
                                           tenantTables: ["oauth_client_assertions"]) { flavor in
        [
            "ALTER TABLE oauth_clients ADD COLUMN jwks TEXT",
            "ALTER TABLE oauth_clients ADD COLUMN id_token_signing_alg TEXT NOT NULL DEFAULT 'ES256'",
            """
            CREATE TABLE oauth_client_assertions (
                org_id TEXT NOT NULL, client_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, client_id, jti))\(flavor.clusteredByKey)
            """,
            "CREATE INDEX oauth_client_assertions_by_expiry ON oauth_client_assertions (org_id, expires_at)",
        ]
    }
}
