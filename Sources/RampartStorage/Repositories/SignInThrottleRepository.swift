import RampartAuthn
import RampartCore
import SQLKit

/// Failure counters per account and per source address, kept in the database so every node
/// of a deployment sees the same ones.
extension Tenant {
    /// When the account or address is locked out, the end of the lockout; otherwise nil.
    public func signInLockout(_ scope: SignInThrottle.Scope, _ key: String, at now: Timestamp = .now()) async throws -> Timestamp? {
        guard let until = try await sql.raw("""
            SELECT locked_until FROM sign_in_throttles WHERE org_id = \(bind: orgID) AND scope = \(bind: scope.rawValue)
            AND key = \(bind: key)
            """).first().flatMap({ try $0.optionalTimestamp("locked_until") }), now < until else { return nil }
        return until
    }

    /// Counts one failure and returns the lockout it earned, if any. Failures older than the
    /// throttle's window are forgotten, so an occasional typo never adds up to a lockout.
    public func recordSignInFailure(_ scope: SignInThrottle.Scope, _ key: String,
                                    throttle: SignInThrottle? = nil) async throws -> Timestamp? {
        let throttle = throttle ?? .forScope(scope)
        let now = clock()
        let windowStart = now.adding(seconds: -throttle.window).microseconds
        let row = try await sql.raw("""
            INSERT INTO sign_in_throttles (org_id, scope, key, failures, last_failure_at, locked_until)
            VALUES (\(bind: orgID), \(bind: scope.rawValue), \(bind: key), 1, \(bind: now.microseconds), NULL)
            ON CONFLICT (org_id, scope, key) DO UPDATE SET
                failures = CASE WHEN sign_in_throttles.last_failure_at < \(bind: windowStart) THEN 1
                                ELSE sign_in_throttles.failures + 1 END,
                last_failure_at = \(bind: now.microseconds)
            RETURNING failures
            """).first()
        let failures = try row?.int("failures") ?? 1
        guard let until = throttle.lockedUntil(afterFailures: failures, at: now) else { return nil }
        try await sql.raw("""
            UPDATE sign_in_throttles SET locked_until = \(bind: until.microseconds)
            WHERE org_id = \(bind: orgID) AND scope = \(bind: scope.rawValue) AND key = \(bind: key)
            """).run()
        return until
    }

    /// A successful sign-in clears the account's counter (not the address's: one success
    /// must not reset an attacker's count across other accounts).
    public func clearSignInFailures(_ scope: SignInThrottle.Scope, _ key: String) async throws {
        try await sql.raw("""
            DELETE FROM sign_in_throttles WHERE org_id = \(bind: orgID) AND scope = \(bind: scope.rawValue) AND key = \(bind: key)
            """).run()
    }
}
