import RampartCore
import SQLKit

/// An invitation: a setup link for a person who has no password yet, shown once (and mailed
/// when asked), re-issuable (a new one ends the earlier ones) and expiring.
public struct Invitation: Sendable, Equatable {
    public let secret: String
    public let expiresAt: Timestamp
    public let reissued: Bool
}

extension Tenant {
    public static let invitationDays: ClosedRange<Int> = 1...30

    /// Invites `userID` to set their password; refused for a deactivated person or one who
    /// already has a password (a forced reset is for them).
    public func invite(_ userID: String, validForDays days: Int, by context: AuditContext) async throws -> Invitation {
        guard Self.invitationDays.contains(days) else {
            throw RampartError.invalidField("expiresInDays", "must be between 1 and 30")
        }
        let user = try await requireUser(userID)
        guard user.status == .active else {
            throw RampartError(.conflict, "\(user.email) is deactivated; reactivate them before inviting them.")
        }
        guard try await passwordHash(for: user.id) == nil else {
            throw RampartError(.conflict, "\(user.email) has set a password already; force a password reset instead.")
        }
        let ended = try await sql.raw("""
            DELETE FROM setup_links WHERE org_id = \(bind: orgID) AND user_id = \(bind: user.id) AND used_at IS NULL RETURNING user_id
            """).all().count
        let now = clock()
        let expiresAt = now.adding(days: days)
        let secret = try await createSetupLink(for: user.id, validFor: Double(days) * 86_400)
        try await appendAudit([context.record(.userInvited, [.user(user)], details: AuditDetails([
            "expiresAt": .string(expiresAt.rfc3339), "reissued": .bool(ended > 0),
        ]), at: now)])
        return Invitation(secret: secret, expiresAt: expiresAt, reissued: ended > 0)
    }

    /// When the person's unused invitation expires (in the past when it has), or nil when
    /// they have none or have set a password.
    public func pendingInvitation(of userID: String) async throws -> Timestamp? {
        guard try await passwordHash(for: userID) == nil else { return nil }
        return try await sql.raw("""
            SELECT MAX(expires_at) AS expires_at FROM setup_links WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)
            AND used_at IS NULL
            """).first()?.optionalTimestamp("expires_at")
    }
}
