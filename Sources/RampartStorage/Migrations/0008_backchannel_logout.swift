extension Migration {
    /// OpenID Connect Back-Channel Logout. A client's logout URI lives in a table of its own so
    /// the client's row, read at every token request, stays as it is. Deliveries are an outbox:
    /// queued in the transaction that ends the person's session, claimed by one node at a time
    /// through `lease_owner`/`lease_until`, and deleted once the product answered or Rampart
    /// gave up. Codes and grants remember the `sid` of the session that authorized them, and a
    /// grant when its session ended.
    static let backchannelLogout = Migration(version: 8, name: "backchannel_logout",
                                             tenantTables: ["oauth_backchannel_logout_uris", "oauth_logout_deliveries"]) { _ in
        [
            """
            CREATE TABLE oauth_backchannel_logout_uris (
                org_id TEXT NOT NULL, client_id TEXT NOT NULL, uri TEXT NOT NULL, session_required BIGINT NOT NULL,
                PRIMARY KEY (org_id, client_id))
            """,
            """
            CREATE TABLE oauth_logout_deliveries (
                org_id TEXT NOT NULL, id TEXT NOT NULL, client_id TEXT NOT NULL, subject TEXT NOT NULL, sid TEXT,
                created_at BIGINT NOT NULL, attempts BIGINT NOT NULL, next_attempt_at BIGINT NOT NULL,
                lease_owner TEXT, lease_until BIGINT, last_error TEXT,
                PRIMARY KEY (org_id, id))
            """,
            "CREATE INDEX oauth_logout_deliveries_due ON oauth_logout_deliveries (org_id, next_attempt_at)",
            "ALTER TABLE oauth_codes ADD COLUMN sid TEXT",
            "ALTER TABLE oauth_grants ADD COLUMN sid TEXT",
            // When the grant's session was ended and its product told, so it is told only once.
            "ALTER TABLE oauth_grants ADD COLUMN session_ended_at BIGINT",
        ]
    }
}
