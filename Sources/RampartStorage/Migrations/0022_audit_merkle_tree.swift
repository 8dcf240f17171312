extension Migration {
    /// The Merkle tree over each organisation's audit log (`MerkleTree`). Each checkpoint keeps
    /// the tree's frontier at its sequence number (`tree_frontier`: the hex roots of the perfect
    /// subtrees that make up events 1 to `seq`, comma-separated, largest first), from which the
    /// next checkpoint extends the tree with only the events since; a version 2 checkpoint also
    /// signs the root (`tree_root`), which stays null in the version 1 checkpoints signed before.
    /// `audit_tree_nodes` holds the roots of the tree's blocks (perfect subtrees of 2^`level`
    /// leaves, index `idx` among them), so that a proof reads about a thousand of them instead
    /// of every leaf.
    ///
    /// Version 22: 21 is left to another change in flight (see `auditSubjectKeys` on gaps).
    static let auditMerkleTree = Migration(version: 22, name: "audit_merkle_tree",
                                           tenantTables: ["audit_tree_nodes"]) { flavor in
        [
            "ALTER TABLE audit_checkpoints ADD COLUMN tree_root TEXT",
            "ALTER TABLE audit_checkpoints ADD COLUMN tree_frontier TEXT",
            """
            CREATE TABLE audit_tree_nodes (
                org_id TEXT NOT NULL, level INTEGER NOT NULL, idx BIGINT NOT NULL, hash TEXT NOT NULL,
                PRIMARY KEY (org_id, level, idx))\(flavor.clusteredByKey)
            """,
        ]
    }
}
