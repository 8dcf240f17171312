extension Migration {
    /// Organisations, the directory, credentials, keys and the audit log.
    /// Every tenant table leads its primary key with `org_id`, so it can later be distributed by it.
    static let foundation = Migration(
        version: 1, name: "foundation",
        tenantTables: ["users", "role_assignments", "user_groups", "group_members", "products", "product_access",
                       "api_tokens", "user_passwords", "setup_links", "console_sessions", "org_keys",
                       "audit_heads", "audit_events", "audit_event_targets"]
    ) { flavor in
        [
            """
            CREATE TABLE organizations (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, region TEXT NOT NULL,
                created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE users (
                org_id TEXT NOT NULL, id TEXT NOT NULL, email TEXT NOT NULL, display_name TEXT NOT NULL,
                status TEXT NOT NULL, created_at BIGINT NOT NULL, last_active_at BIGINT,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, email))
            """,
            """
            CREATE TABLE role_assignments (
                org_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL, created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, user_id, role))\(flavor.clusteredByKey)
            """,
            """
            CREATE TABLE user_groups (
                org_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
                description TEXT NOT NULL, created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, name_key))
            """,
            """
            CREATE TABLE group_members (
                org_id TEXT NOT NULL, group_id TEXT NOT NULL, user_id TEXT NOT NULL, created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, group_id, user_id))\(flavor.clusteredByKey)
            """,
            "CREATE INDEX group_members_by_user ON group_members (org_id, user_id)",
            """
            CREATE TABLE products (
                org_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
                kind TEXT NOT NULL, url TEXT NOT NULL, created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, name_key))
            """,
            """
            CREATE TABLE product_access (
                org_id TEXT NOT NULL, product_id TEXT NOT NULL, group_id TEXT NOT NULL, created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, product_id, group_id))\(flavor.clusteredByKey)
            """,
            "CREATE INDEX product_access_by_group ON product_access (org_id, group_id)",
            """
            CREATE TABLE api_tokens (
                org_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
                token_hash TEXT NOT NULL, created_by TEXT, created_at BIGINT NOT NULL, expires_at BIGINT,
                last_used_at BIGINT, revoked_at BIGINT,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, token_hash))
            """,
            """
            CREATE TABLE user_passwords (
                org_id TEXT NOT NULL, user_id TEXT NOT NULL, password_hash TEXT NOT NULL, updated_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, user_id))
            """,
            """
            CREATE TABLE setup_links (
                org_id TEXT NOT NULL, token_hash TEXT NOT NULL, user_id TEXT NOT NULL, created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL, used_at BIGINT,
                PRIMARY KEY (org_id, token_hash))
            """,
            """
            CREATE TABLE console_sessions (
                org_id TEXT NOT NULL, token_hash TEXT NOT NULL, user_id TEXT NOT NULL, csrf_token TEXT NOT NULL,
                created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, token_hash))
            """,
            """
            CREATE TABLE org_keys (
                org_id TEXT NOT NULL, version BIGINT NOT NULL, wrapped_key TEXT NOT NULL, kek_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, version))
            """,
            """
            CREATE TABLE audit_heads (
                org_id TEXT NOT NULL, last_seq BIGINT NOT NULL, last_hash TEXT NOT NULL,
                PRIMARY KEY (org_id))\(flavor.clusteredByKey)
            """,
            """
            CREATE TABLE audit_events (
                org_id TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL, occurred_at BIGINT NOT NULL,
                action TEXT NOT NULL, outcome TEXT NOT NULL, actor_type TEXT NOT NULL, actor_id TEXT,
                actor_name TEXT, actor_ip TEXT, actor_user_agent TEXT, targets TEXT NOT NULL, request_id TEXT,
                details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
                PRIMARY KEY (org_id, seq))
            """,
            "CREATE INDEX audit_events_by_action ON audit_events (org_id, action, seq)",
            "CREATE INDEX audit_events_by_actor ON audit_events (org_id, actor_id, seq)",
            "CREATE INDEX audit_events_by_time ON audit_events (org_id, occurred_at)",
            """
            CREATE TABLE audit_event_targets (
                org_id TEXT NOT NULL, target_id TEXT NOT NULL, seq BIGINT NOT NULL,
                PRIMARY KEY (org_id, target_id, seq))\(flavor.clusteredByKey)
            """,
        ]
    }
}
