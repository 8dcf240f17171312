extension Migration {
    /// Followers of the audit log that send it to SIEMs. `cursor` is the last sequence number
    /// the receiver took; `lease_owner`/`lease_until` let one node at a time send a stream.
    static let logStreams = Migration(version: 5, name: "log_streams", tenantTables: ["log_streams"]) { _ in
        [
            """
            CREATE TABLE log_streams (
                org_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL, kind TEXT NOT NULL,
                endpoint TEXT NOT NULL, ca_certificate TEXT, status TEXT NOT NULL, cursor BIGINT NOT NULL,
                created_at BIGINT NOT NULL, last_success_at BIGINT, last_error TEXT, last_error_at BIGINT,
                failures BIGINT NOT NULL, next_attempt_at BIGINT, lease_owner TEXT, lease_until BIGINT,
                PRIMARY KEY (org_id, id), UNIQUE (org_id, name_key))
            """,
        ]
    }
}
