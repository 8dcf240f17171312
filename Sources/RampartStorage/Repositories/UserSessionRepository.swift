import RampartCore
import SQLKit

/// A signed-in person's session as the server sees it. Only the SHA-256 of the secret is
/// stored; `id` is a separate, non-secret name for listing and revoking it.
public struct UserSession: Sendable, Equatable {
    public let id: String
    public let userID: String
    public let mfaCompleted: Bool
    public let createdAt: Timestamp
    public let expiresAt: Timestamp
    public let idleTimeoutSeconds: Int64
    public let lastSeenAt: Timestamp
    public let ip: String?
    public let userAgent: String?
    /// The CSRF token of this session's forms.
    public let csrfToken: String
    /// How the person proved who they are (RFC 8176: `pwd`, `otp`, `mfa`), for the tokens of products.
    public let amr: [String]
    /// The OpenID Connect session id products are given; a step-up carries it to the new session.
    public let sid: String
}

/// Server-side sessions for every person, with an absolute lifetime and an idle timeout
/// taken from their authentication policy when the session starts.
extension Tenant {
    /// Starts a session and returns its secret (shown once, as the cookie) with the session.
    /// `sid` is the OpenID Connect session id of the session this one replaces, if any.
    public func startUserSession(for userID: String, mfaCompleted: Bool, lifetimeSeconds: Int, idleTimeoutSeconds: Int,
                                 ip: String?, userAgent: String?, amr: [String] = ["pwd"],
                                 sid: String? = nil) async throws -> (secret: String, session: UserSession) {
        let secret = SecretToken.generate(.session, orgID: orgID)
        let now = clock()
        let session = UserSession(id: Identifier.make(), userID: userID, mfaCompleted: mfaCompleted, createdAt: now,
                                  expiresAt: now.adding(seconds: Double(lifetimeSeconds)),
                                  idleTimeoutSeconds: Int64(idleTimeoutSeconds), lastSeenAt: now,
                                  ip: ip, userAgent: userAgent.map { String($0.prefix(512)) },
                                  csrfToken: SecretToken.generate(.session, orgID: orgID).hash, amr: amr,
                                  sid: sid ?? OIDCSessionID.of(sessionHash: secret.hash))
        try await sql.raw("""
            INSERT INTO user_sessions (org_id, token_hash, id, user_id, mfa_completed, created_at, expires_at,
                                       idle_timeout_seconds, last_seen_at, ip, user_agent, csrf_token, amr, sid)
            VALUES (\(bind: orgID), \(bind: secret.hash), \(bind: session.id), \(bind: userID),
                    \(bind: Int64(mfaCompleted ? 1 : 0)), \(bind: now.microseconds), \(bind: session.expiresAt.microseconds),
                    \(bind: session.idleTimeoutSeconds), \(bind: now.microseconds), \(bind: session.ip), \(bind: session.userAgent),
                    \(bind: session.csrfToken), \(bind: amr.joined(separator: " ")), \(bind: session.sid))
            """).run()
        return (secret.text, session)
    }

    /// The live session for a presented secret, read-only: nil when it is unknown, past its
    /// absolute lifetime, idle too long, or its user is no longer active.
    public func findLiveUserSession(_ secret: SecretToken, at now: Timestamp = .now()) async throws -> UserSession? {
        guard let row = try await sql.raw("""
            SELECT s.id, s.user_id, s.mfa_completed, s.created_at, s.expires_at, s.idle_timeout_seconds, s.last_seen_at,
                   s.ip, s.user_agent, s.csrf_token, s.amr, s.token_hash, s.sid, u.status
            FROM user_sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
            WHERE s.org_id = \(bind: orgID) AND s.token_hash = \(bind: secret.hash)
            """).first() else { return nil }
        let session = try Self.userSession(row)
        let idleEnds = session.lastSeenAt.adding(seconds: Double(session.idleTimeoutSeconds))
        guard now < session.expiresAt, now < idleEnds, try row.string("status") == UserStatus.active.rawValue else { return nil }
        return session
    }

