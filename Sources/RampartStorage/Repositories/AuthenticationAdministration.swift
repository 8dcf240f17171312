import Foundation
import RampartAuthn
import RampartCore
import SQLKit

/// A user's policy assignment read together with the group it came through, for explaining
/// an effective policy.
public struct GroupPolicyAssignment: Sendable, Equatable {
    public let groupID: String
    public let groupName: String
    public let policyID: String
}

/// A user or group a policy is assigned to, with its email or name for showing.
public struct PolicyAssignment: Sendable, Equatable {
    public let target: PolicyAssignmentTarget
    public let name: String
}

/// What an admin does to other people's authentication: delete policies, end sessions,
/// reset MFA, force a password reset, import a password hash. Each writes its audit event
/// in the caller's transaction.
extension Tenant {
    /// Deletes a policy that is not the default; its assignments go with it, so the people
    /// it governed fall back to their groups' policies or the default.
    public func deleteAuthenticationPolicy(_ id: String, override: Bool = false, by context: AuditContext) async throws {
        if try await defaultAuthenticationPolicy().id == id || id == Self.builtInDefaultPolicyID {
            throw RampartError(.conflict, "The default authentication policy cannot be deleted.")
        }
        guard let policy = try await authenticationPolicy(id) else { throw RampartError.notFound("Authentication policy") }
        var details = try await enforcePolicyChange([.delete(policyID: id)], override: override)
        let released = try await sql.raw("""
            DELETE FROM authentication_policy_assignments WHERE org_id = \(bind: orgID) AND policy_id = \(bind: id)
            RETURNING target_type, target_id
            """).all()
        try await sql.raw("DELETE FROM authentication_policies WHERE org_id = \(bind: orgID) AND id = \(bind: id)").run()
        details["assignments_removed"] = .array(try released.map {
            .object(["target_type": .string(try $0.string("target_type")), "target_id": .string(try $0.string("target_id"))])
        })
        try await appendAudit([context.record(.authPolicyDeleted, [AuditTarget(type: "auth_policy", id: policy.id, name: policy.name)],
                                              details: AuditDetails(details), at: clock())])
    }

    /// The users and groups `policyID` is assigned to, groups first, each by name.
    public func assignments(ofPolicy policyID: String) async throws -> [PolicyAssignment] {
        try await sql.raw("""
            SELECT a.target_type, a.target_id, COALESCE(g.name, u.email) AS name FROM authentication_policy_assignments a
            LEFT JOIN user_groups g ON a.target_type = 'group' AND g.org_id = a.org_id AND g.id = a.target_id
            LEFT JOIN users u ON a.target_type = 'user' AND u.org_id = a.org_id AND u.id = a.target_id
            WHERE a.org_id = \(bind: orgID) AND a.policy_id = \(bind: policyID)
            ORDER BY a.target_type, name
            """).all().map { row in
            let id = try row.string("target_id")
            let target: PolicyAssignmentTarget = try row.string("target_type") == "group" ? .group(id) : .user(id)
            return PolicyAssignment(target: target, name: try row.optionalString("name") ?? id)
        }
    }

    /// The policy id assigned directly to a user or group, if any.
    public func assignedPolicyID(_ target: PolicyAssignmentTarget) async throws -> String? {
        let (type, id) = switch target {
        case .user(let id): ("user", id)
        case .group(let id): ("group", id)
        }
        return try await sql.raw("""
            SELECT policy_id FROM authentication_policy_assignments WHERE org_id = \(bind: orgID)
            AND target_type = \(bind: type) AND target_id = \(bind: id)
            """).first().map { try $0.string("policy_id") }
    }

    /// The policies assigned to the groups `userID` belongs to, with the groups' names.
    public func groupPolicyAssignments(of userID: String) async throws -> [GroupPolicyAssignment] {
        try await sql.raw("""
            SELECT g.id, g.name, a.policy_id FROM authentication_policy_assignments a
            JOIN group_members m ON m.org_id = a.org_id AND m.group_id = a.target_id
            JOIN user_groups g ON g.org_id = a.org_id AND g.id = a.target_id
            WHERE a.org_id = \(bind: orgID) AND a.target_type = 'group' AND m.user_id = \(bind: userID) ORDER BY g.id
            """).all().map {
            GroupPolicyAssignment(groupID: try $0.string("id"), groupName: try $0.string("name"), policyID: try $0.string("policy_id"))
        }
    }

