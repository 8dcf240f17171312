extension Migration {
    /// Dead letters of log streams: a batch a receiver refused `dead_letter_after` times in a row
    /// is kept here as the range of sequence numbers it held (the events stay in the log), and
    /// the stream moves on. `personal_data` says whether a stream sends actors as they are
    /// (`full`) or as pseudonyms (`pseudonymous`). `checkpoint_cursor` is the sequence number of
    /// the last signed checkpoint the receiver took; a stream that exists already sends the
    /// checkpoints of what it sends from now on. Version 14 belongs to other work.
    static let logStreamDeadLetters = Migration(version: 15, name: "log_stream_dead_letters",
                                                tenantTables: ["log_stream_dead_letters"]) { _ in
        [
            "ALTER TABLE log_streams ADD COLUMN dead_letter_after BIGINT NOT NULL DEFAULT 10",
            "ALTER TABLE log_streams ADD COLUMN personal_data TEXT NOT NULL DEFAULT 'full'",
            "ALTER TABLE log_streams ADD COLUMN checkpoint_cursor BIGINT NOT NULL DEFAULT 0",
            "UPDATE log_streams SET checkpoint_cursor = cursor",
            """
            CREATE TABLE log_stream_dead_letters (
                org_id TEXT NOT NULL, id TEXT NOT NULL, stream_id TEXT NOT NULL, first_seq BIGINT NOT NULL,
                last_seq BIGINT NOT NULL, events BIGINT NOT NULL, error TEXT NOT NULL, attempts BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (org_id, id))
            """,
            "CREATE INDEX log_stream_dead_letters_stream ON log_stream_dead_letters (org_id, stream_id, first_seq)",
        ]
    }
}
