extension Migration {
    /// Each organisation's audit retention: how many days events are kept, a legal hold that
    /// suspends purging, and how far the log has been purged. `purged_through_seq` and
    /// `purged_through_hash` are the signed checkpoint the remaining log verifies from. An
    /// organisation without a row keeps the defaults and has purged nothing.
    static let auditRetention = Migration(version: 16, name: "audit_retention", tenantTables: ["audit_retention"]) { _ in
        [
            """
            CREATE TABLE audit_retention (
                org_id TEXT NOT NULL PRIMARY KEY, retention_days INTEGER NOT NULL, legal_hold INTEGER NOT NULL,
                legal_hold_reason TEXT, legal_hold_since BIGINT, purged_through_seq BIGINT NOT NULL,
                purged_through_hash TEXT NOT NULL, last_purge_at BIGINT, updated_at BIGINT NOT NULL)
            """,
        ]
    }
}
