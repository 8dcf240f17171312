import Hummingbird
import RampartCore
import RampartStorage

/// Deleting a user, group or product from its page: a confirmation page first, then the same
/// storage call as `DELETE /users|groups|products/{id}` (and the same refusals, such as the
/// last active org-admin), then the list with a banner saying what was deleted.
struct ConsoleDeletionController: ConsolePageController {
    let services: RampartServices

    enum Kind: String, CaseIterable, Sendable {
        case users, groups, products
    }

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        for kind in Kind.allCases {
            group.get(RouterPath("\(kind.rawValue)/{id}/delete")) { try await self.confirm(kind, $0, $1) }
            group.post(RouterPath("\(kind.rawValue)/{id}/delete")) { try await self.delete(kind, $0, $1) }
        }
    }

    func confirm(_ kind: Kind, _ request: Request, _ context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let (name, consequence) = try await read(context, .manageDirectory) { tenant -> (String, String) in
            switch kind {
            case .users:
                return (try await tenant.requireUser(id).email,
                        "Their group memberships, roles and sessions go with them. To keep the record, deactivate instead.")
            case .groups:
                return (try await tenant.requireGroup(id).name,
                        "Its members lose the products it gives, unless another of their groups gives them.")
            case .products:
                return (try await tenant.requireProduct(id).name, "Every group loses access to it.")
            }
        }
        return ConsoleConfirmation(
            question: "Delete \(name)?", consequence: consequence + " This cannot be undone.",
            action: "/console/\(kind.rawValue)/\(id)/delete", button: "Delete", cancel: "/console/\(kind.rawValue)/\(id)"
        ).page(context, active: kind.rawValue)
    }

    func delete(_ kind: Kind, _ request: Request, _ context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        switch kind {
        case .users:
            try await writeAccount(request, context, .manageDirectory, account: id) { try await $0.deleteUser(id, by: $1) }
        case .groups:
            try await write(request, context, .manageDirectory) { try await $0.deleteGroup(id, by: $1) }
        case .products:
            try await write(request, context, .manageDirectory) { try await $0.deleteProduct(id, by: $1) }
        }
        return ConsoleRenderer.redirect(ConsoleNotice.deleted.after("/console/\(kind.rawValue)"))
    }
}
