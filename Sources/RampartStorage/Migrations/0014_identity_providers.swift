extension Migration {
    /// Upstream identity providers and what federated sign-in keeps between the browser's trips:
    /// - `identity_providers`: settings as JSON (`settings`), the OIDC client secret sealed
    ///   apart (`client_secret`, bound to its row and column), never returned.
    /// - `sso_signin_attempts`: one per started sign-in, keyed by the SHA-256 of its `state`
    ///   (OIDC) or RelayState (SAML); the browser that started it holds a cookie whose hash is
    ///   `browser_hash`; the nonce is kept hashed, the PKCE verifier sealed; `saml_request_id`
    ///   is the AuthnRequest ID an InResponseTo must name. Used once (`used_at`), then expired.
    /// - `sso_assertion_ids`: SAML assertion IDs already accepted, until they expire, in the
    ///   database so every node refuses a replay.
    /// - `external_identities`: which user a provider's subject is, and the groups the provider
    ///   last put them in (`synced_groups`), so a later sign-in removes only those.
    static let identityProviders = Migration(
        version: 14, name: "identity_providers",
        tenantTables: ["identity_providers", "sso_signin_attempts", "sso_assertion_ids", "external_identities"]
    ) { flavor in
        [
            """
            CREATE TABLE identity_providers (
                org_id TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, preset TEXT NOT NULL, name TEXT NOT NULL,
                domains TEXT NOT NULL, enabled BIGINT NOT NULL, jit BIGINT NOT NULL, group_match TEXT NOT NULL,
                attributes TEXT NOT NULL, trust_idp_mfa BIGINT NOT NULL, settings TEXT NOT NULL, client_secret TEXT,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, id))
            """,
            """
            CREATE TABLE sso_signin_attempts (
                org_id TEXT NOT NULL, id TEXT NOT NULL, provider_id TEXT NOT NULL, browser_hash TEXT NOT NULL,
                nonce_hash TEXT, pkce_verifier TEXT, saml_request_id TEXT, return_to TEXT, test_mode BIGINT NOT NULL,
                created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT, result TEXT,
                PRIMARY KEY (org_id, id))
            """,
            "CREATE INDEX sso_signin_attempts_by_request ON sso_signin_attempts (org_id, provider_id, saml_request_id)",
            "CREATE INDEX sso_signin_attempts_by_expiry ON sso_signin_attempts (org_id, expires_at)",
            """
            CREATE TABLE sso_assertion_ids (
                org_id TEXT NOT NULL, provider_id TEXT NOT NULL, assertion_id TEXT NOT NULL, expires_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, provider_id, assertion_id))\(flavor.clusteredByKey)
            """,
            """
            CREATE TABLE external_identities (
                org_id TEXT NOT NULL, provider_id TEXT NOT NULL, subject TEXT NOT NULL, user_id TEXT NOT NULL,
                synced_groups TEXT NOT NULL, created_at BIGINT NOT NULL, last_signin_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, provider_id, subject))
            """,
            "CREATE INDEX external_identities_by_user ON external_identities (org_id, user_id)",
        ]
    }
}
