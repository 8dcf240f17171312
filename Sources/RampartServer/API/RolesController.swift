import Hummingbird
import RampartCore
import RampartStorage

/// Organisation role assignments. Who may give and take which role, on whose account, is
/// `RoleAuthority`: a user-admin gives and takes user-admin and auditor, never org-admin.
struct RolesController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/users/{id}/roles", listForUser),
            APIRoute(.put, "/users/{id}/roles/{role}", assign),
            APIRoute(.delete, "/users/{id}/roles/{role}", revoke),
            APIRoute(.get, "/role-assignments", list),
        ]
    }

    @Sendable func listForUser(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let assignments = try await read(context, .readRoles) { tenant in
            let user = try await tenant.requireUser(id)
            return try await tenant.roleAssignments(userID: user.id).items
        }
        return try JSON.response(ListBody(data: assignments))
    }

    @Sendable func assign(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let role = try context.role()
        try await writeAccount(request, context, .manageRoles, account: id, assigning: role) {
            try await $0.assignRole(role, to: id, by: $1)
        }
        return JSON.noContent()
    }

    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let role = try context.role()
        try await writeAccount(request, context, .manageRoles, account: id, assigning: role) {
            try await $0.revokeRole(role, from: id, by: $1)
        }
        return JSON.noContent()
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let limit = try request.limit()
        var after: String?
        if let cursor = try request.query("cursor") {
            let parts = cursor.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let id = Identifier.canonical(parts[0]), Role(rawValue: parts[1]) != nil else {
                throw Request.badCursor
            }
            after = "\(id)/\(parts[1])"
        }
        let page = PageRequest(after: after, limit: limit)
        return try JSON.response(PageBody(try await read(context, .readRoles) { try await $0.roleAssignments(page: page) }))
    }
}
