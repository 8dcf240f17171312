import Hummingbird
import RampartCore
import RampartStorage

/// Giving and taking roles from a user's page, through the same storage calls as
/// `PUT`/`DELETE /users/{id}/roles/{role}` and `rampart user grant-role`/`revoke-role`.
struct ConsoleRolesController: ConsolePageController {
    let services: RampartServices

    /// Who may change roles at all; which roles on which accounts is `RoleAuthority`'s table.
    static let permission: Permission = .manageRoles

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.post("users/{id}/roles", use: grant)
        group.get("users/{id}/roles/{role}/revoke", use: confirmRevoke)
        group.post("users/{id}/roles/{role}/revoke", use: revoke)
    }

    @Sendable func grant(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context)
        guard let role = Role(rawValue: form["role"]) else {
            throw RampartError.invalidField("role", "must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try await writeAccount(request, context, Self.permission, account: id, assigning: role) {
            try await $0.assignRole(role, to: id, by: $1)
        }
        return ConsoleRenderer.redirect(ConsoleNotice.roleGiven.after("/console/users/\(id)"))
    }

    @Sendable func confirmRevoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let role = try context.role()
        let user = try await read(context, Self.permission) { try await $0.requireUser(id) }
        return ConsoleConfirmation(
            question: "Take the role \(role.rawValue) from \(user.email)?",
            consequence: "They lose what \(role.rawValue) allows at their next request.",
            action: "/console/users/\(user.id)/roles/\(role.rawValue)/revoke", button: "Take role",
            cancel: "/console/users/\(user.id)"
        ).page(context, active: "users")
    }

    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let role = try context.role()
        _ = try await form(request, context)
        try await writeAccount(request, context, Self.permission, account: id, assigning: role) {
            try await $0.revokeRole(role, from: id, by: $1)
        }
        return ConsoleRenderer.redirect(ConsoleNotice.roleTaken.after("/console/users/\(id)"))
    }
}
