import Foundation
import RampartAuthn
import RampartCore
import RampartStorage

/// What the API, the console and the CLI share when an admin manages authentication: the
/// rules around the storage calls and the shapes the results are shown in, so that the three
/// surfaces cannot drift apart.
extension Tenant {
    /// A stored policy, or the default (stored or built-in) when `id` names it; `default`
    /// names it even after it is first stored under an id of its own.
    public func requirePolicy(_ id: String) async throws -> AuthenticationPolicy {
        let defaultPolicy = try await defaultAuthenticationPolicy()
        if defaultPolicy.id == id || id == Tenant.builtInDefaultPolicyID { return defaultPolicy }
        guard let policy = try await authenticationPolicy(id) else { throw RampartError.notFound("Authentication policy") }
        return policy
    }

    /// Every policy, the default first even before it is first stored.
    public func authenticationPoliciesWithDefault() async throws -> [AuthenticationPolicy] {
        let stored = try await authenticationPolicies()
        let defaultPolicy = try await defaultAuthenticationPolicy()
        return stored.contains(where: \.isDefault) ? stored : [defaultPolicy] + stored
    }

    /// Assigns a policy to a user or group; the default needs no assignment, so assigning it is
    /// refused. `override` saves it even if it leaves no org-admin able to sign in.
    public func assignPolicy(_ policyID: String, to target: PolicyAssignmentTarget, override: Bool = false,
                             by audit: AuditContext) async throws {
        let policy = try await requirePolicy(policyID)
        if policy.isDefault {
            throw RampartError(.conflict, "The default policy applies without assignment; remove the other assignment instead.")
        }
        try await assignAuthenticationPolicy(policy.id, to: target, override: override, by: audit)
    }

    /// Removes the assignment only if it is this policy's, so a stale request cannot remove another one.
    public func unassignPolicy(_ policyID: String, from target: PolicyAssignmentTarget, override: Bool = false,
                               by audit: AuditContext) async throws {
        guard try await assignedPolicyID(target) == (try await requirePolicy(policyID)).id else {
            throw RampartError.notFound("Policy assignment")
        }
        try await assignAuthenticationPolicy(nil, to: target, override: override, by: audit)
    }

    /// A user's factors and how many recovery codes they have left.
    public func factorSummary(of userID: String) async throws -> FactorsBody {
        let user = try await requireUser(userID)
        return FactorsBody(data: try await factors(of: user.id).map(FactorBody.init),
                           unusedRecoveryCodes: try await unusedRecoveryCodeCount(of: user.id))
    }

    /// Forces a password reset and builds the one-time link at `publicURL`; the link exists
    /// only in the result, Rampart keeps its hash.
    public func forcePasswordReset(of userID: String, publicURL: String, by audit: AuditContext) async throws -> PasswordResetBody {
        let (secret, ended) = try await forcePasswordReset(of: userID, by: audit)
        let slug = try await organization().slug
        return PasswordResetBody(token: secret, url: PublicLink.to("/o/\(slug)/reset?token=\(secret)", at: publicURL),
                                 expiresAt: Timestamp.now().adding(seconds: Tenant.passwordResetLifetime),
                                 sessionsEnded: ended)
    }
}

/// A policy as it is shown; one policy alone also says where it is assigned.
public struct PolicyBody: Encodable, Sendable {
    public struct Assignment: Encodable, Sendable {
        public let type: String
        public let id: String
        public let name: String
    }

    public let id: String
    public let name: String
    public let isDefault: Bool
    public let settings: AuthenticationPolicySettings
    public let assignments: [Assignment]?

    public init(_ policy: AuthenticationPolicy, assignments: [PolicyAssignment]? = nil) {
        id = policy.id; name = policy.name; isDefault = policy.isDefault; settings = policy.settings
        self.assignments = assignments?.map { assignment in
            switch assignment.target {
            case .user(let id): Assignment(type: "user", id: id, name: assignment.name)
            case .group(let id): Assignment(type: "group", id: id, name: assignment.name)
            }
        }
    }
}

public struct SessionBody: Encodable, Sendable {
    public let id: String
    public let createdAt: Timestamp
    public let expiresAt: Timestamp
    /// When the session ends if it is not used again before then.
    public let idleExpiresAt: Timestamp
    public let lastSeenAt: Timestamp
    public let ip: String?
    public let userAgent: String?
    public let mfaCompleted: Bool

    public init(_ session: UserSession) {
        id = session.id; createdAt = session.createdAt; expiresAt = session.expiresAt
        idleExpiresAt = session.lastSeenAt.adding(seconds: Double(session.idleTimeoutSeconds))
        lastSeenAt = session.lastSeenAt; ip = session.ip; userAgent = session.userAgent; mfaCompleted = session.mfaCompleted
    }
}

public struct FactorBody: Encodable, Sendable {
    public let id: String
    public let kind: String
    public let label: String
    public let state: String
    public let createdAt: Timestamp
    public let lastUsedAt: Timestamp?

