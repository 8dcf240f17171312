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
            APIRoute(.post, "/users/{id}/invitation", invite),
        ]
    }

    struct InviteRequest: StrictBody {
        let expiresInDays: Int?
        let send: Bool?
        static let fields: Set<String> = ["expiresInDays", "send"]
        static let mayBeEmpty = true
    }

    /// A setup link for a person without a password; a new one ends the earlier ones.
    @Sendable func invite(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(InviteRequest.self, from: request)
        let (publicURL, canSend, keys) = (services.configuration.publicURL, services.configuration.mail != nil, services.keys)
        let invitation = try await writeOnUser(id, request, context) { tenant, _, audit in
            try await tenant.inviteUser(id, days: body.expiresInDays ?? 7, send: body.send ?? false, publicURL: publicURL,
                                        canSend: canSend, keys: keys, by: audit)
        }
        if invitation.mailed, let orgID = context.credential?.orgID { services.mailWakeups.wake(orgID) }
        var response = try JSON.response(invitation, status: .created)
        response.headers[.cacheControl] = "no-store"
        return response
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
            try await tenant.factorSummary(of: id)
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
            try await tenant.forcePasswordReset(of: id, publicURL: publicURL, by: audit)
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
