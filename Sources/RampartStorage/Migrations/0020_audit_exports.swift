extension Migration {
    /// Audit export jobs that can be followed (`AuditExportJob`). `audit_exports` holds each job:
    /// its format and filters, the range of the log it covers (fixed when requested), its
    /// progress and the lease of the node running it (`lease_owner`, `lease_until`), as log
    /// streams hold theirs. `audit_export_chunks` holds its output in order, as base64 text of at
    /// most 1 MiB each, so that any node serves the download. Both go 24 hours after the request.
    ///
    /// Version 20: 19 is left to another change in flight (see `auditSubjectKeys` on gaps).
    static let auditExports = Migration(version: 20, name: "audit_exports",
                                        tenantTables: ["audit_exports", "audit_export_chunks"]) { flavor in
        [
            """
            CREATE TABLE audit_exports (
                org_id TEXT NOT NULL, id TEXT NOT NULL, format TEXT NOT NULL,
                filter_action TEXT, filter_actor TEXT, filter_target TEXT, filter_since BIGINT, filter_until BIGINT,
                status TEXT NOT NULL, start_seq BIGINT NOT NULL, head_seq BIGINT NOT NULL,
                events_read BIGINT NOT NULL DEFAULT 0, events_written BIGINT NOT NULL DEFAULT 0,
                byte_count BIGINT NOT NULL DEFAULT 0, chunks BIGINT NOT NULL DEFAULT 0, attempts BIGINT NOT NULL DEFAULT 0,
                error TEXT, lease_owner TEXT, lease_until BIGINT,
                created_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT, expires_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, id))
            """,
            "CREATE INDEX audit_exports_status ON audit_exports (org_id, status)",
            """
            CREATE TABLE audit_export_chunks (
                org_id TEXT NOT NULL, export_id TEXT NOT NULL, chunk BIGINT NOT NULL, bytes \(flavor.blob) NOT NULL,
                PRIMARY KEY (org_id, export_id, chunk))
            """,
        ]
    }
}
