extension Migration {
    /// SCIM provisioning: bearer tokens, the SCIM attributes of users and groups beside the
    /// directory's own columns, the provisioning log and the organisation's DELETE setting.
    static let scim = Migration(
        version: 3, name: "scim",
        tenantTables: ["scim_tokens", "scim_users", "scim_groups", "scim_requests", "scim_settings"]
    ) { flavor in
        [
            """
            CREATE TABLE scim_tokens (
                org_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, token_hash TEXT NOT NULL,
                created_by TEXT, created_at BIGINT NOT NULL, last_used_at BIGINT, revoked_at BIGINT,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, token_hash))
            """,
            // `user_name_key` is the lowercased userName: unique per organisation, case-insensitively,
            // and the index the identity providers' `userName eq` lookups use; `externalId` likewise.
            """
            CREATE TABLE scim_users (
                org_id TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL, user_name_key TEXT NOT NULL,
                external_id TEXT, attributes TEXT NOT NULL, updated_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, user_id), UNIQUE (org_id, user_name_key))
            """,
            "CREATE INDEX scim_users_by_external_id ON scim_users (org_id, external_id)",
            """
            CREATE TABLE scim_groups (
                org_id TEXT NOT NULL, group_id TEXT NOT NULL, external_id TEXT, attributes TEXT, updated_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, group_id))
            """,
            "CREATE INDEX scim_groups_by_external_id ON scim_groups (org_id, external_id)",
            """
            CREATE TABLE scim_requests (
                org_id TEXT NOT NULL, id TEXT NOT NULL, occurred_at BIGINT NOT NULL, token_id TEXT,
                method TEXT NOT NULL, path TEXT NOT NULL, resource_type TEXT NOT NULL, resource_id TEXT,
                status BIGINT NOT NULL, scim_type TEXT, detail TEXT,
                PRIMARY KEY (org_id, id))
            """,
            "CREATE INDEX scim_requests_by_time ON scim_requests (org_id, occurred_at)",
            """
            CREATE TABLE scim_settings (
                org_id TEXT NOT NULL, delete_mode TEXT NOT NULL, updated_at BIGINT NOT NULL,
                PRIMARY KEY (org_id))\(flavor.clusteredByKey)
            """,
        ]
    }
}
