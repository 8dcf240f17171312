import Foundation
import RampartAuthn
import RampartCore
import SQLKit

/// Authentication policies, their assignments to users and groups, and the effective policy
/// of a person (rule in docs/authentication-policies.md).
extension Tenant {
    /// The id the built-in default carries until an organisation stores its own.
    public static let builtInDefaultPolicyID = "default"

    public func authenticationPolicies() async throws -> [AuthenticationPolicy] {
        try await sql.raw("""
            SELECT id, name, is_default, settings FROM authentication_policies WHERE org_id = \(bind: orgID) ORDER BY id
            """).all().map(Self.policy)
    }

    public func authenticationPolicy(_ id: String) async throws -> AuthenticationPolicy? {
        try await sql.raw("""
            SELECT id, name, is_default, settings FROM authentication_policies WHERE org_id = \(bind: orgID) AND id = \(bind: id)
            """).first().map(Self.policy)
    }

    /// The organisation's default policy: the stored one, or the built-in standard settings.
    public func defaultAuthenticationPolicy() async throws -> AuthenticationPolicy {
        if let row = try await sql.raw("""
            SELECT id, name, is_default, settings FROM authentication_policies WHERE org_id = \(bind: orgID) AND is_default = 1
            """).first() { return try Self.policy(row) }
        return AuthenticationPolicy(id: Self.builtInDefaultPolicyID, name: "Default", isDefault: true, settings: .standard)
    }

    public func createAuthenticationPolicy(name rawName: String, settings: AuthenticationPolicySettings,
                                           by context: AuditContext) async throws -> AuthenticationPolicy {
        let name = try Validate.name(rawName, field: "name")
        try Self.validate(settings)
        guard try await sql.raw("""
            SELECT id FROM authentication_policies WHERE org_id = \(bind: orgID) AND name_key = \(bind: name.lowercased())
            """).first() == nil else { throw RampartError(.conflict, "An authentication policy with this name already exists.") }
        let policy = AuthenticationPolicy(id: Identifier.make(), name: name, isDefault: false, settings: settings)
        try await insert(policy)
        try await appendAudit([context.record(.authPolicyCreated, [Self.target(policy)],
                                              details: AuditDetails(["after": try Self.json(settings)]), at: clock())])
        return policy
    }

    /// Changes a policy's settings; `Tenant.builtInDefaultPolicyID` stores the default on its first change.
    /// Sessions the new settings refuse end (see `enforcePolicyChange`).
    public func updateAuthenticationPolicy(_ id: String, settings: AuthenticationPolicySettings, override: Bool = false,
                                           by context: AuditContext) async throws -> AuthenticationPolicy {
        try Self.validate(settings)
        var details = try await enforcePolicyChange([.settings(policyID: id, settings)], override: override)
        let before: AuthenticationPolicy
        if id == Self.builtInDefaultPolicyID, try await defaultAuthenticationPolicy().id == id {
            before = try await defaultAuthenticationPolicy()
            try await insert(AuthenticationPolicy(id: Identifier.make(), name: before.name, isDefault: true, settings: settings))
        } else {
            guard let existing = try await authenticationPolicy(id) else { throw RampartError.notFound("Authentication policy") }
            before = existing
            try await sql.raw("""
                UPDATE authentication_policies SET settings = \(bind: try Self.text(settings)), updated_at = \(bind: clock().microseconds)
                WHERE org_id = \(bind: orgID) AND id = \(bind: id)
                """).run()
        }
        let after = try await defaultOrStored(id: id, before: before)
        details["before"] = try Self.json(before.settings)
        details["after"] = try Self.json(settings)
        try await appendAudit([context.record(.authPolicyUpdated, [Self.target(after)], details: AuditDetails(details),
                                              at: clock())])
        return after
    }

