extension Migration {
    /// Mail waiting to be handed to the mail system: queued in the transaction of the change
    /// that sends it, so none is lost and none goes out for a change that rolled back. The body
    /// is sealed with the organisation's key (it carries one-time links) and the row is deleted
    /// once the mail system has taken the message.
    static let mailOutbox = Migration(version: 4, name: "mail_outbox", tenantTables: ["mail_outbox"]) { _ in
        [
            """
            CREATE TABLE mail_outbox (
                org_id TEXT NOT NULL, id TEXT NOT NULL, recipient TEXT NOT NULL, subject TEXT NOT NULL,
                sealed_body TEXT NOT NULL, created_at BIGINT NOT NULL, attempts BIGINT NOT NULL,
                next_attempt_at BIGINT NOT NULL, last_error TEXT,
                PRIMARY KEY (org_id, id))
            """,
            "CREATE INDEX mail_outbox_due ON mail_outbox (org_id, next_attempt_at)",
        ]
    }
}
