extension Migration {
    /// Crypto-shredding of personal data in the audit log. `audit_subject_keys` holds one
    /// random AES-256 key per person (subject) of an organisation, sealed under its data key;
    /// `subject` is `user:<id>`, or `email:`/`product:` and an HMAC of the address or
    /// reference (never the address itself). Erasing a person deletes the key and keeps a row
    /// without one (`sealed_key` null, `erased_at` set) for a Rampart user, so the erasure is
    /// not repeated and no new key is made for them. `audit_events.encoding` tells events
    /// written before this (1, in clear, never rewritten) from sealed ones (2), whose sealed
    /// personal details are in `personal`.
    ///
    /// Version 18: 17 is left to another change in flight. The migrator applies any version it
    /// has not applied, in the order of `Migrator.all`, so the gap is harmless.
    static let auditSubjectKeys = Migration(version: 18, name: "audit_subject_keys",
                                            tenantTables: ["audit_subject_keys"]) { _ in
        [
            "ALTER TABLE audit_events ADD COLUMN encoding INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE audit_events ADD COLUMN personal TEXT",
            """
            CREATE TABLE audit_subject_keys (
                org_id TEXT NOT NULL, subject TEXT NOT NULL, key_id TEXT NOT NULL, sealed_key TEXT,
                created_at BIGINT NOT NULL, erased_at BIGINT,
                PRIMARY KEY (org_id, subject), UNIQUE (org_id, key_id))
            """,
        ]
    }
}
