extension Migration {
    /// A target that every event of an appended batch names, indexed by one row per batch and
    /// block (`first_seq` to `last_seq`) instead of one row per event: the product that sent a
    /// batch of ingested events. Ranges never cross a block (`AuditBlocks`), so they are read
    /// block by block like `audit_event_targets`, and the rows a store already holds there stay.
    static let auditTargetRanges = Migration(version: 24, name: "audit_target_ranges",
                                             tenantTables: ["audit_target_ranges"]) { flavor in
        [
            """
            CREATE TABLE audit_target_ranges (
                org_id TEXT NOT NULL, block BIGINT NOT NULL, target_id TEXT NOT NULL, first_seq BIGINT NOT NULL,
                last_seq BIGINT NOT NULL,
                PRIMARY KEY (org_id, block, target_id, first_seq))\(flavor.clusteredByKey)
            """,
        ]
    }
}
