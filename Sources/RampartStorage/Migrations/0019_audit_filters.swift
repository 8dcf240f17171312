extension Migration {
    /// The audit log's saved filters: an organisation's named views of the log (search words
    /// and filters), shared by everyone who reads it. `name_key` (the name lowercased) keeps
    /// names unique per organisation in any case. The search words are what people typed to
    /// find events, not personal data taken from events.
    static let auditFilters = Migration(version: 19, name: "audit_filters", tenantTables: ["audit_filters"]) { flavor in
        [
            """
            CREATE TABLE audit_filters (
                org_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
                q TEXT, action TEXT, actor TEXT, target TEXT, since BIGINT, until BIGINT, created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, name_key))\(flavor.clusteredByKey)
            """,
        ]
    }
}
