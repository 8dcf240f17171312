import Foundation
import Hummingbird
import RampartAuthn
import RampartCore
import RampartStorage

/// An admin's view of one person's authentication: the policy that governs them, their
/// sessions and factors, a forced password reset and the import of a password hash.
struct UserAuthenticationController: APIController {
    let services: RampartServices

    /// Who may do what here, in one place: whoever reads the directory reads these, whoever
    /// manages it acts on them. Acting on an org-admin's credentials also takes an org-admin
    /// (`Access.manageAdmin`): otherwise a user-admin could take over an org-admin's account
    /// with a reset link or a hash of their choosing.
    enum Access {
        static let read = Permission.readDirectory
        static let manage = Permission.manageDirectory
    }

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/users/{id}/effective-policy", effectivePolicy),
            APIRoute(.get, "/users/{id}/sessions", sessions),
            APIRoute(.delete, "/users/{id}/sessions", endAllSessions),
            APIRoute(.delete, "/users/{id}/sessions/{sessionId}", endSession),
            APIRoute(.get, "/users/{id}/factors", factors),
            APIRoute(.delete, "/users/{id}/factors", resetMFA),
            APIRoute(.post, "/users/{id}/password-reset", forcePasswordReset),
            APIRoute(.put, "/users/{id}/password-hash", importPasswordHash),
        ]
    }

    struct ImportHashRequest: StrictBody {
        let hash: String
        static let fields: Set<String> = ["hash"]
        static let required: Set<String> = ["hash"]
    }

    @Sendable func effectivePolicy(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(try await read(context, Access.read) { tenant in
            let user = try await tenant.requireUser(id)
            return try await EffectivePolicyBody.explain(user: user, in: tenant)
        })
    }

    @Sendable func sessions(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(ListBody(data: try await read(context, Access.read) { tenant in
            try await tenant.userSessions(of: try await tenant.requireUser(id).id).map(SessionBody.init)
        }))
    }

    @Sendable func endAllSessions(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let ended = try await writeOnUser(id, request, context) { tenant, _, audit in
            try await tenant.endSessions(of: id, by: audit)
        }
        return try JSON.response(["ended": ended])
    }

    @Sendable func endSession(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let sessionID = try context.id("sessionId")
        try await writeOnUser(id, request, context) { tenant, _, audit in
            try await tenant.endSessions(of: id, only: sessionID, by: audit)
        }
        return JSON.noContent()
    }

    @Sendable func factors(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(try await read(context, Access.read) { tenant in
            let user = try await tenant.requireUser(id)
            return FactorsBody(data: try await tenant.factors(of: user.id).map(FactorBody.init),
                               unusedRecoveryCodes: try await tenant.unusedRecoveryCodeCount(of: user.id))
        })
    }

    @Sendable func resetMFA(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let removed = try await writeOnUser(id, request, context) { tenant, _, audit in
            try await tenant.resetMFA(of: id, by: audit)
        }
        return try JSON.response(["factorsRemoved": removed.factors, "recoveryCodesRemoved": removed.recoveryCodes])
    }

    /// The reset link is in this response only: Rampart keeps its hash.
    @Sendable func forcePasswordReset(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let publicURL = services.configuration.publicURL
        let body = try await writeOnUser(id, request, context) { tenant, _, audit in
            let (secret, ended) = try await tenant.forcePasswordReset(of: id, by: audit)
            let slug = try await tenant.organization().slug
            return PasswordResetBody(token: secret, url: "\(publicURL)/o/\(slug)/reset?token=\(secret)",
                                     expiresAt: Timestamp.now().adding(seconds: Tenant.passwordResetLifetime),
                                     sessionsEnded: ended)
        }
        var response = try JSON.response(body, status: .created)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func importPasswordHash(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(ImportHashRequest.self, from: request)
        let scheme = try await writeOnUser(id, request, context) { tenant, _, audit in
            try await tenant.importPasswordHash(body.hash, for: id, by: audit)
        }
        return try JSON.response(["scheme": scheme])
    }

    /// A change to one user's authentication, under `Access.manage`, and only on accounts whose
    /// roles are all within what the caller may grant (`RoleAuthority`).
    @discardableResult
    private func writeOnUser<R: Sendable>(_ userID: String, _ request: Request, _ context: RampartRequestContext,
                                          _ body: @Sendable @escaping (Tenant, User, AuditContext) async throws -> R)
        async throws -> R {
        try await writeAccount(request, context, Access.manage, account: userID) { tenant, audit in
            try await body(tenant, try await tenant.requireUser(userID), audit)
        }
    }
}

struct SessionBody: Encodable, Sendable {
    let id: String
    let createdAt: Timestamp
    let expiresAt: Timestamp
    /// When the session ends if it is not used again before then.
    let idleExpiresAt: Timestamp
    let lastSeenAt: Timestamp
    let ip: String?
    let userAgent: String?
    let mfaCompleted: Bool

    init(_ session: UserSession) {
        id = session.id; createdAt = session.createdAt; expiresAt = session.expiresAt
        idleExpiresAt = session.lastSeenAt.adding(seconds: Double(session.idleTimeoutSeconds))
        lastSeenAt = session.lastSeenAt; ip = session.ip; userAgent = session.userAgent; mfaCompleted = session.mfaCompleted
    }
}

struct FactorBody: Encodable, Sendable {
    let id: String
    let kind: String
    let label: String
    let state: String
    let createdAt: Timestamp
    let lastUsedAt: Timestamp?

    init(_ factor: Factor) {
        id = factor.id; kind = factor.kind.rawValue; label = factor.label; state = factor.state.rawValue
        createdAt = factor.createdAt; lastUsedAt = factor.lastUsedAt
    }
}

struct FactorsBody: Encodable, Sendable {
    let data: [FactorBody]
    let unusedRecoveryCodes: Int
}

struct PasswordResetBody: Encodable, Sendable {
    let token: String
    let url: String
    let expiresAt: Timestamp
    let sessionsEnded: Int
}

/// Which policy governs a person and why: the source, the policies behind it, and for
/// policies merged from several groups, which policies each setting's value came from.
struct EffectivePolicyBody: Encodable, Sendable {
    struct PolicyRef: Encodable, Sendable {
        let id: String
        let name: String
        /// The group the policy is assigned to, when it applies through a group.
        let groupId: String?
        let groupName: String?
    }

    let userId: String
    /// `user`, `groups` or `default`.
    let source: String
    let reason: String
    let policies: [PolicyRef]
    let settings: AuthenticationPolicySettings
    /// Setting name → ids of the policies whose value it is (every contributing policy when they agree).
    let provenance: [String: [String]]

    static func explain(user: User, in tenant: Tenant) async throws -> EffectivePolicyBody {
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
