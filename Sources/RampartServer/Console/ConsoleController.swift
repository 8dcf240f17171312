import Hummingbird
import RampartCore
import RampartStorage

/// The sign-in pages and My account for everyone, then the admin console behind a session.
struct ConsoleController: Sendable {
    let services: RampartServices

    func addRoutes(to router: Router<RampartRequestContext>) {
        // The server's root is where a person who typed its address wants to be.
        router.get("/") { _, _ in ConsoleRenderer.redirect("/console") }
        let signIn = ConsoleSignInController(services: services)
        signIn.addRoutes(to: router)
        SignInController(services: services).addRoutes(to: router)
        AccountController(services: services).addRoutes(to: router)
        PasswordResetController(services: services).addRoutes(to: router)
        ForgotPasswordController(services: services).addRoutes(to: router)
        let console = router.group("console").add(middleware: ConsoleSessionMiddleware(services: services))
        console.post("signout", use: signIn.signOut)
        ConsoleOverviewController(services: services).addRoutes(to: console)
        ConsoleUsersController(services: services).addRoutes(to: console)
        ConsoleRolesController(services: services).addRoutes(to: console)
        ConsoleUserAuthenticationController(services: services).addRoutes(to: console)
        ConsoleDeletionController(services: services).addRoutes(to: console)
        ConsoleGroupsController(services: services).addRoutes(to: console)
        ConsoleProductsController(services: services).addRoutes(to: console)
        ConsoleTokensController(services: services).addRoutes(to: console)
        ConsoleAuditController(services: services).addRoutes(to: console)
        ConsoleAuditProofsController(services: services).addRoutes(to: console)
        ConsoleSCIMController(services: services).addRoutes(to: console)
        ConsoleLogStreamsController(services: services).addRoutes(to: console)
        ConsoleDomainsController(services: services).addRoutes(to: console)
        ConsoleIdentityProvidersController(services: services).addRoutes(to: console)
        ConsoleOAuthClientsController(services: services).addRoutes(to: console)
        ConsolePoliciesController(services: services).addRoutes(to: console)
        ConsoleEditController(services: services).addRoutes(to: console)
    }
}

/// Shared by the console's page controllers: tenant transactions as the signed-in person,
/// and forms whose CSRF token is checked before anything else.
protocol ConsolePageController: Sendable {
    var services: RampartServices { get }
}

extension ConsolePageController {
    func read<R: Sendable>(_ context: RampartRequestContext, _ permission: Permission,
                           _ body: @Sendable (Tenant) async throws -> R) async throws -> R {
        let principal = try context.requirePrincipal()
        try principal.require(permission)
        return try await services.database.read(org: principal.orgID, body)
    }

    /// The submitted form, its CSRF token checked before anything else is looked at.
    func form(_ request: Request, _ context: RampartRequestContext) async throws -> ConsoleForm {
        try await ConsoleForm.read(request, expectedCSRF: context.consoleSession?.csrfToken ?? "")
    }

    /// The form of a change whose handler checks the values before its `write`: the caller's
    /// permission comes first, so that whoever may not make the change gets 403, not a
    /// verdict on what they typed.
    func form(_ request: Request, _ context: RampartRequestContext, requiring permission: Permission) async throws -> ConsoleForm {
        try context.requirePrincipal().require(permission)
        return try await form(request, context)
    }

    /// Runs a change as the signed-in person.
    func write<R: Sendable>(_ request: Request, _ context: RampartRequestContext, _ permission: Permission,
                            _ body: @Sendable (Tenant, AuditContext) async throws -> R) async throws -> R {
        let principal = try context.requirePrincipal()
        try principal.require(permission)
        let audit = principal.auditContext(context, request: request)
        return try await services.database.write(org: principal.orgID) { try await body($0, audit) }
    }
}

extension ConsolePageController {
    /// A change to one person's account, allowed only when every role they hold (and the role
    /// being given or taken, if any) is within what the signed-in admin may grant (`RoleAuthority`).
    func writeAccount<R: Sendable>(_ request: Request, _ context: RampartRequestContext, _ permission: Permission,
                                   account id: String, assigning role: Role? = nil,
                                   _ body: @Sendable (Tenant, AuditContext) async throws -> R) async throws -> R {
        let actor = try context.requirePrincipal().roles
        return try await write(request, context, permission) { tenant, audit in
            let target = try await tenant.requireUser(id).roles
            if let role, !RoleAuthority.grantable(by: actor).contains(role) { throw RoleAuthority.cannotGrant(role) }
            guard RoleAuthority.mayChange(account: target, actor: actor) else { throw RoleAuthority.outOfReach(target, actor: actor) }
            return try await body(tenant, audit)
        }
    }
}

/// Errors a person can fix by changing what they typed: the form comes back with the message.
func isFormError(_ error: RampartError) -> Bool {
    [.invalidField, .conflict].contains(error.code)
}

struct ConsoleOverviewController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("", use: overview)
    }

    @Sendable func overview(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let canAudit = context.principal?.can(.readAuditLog) ?? false
        let values = try await read(context, .readOrganization) { tenant -> [String: Int64] in
            ["users": try await tenant.userCount(), "active": try await tenant.userCount(status: .active),
             "groups": try await tenant.groupCount(), "products": try await tenant.productCount()]
        }
        let (organization, events) = try await read(context, .readOrganization) { tenant in
            (try await tenant.organization(), canAudit ? try await tenant.auditEvents(AuditQuery(limit: 10)).items : [])
        }
        return ConsoleRenderer.page("overview", ConsolePage.values(context, title: "Overview", active: "overview", extra: [
            "organization": ["name": organization.name, "slug": organization.slug, "region": organization.region],
            "counts": values, "events": events.map(ConsolePage.event), "hasEvents": !events.isEmpty,
        ]))
    }
}
