import Foundation
import Hummingbird
import RampartAuthn
import RampartCore
import RampartStorage

/// `/authentication-policies`: an organisation's policies and where they are assigned.
struct AuthenticationPoliciesController: APIController {
    let services: RampartServices

    /// Who may do what here, in one place. Policies decide who can sign in at all, as roles
    /// decide what people may do, so the same roles govern them: org-admins change them,
    /// org-admins and auditors read them.
    enum Access {
        static let read = Permission.readAuthenticationPolicies
        static let manage = Permission.manageAuthenticationPolicies
    }

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/authentication-policies", list),
            APIRoute(.post, "/authentication-policies", create),
            APIRoute(.get, "/authentication-policies/{id}", show),
            APIRoute(.patch, "/authentication-policies/{id}", update),
            APIRoute(.delete, "/authentication-policies/{id}", delete),
            APIRoute(.put, "/authentication-policies/{id}/users/{userId}", assignUser),
            APIRoute(.delete, "/authentication-policies/{id}/users/{userId}", unassignUser),
            APIRoute(.put, "/authentication-policies/{id}/groups/{groupId}", assignGroup),
            APIRoute(.delete, "/authentication-policies/{id}/groups/{groupId}", unassignGroup),
        ]
    }

    struct CreateRequest: StrictBody {
        let name: String
        let settings: JSONValue?
        static let fields: Set<String> = ["name", "settings"]
        static let required: Set<String> = ["name"]
    }

    struct UpdateRequest: StrictBody {
        let settings: JSONValue
        static let fields: Set<String> = ["settings"]
        static let required: Set<String> = ["settings"]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try JSON.response(ListBody(data: try await read(context, Access.read) { tenant in
            let stored = try await tenant.authenticationPolicies()
            let defaultPolicy = try await tenant.defaultAuthenticationPolicy()
            let all = stored.contains(where: \.isDefault) ? stored : [defaultPolicy] + stored
            return all.map { PolicyBody($0) }
        }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let settings = try PolicySettingsInput.apply(body.settings, to: .standard)
        let policy = try await write(request, context, Access.manage) {
            try await $0.createAuthenticationPolicy(name: body.name, settings: settings, by: $1)
        }
        var response = try JSON.response(PolicyBody(policy), status: .created)
        response.headers[.location] = "/api/v1/authentication-policies/\(policy.id)"
        return response
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try Self.policyID(context)
        return try JSON.response(try await read(context, Access.read) { tenant in
            let policy = try await tenant.requirePolicy(id)
            return PolicyBody(policy, assignments: try await tenant.assignments(ofPolicy: policy.id))
        })
    }

    /// `settings` holds only the settings to change; the others keep their values.
    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try Self.policyID(context)
        let override = try request.flag("override")
        let body = try await Body.decode(UpdateRequest.self, from: request)
        return try JSON.response(PolicyBody(try await write(request, context, Access.manage) { tenant, audit in
            let existing = try await tenant.requirePolicy(id)
            let settings = try PolicySettingsInput.apply(body.settings, to: existing.settings)
            return try await tenant.updateAuthenticationPolicy(existing.id, settings: settings, override: override, by: audit)
        }))
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try Self.policyID(context)
        let override = try request.flag("override")
        try await write(request, context, Access.manage) {
            try await $0.deleteAuthenticationPolicy(id, override: override, by: $1)
        }
        return JSON.noContent()
    }

    @Sendable func assignUser(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await assign(request, context, .user(try context.id("userId")))
    }

    @Sendable func unassignUser(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await unassign(request, context, .user(try context.id("userId")))
    }

    @Sendable func assignGroup(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await assign(request, context, .group(try context.id("groupId")))
    }

    @Sendable func unassignGroup(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await unassign(request, context, .group(try context.id("groupId")))
    }

    private func assign(_ request: Request, _ context: RampartRequestContext, _ target: PolicyAssignmentTarget) async throws -> Response {
        let id = try Self.policyID(context)
        let override = try request.flag("override")
        try await write(request, context, Access.manage) { tenant, audit in
            let policy = try await tenant.requirePolicy(id)
            if policy.isDefault {
                throw RampartError(.conflict, "The default policy applies without assignment; remove the other assignment instead.")
            }
            try await tenant.assignAuthenticationPolicy(policy.id, to: target, override: override, by: audit)
        }
        return JSON.noContent()
    }

    /// Removes the assignment only if it is this policy's, so a stale request cannot remove another one.
    private func unassign(_ request: Request, _ context: RampartRequestContext, _ target: PolicyAssignmentTarget) async throws -> Response {
        let id = try Self.policyID(context)
        let override = try request.flag("override")
        try await write(request, context, Access.manage) { tenant, audit in
            guard try await tenant.assignedPolicyID(target) == (try await tenant.requirePolicy(id)).id else {
                throw RampartError.notFound("Policy assignment")
            }
            try await tenant.assignAuthenticationPolicy(nil, to: target, override: override, by: audit)
        }
        return JSON.noContent()
    }

    /// A policy id is a UUID, or `default` for the built-in default before it is first stored.
    static func policyID(_ context: RampartRequestContext) throws -> String {
        if context.pathParameter("id") == Tenant.builtInDefaultPolicyID { return Tenant.builtInDefaultPolicyID }
        return try context.id()
    }
}

extension Tenant {
    /// A stored policy, or the default (stored or built-in) when `id` names it; `default`
    /// names it even after it is first stored under an id of its own.
    func requirePolicy(_ id: String) async throws -> AuthenticationPolicy {
        let defaultPolicy = try await defaultAuthenticationPolicy()
        if defaultPolicy.id == id || id == Tenant.builtInDefaultPolicyID { return defaultPolicy }
        guard let policy = try await authenticationPolicy(id) else { throw RampartError.notFound("Authentication policy") }
        return policy
    }
}

/// A policy as the API shows it; one policy alone also says where it is assigned.
struct PolicyBody: Encodable, Sendable {
    struct Assignment: Encodable, Sendable {
        let type: String
        let id: String
        let name: String
    }

    let id: String
    let name: String
    let isDefault: Bool
    let settings: AuthenticationPolicySettings
    let assignments: [Assignment]?

    init(_ policy: AuthenticationPolicy, assignments: [PolicyAssignment]? = nil) {
        id = policy.id; name = policy.name; isDefault = policy.isDefault; settings = policy.settings
        self.assignments = assignments?.map { assignment in
            switch assignment.target {
            case .user(let id): Assignment(type: "user", id: id, name: assignment.name)
            case .group(let id): Assignment(type: "group", id: id, name: assignment.name)
            }
        }
    }
}

/// Settings sent by a client: only the named settings change (nested `password` settings
/// likewise), every name must be a setting, and the result must be valid as a whole.
enum PolicySettingsInput {
    static let names: Set<String> = [
        "passwordSignInAllowed", "mfaRequired", "mfaEnrolmentGraceDays", "ssoRequired", "breakGlassUserIDs",
        "sessionLifetimeSeconds", "idleTimeoutSeconds", "ipAllowlist", "apiTokensAllowed", "apiTokenMaxLifetimeDays",
        "password",
    ]
    static let passwordNames: Set<String> = ["minimumLength", "minimumLengthSingleFactor", "maximumLength"]
    static let nullable: Set<String> = ["ipAllowlist", "apiTokenMaxLifetimeDays"]

    static func apply(_ input: JSONValue?, to base: AuthenticationPolicySettings) throws -> AuthenticationPolicySettings {
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
