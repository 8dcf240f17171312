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
            try await tenant.authenticationPoliciesWithDefault().map { PolicyBody($0) }
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
        try await write(request, context, Access.manage) { try await $0.assignPolicy(id, to: target, override: override, by: $1) }
        return JSON.noContent()
    }

    private func unassign(_ request: Request, _ context: RampartRequestContext, _ target: PolicyAssignmentTarget) async throws -> Response {
        let id = try Self.policyID(context)
        let override = try request.flag("override")
        try await write(request, context, Access.manage) {
            try await $0.unassignPolicy(id, from: target, override: override, by: $1)
        }
        return JSON.noContent()
    }

    /// A policy id is a UUID, or `default` for the built-in default before it is first stored.
    static func policyID(_ context: RampartRequestContext) throws -> String {
        if context.pathParameter("id") == Tenant.builtInDefaultPolicyID { return Tenant.builtInDefaultPolicyID }
        return try context.id()
    }
}
