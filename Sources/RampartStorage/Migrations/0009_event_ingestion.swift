extension Migration {
    /// Product event ingestion: the keys products send their events with, and the idempotency
    /// keys already appended. The primary key of `ingested_event_keys` is what makes a batch
    /// sent twice, by two nodes at once, append once: whatever the check before it missed, a
    /// second insert of the same key fails and its whole batch rolls back. On SQLite the key is
    /// the table (`WITHOUT ROWID`): one B-tree insert per event instead of a row and an index.
    static let eventIngestion = Migration(version: 9, name: "event_ingestion",
                                          tenantTables: ["ingestion_keys", "ingested_event_keys"]) { flavor in
        [
            """
            CREATE TABLE ingestion_keys (
                org_id TEXT NOT NULL, id TEXT NOT NULL, product_id TEXT NOT NULL, name TEXT NOT NULL,
                token_hash TEXT NOT NULL, created_by TEXT, created_at BIGINT NOT NULL, last_used_at BIGINT, revoked_at BIGINT,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, token_hash))
            """,
            """
            CREATE TABLE ingested_event_keys (
                org_id TEXT NOT NULL, product_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, seq BIGINT NOT NULL,
                PRIMARY KEY (org_id, product_id, idempotency_key))\(flavor.clusteredByKey)
            """,
        ]
    }
}
