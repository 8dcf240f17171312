import RampartCore
import SQLKit

/// Self-service password reset links: stored hashed, thirty minutes, one use.
extension Tenant {
    public static let passwordResetLifetime: Double = 30 * 60

    /// A new reset link's secret for an active user; earlier unused links of the user stop working.
    public func createPasswordResetToken(for userID: String) async throws -> String {
        let secret = SecretToken.generate(.setupLink, orgID: orgID)
        let now = clock()
        try await sql.raw("DELETE FROM password_reset_tokens WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)").run()
        try await sql.raw("""
            INSERT INTO password_reset_tokens (org_id, token_hash, user_id, created_at, expires_at)
            VALUES (\(bind: orgID), \(bind: secret.hash), \(bind: userID), \(bind: now.microseconds),
                    \(bind: now.adding(seconds: Self.passwordResetLifetime).microseconds))
            """).run()
        return secret.text
    }

    /// Whether a reset link was made for the user in the last `seconds`.
    public func hasRecentPasswordResetToken(for userID: String, within seconds: Double) async throws -> Bool {
        try await sql.raw("""
            SELECT 1 AS one FROM password_reset_tokens WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)
            AND created_at > \(bind: clock().adding(seconds: -seconds).microseconds)
            """).first() != nil
    }

    /// Spends a reset link: returns its user only for the one caller that marks it used, and
    /// only while it is unexpired and the user active. The caller sets the password and ends
    /// the user's sessions in the same transaction.
    public func consumePasswordResetToken(_ secret: SecretToken, at now: Timestamp = .now()) async throws -> User? {
        guard let row = try await sql.raw("""
            UPDATE password_reset_tokens SET used_at = \(bind: now.microseconds)
            WHERE org_id = \(bind: orgID) AND token_hash = \(bind: secret.hash) AND used_at IS NULL
            AND expires_at > \(bind: now.microseconds) RETURNING user_id
            """).first(),
            let user = try await user(try row.string("user_id")), user.status == .active
        else { return nil }
        return user
    }
}

extension Tenant {
    /// The user an unused, unexpired reset link is for, without spending it (to show the form).
    public func passwordResetUser(_ secret: SecretToken, at now: Timestamp = .now()) async throws -> User? {
        guard let row = try await sql.raw("""
            SELECT user_id FROM password_reset_tokens WHERE org_id = \(bind: orgID) AND token_hash = \(bind: secret.hash)
            AND used_at IS NULL AND expires_at > \(bind: now.microseconds)
            """).first(),
            let user = try await user(try row.string("user_id")), user.status == .active
        else { return nil }
        return user
    }
}
