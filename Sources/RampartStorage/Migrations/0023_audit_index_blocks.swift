extension Migration {
    /// The target and actor indexes keyed by block first (`AuditBlocks`), so that the rows a
    /// batch adds land on a few pages instead of one page per target or actor:
    /// `audit_event_targets` gets `block` (the sequence number shifted right by 14) as the
    /// second column of its key, and `audit_events_by_actor` is rebuilt on the expression
    /// `(seq >> 14)` before the actor, which needs no new column in the log's largest table.
    ///
    /// SQLite cannot change a table's key, so the target table is copied in key order and renamed.
    /// PostgreSQL adds the column and rebuilds the key in place; row-level security is lifted
    /// for the owner while the column is filled, since forced policies hide every row outside
    /// a tenant transaction.
    static let auditIndexBlocks = Migration(version: 23, name: "audit_index_blocks", tenantTables: []) { flavor in
        [
            "DROP INDEX audit_events_by_actor",
            "CREATE INDEX audit_events_by_actor ON audit_events (org_id, (seq >> 14), actor_id, seq)",
        ] + targetsByBlock(flavor)
    }

    private static func targetsByBlock(_ flavor: SQLFlavor) -> [String] {
        switch flavor {
        case .sqlite:
            [
                """
                CREATE TABLE audit_event_targets_by_block (
                    org_id TEXT NOT NULL, block BIGINT NOT NULL, target_id TEXT NOT NULL, seq BIGINT NOT NULL,
                    PRIMARY KEY (org_id, block, target_id, seq)) WITHOUT ROWID
                """,
                """
                INSERT INTO audit_event_targets_by_block (org_id, block, target_id, seq)
                SELECT org_id, seq >> 14, target_id, seq FROM audit_event_targets ORDER BY org_id, seq >> 14, target_id, seq
                """,
                "DROP TABLE audit_event_targets",
                "ALTER TABLE audit_event_targets_by_block RENAME TO audit_event_targets",
            ]
        case .postgres:
            [
                "ALTER TABLE audit_event_targets ADD COLUMN block BIGINT",
                "ALTER TABLE audit_event_targets NO FORCE ROW LEVEL SECURITY",
                "UPDATE audit_event_targets SET block = seq >> 14",
                "ALTER TABLE audit_event_targets FORCE ROW LEVEL SECURITY",
                "ALTER TABLE audit_event_targets ALTER COLUMN block SET NOT NULL",
                "ALTER TABLE audit_event_targets DROP CONSTRAINT audit_event_targets_pkey",
                "ALTER TABLE audit_event_targets ADD PRIMARY KEY (org_id, block, target_id, seq)",
            ]
        }
    }
}