    /// Assigns `policyID` to a user or group, replacing its previous assignment; nil removes it.
    public func assignAuthenticationPolicy(_ policyID: String?, to target: PolicyAssignmentTarget, override: Bool = false,
                                           by context: AuditContext) async throws {
        let (type, targetID, auditTarget) = try await assignmentTarget(target)
        var targets = [auditTarget]
        if let policyID {
            guard let policy = try await authenticationPolicy(policyID), !policy.isDefault else {
                throw RampartError.notFound("Authentication policy")
            }
            targets.insert(Self.target(policy), at: 0)
        }
        let previous = try await sql.raw("""
            SELECT policy_id FROM authentication_policy_assignments WHERE org_id = \(bind: orgID)
            AND target_type = \(bind: type) AND target_id = \(bind: targetID)
            """).first().map { try $0.string("policy_id") }
        guard previous != policyID else { return }
        var details = try await enforcePolicyChange([.assign(policyID: policyID, target)], override: override)
        try await sql.raw("""
            DELETE FROM authentication_policy_assignments WHERE org_id = \(bind: orgID)
            AND target_type = \(bind: type) AND target_id = \(bind: targetID)
            """).run()
        if let policyID {
            try await sql.raw("""
                INSERT INTO authentication_policy_assignments (org_id, target_type, target_id, policy_id, created_at)
                VALUES (\(bind: orgID), \(bind: type), \(bind: targetID), \(bind: policyID), \(bind: clock().microseconds))
                """).run()
        }
        details["target_type"] = .string(type)
        details["target_id"] = .string(targetID)
        details["before"] = previous.map(JSONValue.string) ?? .null
        try await appendAudit([context.record(.authPolicyAssigned, targets, details: AuditDetails(details), at: clock())])
    }

    /// The policy that governs `userID`, and where it comes from.
    public func effectivePolicy(for userID: String) async throws -> EffectivePolicy {
        let defaultPolicy = try await defaultAuthenticationPolicy()
        let userPolicy = try await sql.raw("""
            SELECT p.id, p.name, p.is_default, p.settings FROM authentication_policy_assignments a
            JOIN authentication_policies p ON p.org_id = a.org_id AND p.id = a.policy_id
            WHERE a.org_id = \(bind: orgID) AND a.target_type = 'user' AND a.target_id = \(bind: userID)
            """).first().map(Self.policy)
        let groupPolicies = try await sql.raw("""
            SELECT p.id, p.name, p.is_default, p.settings FROM authentication_policy_assignments a
            JOIN group_members m ON m.org_id = a.org_id AND m.group_id = a.target_id
            JOIN authentication_policies p ON p.org_id = a.org_id AND p.id = a.policy_id
            WHERE a.org_id = \(bind: orgID) AND a.target_type = 'group' AND m.user_id = \(bind: userID)
            """).all().map(Self.policy)
        return EffectivePolicy.resolve(defaultPolicy: defaultPolicy, userPolicy: userPolicy, groupPolicies: groupPolicies)
    }

    private func defaultOrStored(id: String, before: AuthenticationPolicy) async throws -> AuthenticationPolicy {
        if before.isDefault { return try await defaultAuthenticationPolicy() }
        guard let policy = try await authenticationPolicy(id) else { throw RampartError.notFound("Authentication policy") }
        return policy
    }

    private func insert(_ policy: AuthenticationPolicy) async throws {
        let now = clock().microseconds
        try await sql.raw("""
            INSERT INTO authentication_policies (org_id, id, name, name_key, is_default, settings, created_at, updated_at)
            VALUES (\(bind: orgID), \(bind: policy.id), \(bind: policy.name), \(bind: policy.name.lowercased()),
                    \(bind: Int64(policy.isDefault ? 1 : 0)), \(bind: try Self.text(policy.settings)), \(bind: now), \(bind: now))
            """).run()
    }

    private func assignmentTarget(_ target: PolicyAssignmentTarget) async throws -> (String, String, AuditTarget) {
        switch target {
        case .user(let id):
            return ("user", id, .user(try await requireUser(id)))
        case .group(let id):
            guard let row = try await sql.raw("""
                SELECT id, name FROM user_groups WHERE org_id = \(bind: orgID) AND id = \(bind: id)
                """).first() else { throw RampartError.notFound("Group") }
            return ("group", id, AuditTarget(type: "group", id: id, name: try row.string("name")))
        }
    }

    private static func validate(_ settings: AuthenticationPolicySettings) throws {
        if let problem = settings.problems.first { throw RampartError(.invalidField, "Policy settings: \(problem).") }
    }

    private static func target(_ policy: AuthenticationPolicy) -> AuditTarget {
        AuditTarget(type: "auth_policy", id: policy.id, name: policy.name)
    }

    private static func text(_ settings: AuthenticationPolicySettings) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(settings), as: UTF8.self)
    }

    private static func json(_ settings: AuthenticationPolicySettings) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(try text(settings).utf8))
    }

    private static func policy(_ row: any SQLRow) throws -> AuthenticationPolicy {
        AuthenticationPolicy(id: try row.string("id"), name: try row.string("name"), isDefault: try row.int("is_default") != 0,
                             settings: try JSONDecoder().decode(AuthenticationPolicySettings.self, from: Data(try row.string("settings").utf8)))
    }
}
