extension Migration {
    /// Log streams of every kind: the record format, the settings only some kinds have (JSON of
    /// `LogStreamTarget`), and the kind's secret sealed with the organisation's key, bound to
    /// this table, the stream's row and the column.
    static let logStreamTargets = Migration(version: 10, name: "log_stream_targets", tenantTables: []) { _ in
        [
            "ALTER TABLE log_streams ADD COLUMN format TEXT NOT NULL DEFAULT 'json'",
            "ALTER TABLE log_streams ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE log_streams ADD COLUMN sealed_secret TEXT",
        ]
    }
}
