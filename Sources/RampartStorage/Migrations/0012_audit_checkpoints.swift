extension Migration {
    /// Signed checkpoints of each organisation's audit log, and the Ed25519 keys that sign them
    /// (private keys sealed by the key service). `witnessed_at` is set once the checkpoint was
    /// handed to the witness outside the database; until then it is handed again.
    static let auditCheckpoints = Migration(version: 12, name: "audit_checkpoints",
                                            tenantTables: ["audit_checkpoint_keys", "audit_checkpoints"]) { flavor in
        [
            """
            CREATE TABLE audit_checkpoint_keys (
                org_id TEXT NOT NULL, key_id TEXT NOT NULL, public_key TEXT NOT NULL, sealed_private_key TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, key_id))
            """,
            """
            CREATE TABLE audit_checkpoints (
                org_id TEXT NOT NULL, seq BIGINT NOT NULL, head_hash TEXT NOT NULL, signed_at BIGINT NOT NULL,
                key_id TEXT NOT NULL, signature TEXT NOT NULL, witnessed_at BIGINT,
                PRIMARY KEY (org_id, seq))\(flavor.clusteredByKey)
            """,
        ]
    }
}
