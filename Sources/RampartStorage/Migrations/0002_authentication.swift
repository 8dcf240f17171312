extension Migration {
    /// Authentication for every person: second factors, recovery codes, server-side sessions,
    /// password reset links, sign-in throttling and authentication policies.
    static let authentication = Migration(
        version: 2, name: "authentication",
        tenantTables: ["auth_factors", "recovery_codes", "user_sessions", "mfa_grace", "password_reset_tokens",
                       "sign_in_throttles", "authentication_policies", "authentication_policy_assignments"]
    ) { flavor in
        [
            // One shape for every kind of factor: WebAuthn adds a kind and its settings, not a table.
            // `last_step` is the last accepted TOTP step, advanced only by compare-and-set.
            """
            CREATE TABLE auth_factors (
                org_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL, kind TEXT NOT NULL,
                label TEXT NOT NULL, state TEXT NOT NULL, settings TEXT NOT NULL, sealed_secret \(flavor.blob),
                last_step BIGINT, created_at BIGINT NOT NULL, last_used_at BIGINT,
                PRIMARY KEY (org_id, id))
            """,
            "CREATE INDEX auth_factors_by_user ON auth_factors (org_id, user_id)",
            """
            CREATE TABLE recovery_codes (
                org_id TEXT NOT NULL, user_id TEXT NOT NULL, code_hash TEXT NOT NULL, created_at BIGINT NOT NULL,
                used_at BIGINT,
                PRIMARY KEY (org_id, user_id, code_hash))\(flavor.clusteredByKey)
            """,
            """
            CREATE TABLE user_sessions (
                org_id TEXT NOT NULL, token_hash TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL,
                mfa_completed BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
                idle_timeout_seconds BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, ip TEXT, user_agent TEXT,
                csrf_token TEXT NOT NULL,
                PRIMARY KEY (org_id, token_hash), UNIQUE (org_id, id))
            """,
            // The console signs in through the same sessions as everyone else.
            "DROP TABLE console_sessions",
            // When MFA first applied to a person who had no factor: the start of their grace period.
            """
            CREATE TABLE mfa_grace (
                org_id TEXT NOT NULL, user_id TEXT NOT NULL, started_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, user_id))\(flavor.clusteredByKey)
            """,
            "CREATE INDEX user_sessions_by_user ON user_sessions (org_id, user_id)",
            """
            CREATE TABLE password_reset_tokens (
                org_id TEXT NOT NULL, token_hash TEXT NOT NULL, user_id TEXT NOT NULL, created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL, used_at BIGINT,
                PRIMARY KEY (org_id, token_hash))
            """,
            // `scope` is 'account' (key: user id) or 'address' (key: source IP).
            """
            CREATE TABLE sign_in_throttles (
                org_id TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, failures BIGINT NOT NULL,
                last_failure_at BIGINT NOT NULL, locked_until BIGINT,
                PRIMARY KEY (org_id, scope, key))\(flavor.clusteredByKey)
            """,
            """
            CREATE TABLE authentication_policies (
                org_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
                is_default BIGINT NOT NULL, settings TEXT NOT NULL, created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, name_key))
            """,
            // A user or group has at most one policy assigned.
            """
            CREATE TABLE authentication_policy_assignments (
                org_id TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT NOT NULL, policy_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, target_type, target_id))\(flavor.clusteredByKey)
            """,
        ]
    }
}
