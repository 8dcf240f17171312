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

    /// The person behind a presented session secret, read-only (see `findLiveUserSession`).
    public func signedInSession(_ secret: SecretToken, at now: Timestamp = .now()) async throws -> ConsoleSession? {
        guard let session = try await findLiveUserSession(secret, at: now),
              let user = try await user(session.userID) else { return nil }
        return ConsoleSession(user: user, session: session)
    }
}
