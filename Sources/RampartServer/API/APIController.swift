import Hummingbird
import RampartCore
import RampartStorage

/// What every admin API controller shares: its routes and tenant-scoped transactions that
/// check the caller's permission first.
protocol APIController: Sendable {
    var services: RampartServices { get }
    var routes: [APIRoute] { get }
}

extension APIController {
    func read<R: Sendable>(_ context: RampartRequestContext, _ permission: Permission,
                           _ body: @Sendable (Tenant) async throws -> R) async throws -> R {
        let principal = try context.requirePrincipal()
        try principal.require(permission)
        return try await services.database.read(org: principal.orgID, body)
    }

    func write<R: Sendable>(_ request: Request, _ context: RampartRequestContext, _ permission: Permission,
                            _ body: @Sendable (Tenant, AuditContext) async throws -> R) async throws -> R {
        let principal = try context.requirePrincipal()
        try principal.require(permission)
        let audit = principal.auditContext(context, request: request)
        return try await services.database.write(org: principal.orgID) { try await body($0, audit) }
    }
}
