import RampartCore
import SQLKit

/// A signed-in person with their live session.
public struct ConsoleSession: Sendable {
    public let user: User
    public let session: UserSession
    public var csrfToken: String { session.csrfToken }
}

/// Passwords (hashes made by the caller), one-time setup links, and the person behind a session.
extension Tenant {
    /// A one-time link that lets a user set their password. Returns the secret for the link.
    public func createSetupLink(for userID: String, validFor seconds: Double) async throws -> String {
        let secret = SecretToken.generate(.setupLink, orgID: orgID)
        let now = clock()
        try await sql.raw("""
            INSERT INTO setup_links (org_id, token_hash, user_id, created_at, expires_at)
            VALUES (\(bind: orgID), \(bind: secret.hash), \(bind: userID), \(bind: now.microseconds),
                    \(bind: now.adding(seconds: seconds).microseconds))
            """).run()
        return secret.text
    }

    /// The user a setup link is for, if it is unused and unexpired.
    public func setupLinkUser(_ secret: SecretToken, at now: Timestamp = .now()) async throws -> User? {
        guard let row = try await sql.raw("""
            SELECT user_id, expires_at, used_at FROM setup_links WHERE org_id = \(bind: orgID)
            AND token_hash = \(bind: secret.hash)
            """).first(),
            try row.optionalTimestamp("used_at") == nil, now < (try row.timestamp("expires_at"))
        else { return nil }
        guard let user = try await user(try row.string("user_id")), user.status == .active else { return nil }
        return user
    }

    /// Uses the link once: sets the password hash and spends the link in the same transaction.
    public func completeSetupLink(_ secret: SecretToken, passwordHash: String, by context: (User) -> AuditContext)
        async throws -> User?
    {
        guard let user = try await setupLinkUser(secret) else { return nil }
        let now = clock()
        try await sql.raw("""
            UPDATE setup_links SET used_at = \(bind: now.microseconds) WHERE org_id = \(bind: orgID)
            AND token_hash = \(bind: secret.hash)
            """).run()
        try await setPasswordHash(passwordHash, for: user.id, at: now)
        try await appendAudit([context(user).record(.passwordSet, [.user(user)], at: now)])
        return user
    }

    public func setPasswordHash(_ hash: String, for userID: String, at now: Timestamp = .now()) async throws {
        try await sql.raw("DELETE FROM user_passwords WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)").run()
        try await sql.raw("""
            INSERT INTO user_passwords (org_id, user_id, password_hash, updated_at)
            VALUES (\(bind: orgID), \(bind: userID), \(bind: hash), \(bind: now.microseconds))
            """).run()
    }

    public func passwordHash(for userID: String) async throws -> String? {
        try await sql.raw("SELECT password_hash FROM user_passwords WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)")
            .first().map { try $0.string("password_hash") }
    }

    /// The person behind a presented session secret, read-only: nil when the session is
    /// unknown, past its absolute lifetime, idle too long, or its person is not active.
    ///
    /// Every page a signed-in person opens asks this, so it is one statement, and a SQLite
    /// reader recalls its answer until any commit reaches the database (`recalledRow`): a
    /// session ended or a person deactivated a moment ago, by this process or another, is
    /// refused by the very next request. Lifetime and idle time are checked on every call.
    public func signedInSession(_ secret: SecretToken, at now: Timestamp = .now()) async throws -> ConsoleSession? {
        let query = flavor == .postgres ? Self.signedInSessionPostgres : Self.signedInSessionSQLite
        guard let found = try await recalledRow(query, [orgID, secret.hash], Self.decodeSignedIn) else { return nil }
        let session = found.session
        let idleEnds = session.lastSeenAt.adding(seconds: Double(session.idleTimeoutSeconds))
        guard now < session.expiresAt, now < idleEnds, found.user.status == .active else { return nil }
        return found
    }

    private static let signedInSessionSQLite = signedInSessionQuery(roles: "group_concat(r.role, ',')")
    private static let signedInSessionPostgres = signedInSessionQuery(roles: "string_agg(r.role, ',')")

    /// The person's columns first, in the order `decodeUser` reads them, then the session's,
    /// renamed where a person's column has the same name (PostgreSQL rows are read by name).
    private static func signedInSessionQuery(roles: String) -> String {
        """
        SELECT u.id, u.email, u.display_name, u.status, u.created_at, u.last_active_at,
               (SELECT \(roles) FROM role_assignments r WHERE r.org_id = u.org_id AND r.user_id = u.id) AS roles,
               s.id AS session_id, s.mfa_completed, s.created_at AS session_created_at, s.expires_at,
               s.idle_timeout_seconds, s.last_seen_at, s.ip, s.user_agent, s.csrf_token, s.amr, s.token_hash, s.sid
        FROM user_sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
        WHERE s.org_id = ?1 AND s.token_hash = ?2
        """
    }

    private static func decodeSignedIn(_ row: any ColumnReader) throws -> ConsoleSession {
        let user = try decodeUser(row)
        let session = UserSession(id: try row.text(7), userID: user.id, mfaCompleted: try row.integer(8) != 0,
                                  createdAt: try row.timestamp(9), expiresAt: try row.timestamp(10),
                                  idleTimeoutSeconds: try row.integer(11), lastSeenAt: try row.timestamp(12),
                                  ip: try row.optionalText(13), userAgent: try row.optionalText(14), csrfToken: try row.text(15),
                                  amr: (try row.optionalText(16) ?? "pwd").split(separator: " ").map(String.init),
                                  sid: OIDCSessionID.of(stored: try row.optionalText(18), sessionHash: try row.text(17)))
        return ConsoleSession(user: user, session: session)
    }
}
