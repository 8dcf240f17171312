extension Migration {
    /// The OpenID Connect provider: products' OAuth clients, the organisation's token signing
    /// keys, and what a sign-in to a product leaves behind. A grant is one authorization of one
    /// client by one person; its refresh tokens form a family that dies together. Codes and
    /// refresh tokens are stored as SHA-256 hashes only; signing keys are sealed.
    static let oauth = Migration(version: 6, name: "oauth",
                                 tenantTables: ["oauth_clients", "oauth_signing_keys", "oauth_grants", "oauth_codes",
                                                "oauth_refresh_tokens"]) { _ in
        [
            """
            CREATE TABLE oauth_clients (
                org_id TEXT NOT NULL, id TEXT NOT NULL, product_id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
                client_type TEXT NOT NULL, auth_method TEXT NOT NULL, first_party BIGINT NOT NULL,
                redirect_uris TEXT NOT NULL, post_logout_redirect_uris TEXT NOT NULL, scopes TEXT NOT NULL,
                secret_hash TEXT, previous_secret_hash TEXT, previous_secret_expires_at BIGINT,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, name_key))
            """,
            """
            CREATE TABLE oauth_signing_keys (
                org_id TEXT NOT NULL, kid TEXT NOT NULL, algorithm TEXT NOT NULL, sealed_private_key TEXT NOT NULL,
                created_at BIGINT NOT NULL, retired_at BIGINT,
                PRIMARY KEY (org_id, kid))
            """,
            """
            CREATE TABLE oauth_grants (
                org_id TEXT NOT NULL, id TEXT NOT NULL, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
                scope TEXT NOT NULL, auth_time BIGINT NOT NULL, amr TEXT NOT NULL, created_at BIGINT NOT NULL,
                last_used_at BIGINT NOT NULL, revoked_at BIGINT, revoked_reason TEXT,
                PRIMARY KEY (org_id, id))
            """,
            "CREATE INDEX oauth_grants_by_user ON oauth_grants (org_id, user_id)",
            """
            CREATE TABLE oauth_codes (
                org_id TEXT NOT NULL, code_hash TEXT NOT NULL, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
                redirect_uri TEXT NOT NULL, scope TEXT NOT NULL, nonce TEXT, code_challenge TEXT NOT NULL,
                auth_time BIGINT NOT NULL, amr TEXT NOT NULL, expires_at BIGINT NOT NULL, grant_id TEXT,
                used_at BIGINT,
                PRIMARY KEY (org_id, code_hash))
            """,
            """
            CREATE TABLE oauth_refresh_tokens (
                org_id TEXT NOT NULL, token_hash TEXT NOT NULL, grant_id TEXT NOT NULL, created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL, used_at BIGINT,
                PRIMARY KEY (org_id, token_hash))
            """,
            "CREATE INDEX oauth_refresh_tokens_by_grant ON oauth_refresh_tokens (org_id, grant_id)",
            // How a session was proven (RFC 8176 values), for the amr claim of the tokens it leads to.
            "ALTER TABLE user_sessions ADD COLUMN amr TEXT",
        ]
    }
}