    /// The live session for a presented secret; its last-seen time moves on, and a dead one is removed.
    public func liveUserSession(_ secret: SecretToken, at now: Timestamp = .now()) async throws -> UserSession? {
        guard let session = try await findLiveUserSession(secret, at: now) else {
            try await endUserSession(secret)
            return nil
        }
        try await touchUserSession(secret, at: now)
        return session
    }

    public func touchUserSession(_ secret: SecretToken, at now: Timestamp = .now()) async throws {
        try await sql.raw("""
            UPDATE user_sessions SET last_seen_at = \(bind: now.microseconds)
            WHERE org_id = \(bind: orgID) AND token_hash = \(bind: secret.hash)
            """).run()
    }

    /// Ends the session of a presented secret (sign-out, or the step before a new session at a privilege change).
    /// Returns the ended session's sid, which a session replacing it carries on.
    @discardableResult
    public func endUserSession(_ secret: SecretToken) async throws -> String? {
        try await sql.raw("""
            DELETE FROM user_sessions WHERE org_id = \(bind: orgID) AND token_hash = \(bind: secret.hash) RETURNING token_hash, sid
            """).first().map(Self.sid)
    }

    public func userSessions(of userID: String) async throws -> [UserSession] {
        try await sql.raw("""
            SELECT id, user_id, mfa_completed, created_at, expires_at, idle_timeout_seconds, last_seen_at, ip, user_agent,
                   csrf_token, amr, token_hash, sid
            FROM user_sessions WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID) ORDER BY id
            """).all().map(Self.userSession)
    }

    /// Ends one session of a user; false when there is no such session. The products it
    /// signed into are told (back-channel logout), from this transaction's outbox.
    public func endUserSession(_ id: String, of userID: String) async throws -> Bool {
        guard let ended = try await sql.raw("""
            DELETE FROM user_sessions WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID) AND id = \(bind: id)
            RETURNING token_hash, sid
            """).first() else { return false }
        try await queueBackchannelLogouts(userID: userID, endedSIDs: [try Self.sid(ended)], everywhere: false)
        return true
    }

    /// A person signs out of the session of a presented secret (unlike `endUserSession(_:)`,
    /// which also ends a session that is replaced by a new one): the products it signed into
    /// are told.
    public func signOutUserSession(_ secret: SecretToken) async throws {
        guard let ended = try await sql.raw("""
            DELETE FROM user_sessions WHERE org_id = \(bind: orgID) AND token_hash = \(bind: secret.hash)
            RETURNING user_id, token_hash, sid
            """).first() else { return }
        try await queueBackchannelLogouts(userID: try ended.string("user_id"), endedSIDs: [try Self.sid(ended)], everywhere: false)
    }

    /// Ends every session of a user ("sign out everywhere", deactivation, password reset),
    /// except `keeping`, the session that asked for it, if any. Products are told through
    /// back-channel logout, queued in this transaction.
    @discardableResult
    public func endAllUserSessions(of userID: String, keeping: String? = nil) async throws -> Int {
        let ended = try await sql.raw("""
            DELETE FROM user_sessions WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)
            AND id <> \(bind: keeping ?? "") RETURNING token_hash, sid
            """).all().map(Self.sid)
        try await queueBackchannelLogouts(userID: userID, endedSIDs: ended, everywhere: true)
        return ended.count
    }

    private static func userSession(_ row: any SQLRow) throws -> UserSession {
        UserSession(id: try row.string("id"), userID: try row.string("user_id"), mfaCompleted: try row.int("mfa_completed") != 0,
                    createdAt: try row.timestamp("created_at"), expiresAt: try row.timestamp("expires_at"),
                    idleTimeoutSeconds: try row.int("idle_timeout_seconds"), lastSeenAt: try row.timestamp("last_seen_at"),
                    ip: try row.optionalString("ip"), userAgent: try row.optionalString("user_agent"),
                    csrfToken: try row.string("csrf_token"),
                    amr: (try row.optionalString("amr") ?? "pwd").split(separator: " ").map(String.init), sid: try sid(row))
    }

    static func sid(_ row: any SQLRow) throws -> String {
        OIDCSessionID.of(stored: try row.optionalString("sid"), sessionHash: try row.string("token_hash"))
    }
}
