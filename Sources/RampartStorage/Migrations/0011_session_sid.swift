extension Migration {
    /// The OpenID Connect `sid` of a session, kept in the row so that it outlives the session's
    /// secret: a step-up replaces the secret (against fixation) but is the same sign-in to the
    /// products it led to, and their back-channel logout must still name it. Rows from before
    /// have none and keep the sid derived from their secret's hash, as it was issued.
    static let sessionSID = Migration(version: 11, name: "session_sid", tenantTables: []) { _ in
        ["ALTER TABLE user_sessions ADD COLUMN sid TEXT"]
    }
}