    public init(_ factor: Factor) {
        id = factor.id; kind = factor.kind.rawValue; label = factor.label; state = factor.state.rawValue
        createdAt = factor.createdAt; lastUsedAt = factor.lastUsedAt
    }
}

public struct FactorsBody: Encodable, Sendable {
    public let data: [FactorBody]
    public let unusedRecoveryCodes: Int
}

public struct PasswordResetBody: Encodable, Sendable {
    public let token: String
    public let url: String
    public let expiresAt: Timestamp
    public let sessionsEnded: Int
}

/// Which policy governs a person and why: the source, the policies behind it, and for
/// policies merged from several groups, which policies each setting's value came from.
public struct EffectivePolicyBody: Encodable, Sendable {
    public struct PolicyRef: Encodable, Sendable {
        public let id: String
        public let name: String
        /// The group the policy is assigned to, when it applies through a group.
        public let groupId: String?
        public let groupName: String?
    }

    public let userId: String
    /// `user`, `groups` or `default`.
    public let source: String
    public let reason: String
    public let policies: [PolicyRef]
    public let settings: AuthenticationPolicySettings
    /// Setting name → ids of the policies whose value it is (every contributing policy when they agree).
    public let provenance: [String: [String]]

    public static func explain(user: User, in tenant: Tenant) async throws -> EffectivePolicyBody {
        let effective = try await tenant.effectivePolicy(for: user.id)
        switch effective.source {
        case .user(let policyID):
            let policy = try await tenant.requirePolicy(policyID)
            return EffectivePolicyBody(
                userId: user.id, source: "user", reason: "A policy is assigned to the user directly; it wins whole.",
                policies: [PolicyRef(id: policy.id, name: policy.name, groupId: nil, groupName: nil)],
                settings: effective.settings, provenance: try provenance(effective.settings, from: [policy]))
        case .organizationDefault(let policyID):
            let policy = try await tenant.requirePolicy(policyID)
            return EffectivePolicyBody(
                userId: user.id, source: "default",
                reason: "No policy is assigned to the user or their groups; the organisation's default applies.",
                policies: [PolicyRef(id: policy.id, name: policy.name, groupId: nil, groupName: nil)],
                settings: effective.settings, provenance: try provenance(effective.settings, from: [policy]))
        case .groups(let policyIDs):
            var policies: [AuthenticationPolicy] = []
            for id in policyIDs { policies.append(try await tenant.requirePolicy(id)) }
            let byID = Dictionary(uniqueKeysWithValues: policies.map { ($0.id, $0) })
            let refs = try await tenant.groupPolicyAssignments(of: user.id).compactMap { assignment in
                byID[assignment.policyID].map {
                    PolicyRef(id: $0.id, name: $0.name, groupId: assignment.groupID, groupName: assignment.groupName)
                }
            }
            return EffectivePolicyBody(
                userId: user.id, source: "groups",
                reason: policies.count == 1 ? "The policy of the user's group applies."
                    : "The policies of the user's groups are combined setting by setting, each taking the stricter value.",
                policies: refs, settings: effective.settings, provenance: try provenance(effective.settings, from: policies))
        }
    }

    /// For each setting, the policies that hold the effective value.
    private static func provenance(_ settings: AuthenticationPolicySettings, from policies: [AuthenticationPolicy]) throws
        -> [String: [String]] {
        let effective = try object(settings)
        var out: [String: [String]] = [:]
        for name in PolicySettingsInput.names { out[name] = [] }
        for policy in policies {
            let values = try object(policy.settings)
            for name in PolicySettingsInput.names where values[name] ?? .null == effective[name] ?? .null {
                out[name, default: []].append(policy.id)
            }
        }
        return out
    }

    private static func object(_ settings: AuthenticationPolicySettings) throws -> [String: JSONValue] {
        guard case .object(let o) = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(settings)) else { return [:] }
        return o
    }
}

/// Settings sent by a client: only the named settings change (nested `password` settings
/// likewise), every name must be a setting, and the result must be valid as a whole.
public enum PolicySettingsInput {
    public static let names: Set<String> = [
        "passwordSignInAllowed", "mfaRequired", "mfaEnrolmentGraceDays", "ssoRequired", "breakGlassUserIDs",
        "sessionLifetimeSeconds", "idleTimeoutSeconds", "ipAllowlist", "apiTokensAllowed", "apiTokenMaxLifetimeDays",
        "password",
    ]
    static let passwordNames: Set<String> = ["minimumLength", "minimumLengthSingleFactor", "maximumLength"]
    static let nullable: Set<String> = ["ipAllowlist", "apiTokenMaxLifetimeDays"]

