import Hummingbird
import RampartCore
import RampartStorage

struct ConsoleGroupsController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("groups", use: list)
        group.post("groups", use: create)
        group.get("groups/{id}", use: show)
        group.post("groups/{id}/members", use: addMember)
        group.get("groups/{id}/members/{userId}/remove", use: confirmRemoveMember)
        group.post("groups/{id}/members/{userId}/remove", use: removeMember)
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await listPage(request, context, form: [:])
    }

    private func listPage(_ request: Request, _ context: RampartRequestContext, form: [String: String],
                          error: RampartError? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let after = request.uri.queryParameters.get("cursor").flatMap(Identifier.canonical)
        let page = try await read(context, .readDirectory) { try await $0.groups(page: PageRequest(after: after, limit: 50)) }
        return ConsoleRenderer.page("groups", ConsolePage.values(context, title: "Groups", active: "groups", extra: [
            "groups": page.items.map(ConsolePage.group), "nextCursor": page.nextCursor ?? "",
            "hasNext": page.nextCursor != nil,
        ].merging(ConsoleFormField.values(ConsoleFormField.group, typed: form, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context)
        do {
            let group = try await write(request, context, .manageDirectory) {
                try await $0.createGroup(name: form["name"], description: form["description"], by: $1)
            }
            return ConsoleRenderer.redirect(ConsoleNotice.groupCreated.after("/console/groups/\(group.id)"))
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await showPage(request, context, error: nil)
    }

    private func showPage(_ request: Request, _ context: RampartRequestContext, error: String?,
                          status: HTTPResponse.Status = .ok) async throws -> Response {
        let id = try context.id()
        let (group, members, products) = try await read(context, .readDirectory) { tenant in
            let group = try await tenant.requireGroup(id)
            return (group, try await tenant.groupMembers(group.id, page: PageRequest(limit: 200)).items,
                    try await tenant.productsOf(group: group.id))
        }
        return ConsoleRenderer.page("group", ConsolePage.values(context, title: group.name, active: "groups", extra: [
            "group": ConsolePage.group(group), "members": members.map(ConsolePage.user), "hasMembers": !members.isEmpty,
            "products": products.map(ConsolePage.product), "hasProducts": !products.isEmpty,
            "error": error ?? "", "hasError": error != nil,
        ].merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func addMember(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context)
        do {
            try await write(request, context, .manageDirectory) { tenant, audit in
                guard let user = try await tenant.user(email: form["email"]) else {
                    throw RampartError.invalidField("email", "does not belong to a user of this organization")
                }
                try await tenant.addMember(user.id, to: id, by: audit)
            }
        } catch let error as RampartError where isFormError(error) {
            return try await showPage(request, context, error: error.message, status: error.httpStatus)
        }
        return ConsoleRenderer.redirect("/console/groups/\(id)")
    }

    @Sendable func confirmRemoveMember(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let userID = try context.id("userId")
        let (group, user) = try await read(context, .manageDirectory) {
            (try await $0.requireGroup(id), try await $0.requireUser(userID))
        }
        return ConsoleConfirmation(
            question: "Remove \(user.email) from \(group.name)?",
            consequence: "They lose the products \(group.name) gives, unless another of their groups gives them too.",
            action: "/console/groups/\(group.id)/members/\(user.id)/remove", button: "Remove",
            cancel: "/console/groups/\(group.id)"
        ).page(context, active: "groups")
    }

    @Sendable func removeMember(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let userID = try context.id("userId")
        _ = try await form(request, context)
        try await write(request, context, .manageDirectory) { try await $0.removeMember(userID, from: id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.memberRemoved.after("/console/groups/\(id)"))
    }
}