    /// Ends one session (`sessionID`) or all of a user's sessions, console sessions included
    /// when all end. Returns how many ended; writes an event only when some did.
    @discardableResult
    public func endSessions(of userID: String, only sessionID: String? = nil, by context: AuditContext) async throws -> Int {
        let user = try await requireUser(userID)
        var ended: Int
        if let sessionID {
            ended = try await endUserSession(sessionID, of: user.id) ? 1 : 0
            guard ended == 1 else { throw RampartError.notFound("Session") }
        } else {
            ended = try await endAllUserSessions(of: user.id)
        }
        guard ended > 0 else { return 0 }
        var details = AuditDetails(["count": .int(Int64(ended))])
        if let sessionID { details["session_id"] = .string(sessionID) }
        try await appendAudit([context.record(.userSessionsEnded, [.user(user)], details: details, at: clock())])
        return ended
    }

    /// Removes every factor and recovery code of a user, so they enrol again at their next
    /// sign-in (within their policy's grace period). No event when there was nothing to remove.
    public func resetMFA(of userID: String, by context: AuditContext) async throws -> (factors: Int, recoveryCodes: Int) {
        let user = try await requireUser(userID)
        let factors = try await sql.raw("""
            DELETE FROM auth_factors WHERE org_id = \(bind: orgID) AND user_id = \(bind: user.id) RETURNING id
            """).all().count
        let codes = try await sql.raw("""
            DELETE FROM recovery_codes WHERE org_id = \(bind: orgID) AND user_id = \(bind: user.id) AND used_at IS NULL
            RETURNING code_hash
            """).all().count
        try await sql.raw("DELETE FROM recovery_codes WHERE org_id = \(bind: orgID) AND user_id = \(bind: user.id)").run()
        guard factors + codes > 0 else { return (0, 0) }
        let details = AuditDetails(["factors_removed": .int(Int64(factors)), "recovery_codes_removed": .int(Int64(codes))])
        try await appendAudit([context.record(.mfaReset, [.user(user)], details: details, at: clock())])
        return (factors, codes)
    }

    /// An admin's forced reset: the current password stops working, every session ends, and a
    /// new one-time reset link is issued (its secret is returned once, to the admin).
    public func forcePasswordReset(of userID: String, by context: AuditContext) async throws -> (secret: String, sessionsEnded: Int) {
        let user = try await requireUser(userID)
        guard user.status == .active else {
            throw RampartError(.conflict, "The user is deactivated; reactivate them before forcing a password reset.")
        }
        try await sql.raw("DELETE FROM user_passwords WHERE org_id = \(bind: orgID) AND user_id = \(bind: user.id)").run()
        let ended = try await endAllUserSessions(of: user.id)
        let secret = try await createPasswordResetToken(for: user.id)
        try await appendAudit([context.record(.passwordResetForced, [.user(user)],
                                              details: AuditDetails(["sessions_ended": .int(Int64(ended))]), at: clock())])
        return (secret, ended)
    }

    /// Stores a hash brought from another system as the user's password; sign-in verifies it
    /// with `ImportedPasswordHash` and replaces it with Argon2id on success. An unreadable hash
    /// is refused before anything changes; the hash itself is never echoed or audited.
    @discardableResult
    public func importPasswordHash(_ text: String, for userID: String, by context: AuditContext) async throws -> String {
        let imported = try ImportedPasswordHash(parsing: text)
        let user = try await requireUser(userID)
        try await setPasswordHash(text, for: user.id, at: clock())
        try await appendAudit([context.record(.passwordHashImported, [.user(user)],
                                              details: AuditDetails(["scheme": .string(imported.scheme)]), at: clock())])
        return imported.scheme
    }
}