    public static func apply(_ input: JSONValue?, to base: AuthenticationPolicySettings) throws -> AuthenticationPolicySettings {
        guard let input else { return base }
        guard case .object(let changes) = input else { throw RampartError.invalidField("settings", "must be an object") }
        try check(changes, allowed: names, field: "settings")
        if case .object(let password)? = changes["password"] { try check(password, allowed: passwordNames, field: "settings.password") }
        for (name, value) in changes where value == .null && !nullable.contains(name) {
            throw RampartError.invalidField("settings.\(name)", "must not be null")
        }
        let encoder = JSONEncoder()
        guard case .object(var merged) = try JSONDecoder().decode(JSONValue.self, from: try encoder.encode(base)) else {
            throw RampartError(.internalError, "Policy settings could not be read.")
        }
        for (name, value) in changes {
            if name == "password", case .object(let password) = value, case .object(var current)? = merged[name] {
                current.merge(password) { _, new in new }
                merged[name] = .object(current)
            } else {
                merged[name] = value
            }
        }
        do {
            return try JSONDecoder().decode(AuthenticationPolicySettings.self, from: try encoder.encode(JSONValue.object(merged)))
        } catch let error as DecodingError {
            let field = error.fieldName
            throw RampartError.invalidField(field.isEmpty ? "settings" : "settings.\(field)", error.problem)
        }
    }

    private static func check(_ object: [String: JSONValue], allowed: Set<String>, field: String) throws {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw RampartError(.unknownField, "Unknown field '\(field).\(unknown.prefix(64))'; allowed: \(allowed.sorted().joined(separator: ", ")).")
        }
    }
}

/// A proposal as the API and the console state it, turned into the steps the simulation
/// applies: a new policy (no `policyID`) or new settings for an existing one, then
/// assignments made and removed.
public struct PolicyProposal: Sendable {
    /// The id a proposed policy carries while it is simulated; never stored.
    public static let proposedID = "proposed"

    public var policyID: String?
    public var settings: JSONValue?
    public var assignTo: [PolicyAssignmentTarget]
    public var unassignFrom: [PolicyAssignmentTarget]

    public init(policyID: String?, settings: JSONValue?, assignTo: [PolicyAssignmentTarget],
                unassignFrom: [PolicyAssignmentTarget]) {
        self.policyID = policyID; self.settings = settings; self.assignTo = assignTo; self.unassignFrom = unassignFrom
    }

    public func changes(in tenant: Tenant) async throws -> [PolicyChange] {
        var changes = [PolicyChange]()
        let target: AuthenticationPolicy
        if let policyID {
            guard policyID == Tenant.builtInDefaultPolicyID || Identifier.canonical(policyID) != nil else {
                throw RampartError.invalidField("policyId", "must be a policy id or \"default\"")
            }
            target = try await tenant.requirePolicy(Identifier.canonical(policyID) ?? policyID)
            if settings != nil {
                changes.append(.settings(policyID: target.id, try PolicySettingsInput.apply(settings, to: target.settings)))
            }
        } else {
            target = AuthenticationPolicy(id: Self.proposedID, name: "Proposed", isDefault: false,
                                          settings: try PolicySettingsInput.apply(settings, to: .standard))
            if let problem = target.settings.problems.first { throw RampartError(.invalidField, "Policy settings: \(problem).") }
            changes.append(.add(target))
        }
        if target.isDefault && !assignTo.isEmpty {
            throw RampartError.invalidField("assignTo", "cannot name people or groups for the default policy, which applies without assignment")
        }
        for assignment in assignTo {
            try await Self.requireExists(assignment, in: tenant)
            changes.append(.assign(policyID: target.id, assignment))
        }
        for assignment in unassignFrom {
            try await Self.requireExists(assignment, in: tenant)
            changes.append(.assign(policyID: nil, assignment))
        }
        return changes
    }

    private static func requireExists(_ target: PolicyAssignmentTarget, in tenant: Tenant) async throws {
        switch target {
        case .user(let id): _ = try await tenant.requireUser(id)
        case .group(let id): _ = try await tenant.requireGroup(id)
        }
    }
}

/// The simulation as the API shows it.
public struct SimulationBody: Encodable, Sendable {
    public let evaluatedAt: Timestamp
    public let windowDays: Int
    public let affectedUsers: [PolicySimulation.PersonRef]
    public let blockedByIpAllowlist: [PolicySimulation.BlockedAddresses]
    public let usersWithoutMfa: [PolicySimulation.MissingFactor]
    public let sessionsEnding: [PolicySimulation.EndingSession]
    public let adminsLosingAccess: [PolicySimulation.AdminLosingAccess]
    public let leavesNoOrgAdminAbleToSignIn: Bool

    public init(_ simulation: PolicySimulation, at now: Timestamp) {
        evaluatedAt = now
        windowDays = Tenant.simulationWindowDays
        affectedUsers = simulation.affectedUsers
        blockedByIpAllowlist = simulation.blockedByIpAllowlist
        usersWithoutMfa = simulation.usersWithoutMfa
        sessionsEnding = simulation.sessionsEnding
        adminsLosingAccess = simulation.adminsLosingAccess
        leavesNoOrgAdminAbleToSignIn = simulation.leavesNoOrgAdminAbleToSignIn
    }
}
