import Hummingbird
import RampartCore
import RampartStorage

struct ConsoleUsersController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("users", use: list)
        group.post("users", use: create)
        group.get("users/{id}", use: show)
        group.get("users/{id}/deactivate", use: confirmDeactivate)
        group.post("users/{id}/deactivate") { try await self.setStatus($0, $1, .deactivated) }
        group.post("users/{id}/reactivate") { try await self.setStatus($0, $1, .active) }
        group.get("users/{id}/erase", use: confirmErase)
        group.post("users/{id}/erase", use: erase)
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await listPage(request, context, form: [:])
    }

    private func listPage(_ request: Request, _ context: RampartRequestContext, form: [String: String],
                          error: RampartError? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let search = String((request.queryValue("q") ?? "").prefix(200))
        let after = request.uri.queryParameters.get("cursor").flatMap(Identifier.canonical)
        let page = try await read(context, .readDirectory) {
            try await $0.users(UserFilter(search: search), page: PageRequest(after: after, limit: 50))
        }
        return ConsoleRenderer.page("users", ConsolePage.values(context, title: "Users", active: "users", extra: [
            "users": page.items.map(ConsolePage.user), "q": search, "nextCursor": page.nextCursor ?? "",
            "hasNext": page.nextCursor != nil,
        ].merging(ConsoleFormField.values(ConsoleFormField.user, typed: form, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context)
        do {
            let user = try await write(request, context, .manageDirectory) {
                try await $0.createUser(email: form["email"], displayName: form["display_name"], by: $1)
            }
            return ConsoleRenderer.redirect(ConsoleNotice.userCreated.after("/console/users/\(user.id)"))
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let (user, groups, access, signIn) = try await read(context, .readDirectory) { tenant in
            let user = try await tenant.requireUser(id)
            return (user, try await tenant.groupsOf(user: user.id), try await tenant.effectiveAccess(ofUser: user.id),
                    try await ConsoleUserAuthenticationController.Section.read(user, in: tenant))
        }
        let grants = access.map { grant -> [String: Any] in
            ["product": ConsolePage.product(grant.product), "via": grant.via.map { ["id": $0.id, "name": $0.name] }]
        }
        return ConsoleRenderer.page("user", ConsolePage.values(context, title: user.email, active: "users", extra: [
            "user": ConsolePage.user(user), "groups": groups.map(ConsolePage.group), "hasGroups": !groups.isEmpty,
            "access": grants, "hasAccess": !grants.isEmpty,
            "heldRoles": user.roles.map { ["role": $0.rawValue] },
            "givableRoles": Role.allCases.filter { !user.roles.contains($0) }.map { ["role": $0.rawValue] },
            "canManageRoles": context.principal?.can(ConsoleRolesController.permission) ?? false,
            "signIn": signIn.values(user, context), "canMail": services.configuration.mail != nil,
        ].merging(ConsoleNotice.values(request)) { $1 }))
    }

    @Sendable func confirmDeactivate(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let user = try await read(context, .manageDirectory) { try await $0.requireUser(id) }
        return ConsoleConfirmation(
            question: "Deactivate \(user.email)?",
            consequence: "They are signed out everywhere at once, their reset links stop working and the API tokens "
                + "they created are revoked. Reactivating them later does not bring the tokens back.",
            action: "/console/users/\(user.id)/deactivate", button: "Deactivate", cancel: "/console/users/\(user.id)"
        ).page(context, active: "users")
    }

    @Sendable func confirmErase(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let user = try await read(context, .eraseUsers) { try await $0.requireUser(id) }
        return ConsoleConfirmation(
            question: "Erase \(user.email) from the audit log?",
            consequence: "They are deleted, and the key their name, email, IP addresses and user agents in the audit "
                + "log are sealed under is destroyed: their events stay and still verify, but read as “erased user” "
                + "everywhere, in exports and in log streams. Events written before personal data was sealed keep "
                + "naming them. This cannot be undone.",
            action: "/console/users/\(user.id)/erase", button: "Erase", cancel: "/console/users/\(user.id)"
        ).page(context, active: "users")
    }

    /// The same erasure as `POST /api/v1/users/{id}/erase`, then the user list with a banner.
    @Sendable func erase(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        _ = try await write(request, context, .eraseUsers) { try await $0.eraseUser(id, by: $1) }
        await services.database.scrubAfterErasure()
        return ConsoleRenderer.redirect(ConsoleNotice.userErased.after("/console/users"))
    }

    func setStatus(_ request: Request, _ context: RampartRequestContext, _ status: UserStatus) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        let user = try await writeAccount(request, context, .manageDirectory, account: id) {
            try await $0.setUserStatus(id, status, by: $1)
        }
        let notice: ConsoleNotice = status == .active ? .reactivated : .deactivated
        return ConsoleRenderer.redirect(notice.after("/console/users/\(user.id)"))
    }
}
