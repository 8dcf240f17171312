import Hummingbird
import RampartCore
import RampartStorage

/// What every admin API controller shares: its routes, and one tenant-scoped transaction per
/// request in which the token is authenticated, the permission checked and the work done.
protocol APIController: Sendable {
    var services: RampartServices { get }
    var routes: [APIRoute] { get }
}

extension APIController {
    func read<R: Sendable>(_ context: RampartRequestContext, _ permission: Permission,
                           _ body: @Sendable (Tenant) async throws -> R) async throws -> R {
        let secret = try context.requireCredential()
        let now = Timestamp.now()
        let accepted = AcceptedToken()
        let result = try await services.database.read(org: secret.orgID) { tenant in
            let (principal, token) = try await tenant.principal(for: secret, at: now)
            try principal.require(permission)
            accepted.token = token
            return try await body(tenant)
        }
        if let token = accepted.token, services.tokenUsage.shouldRecord(token.id, lastUsed: token.lastUsedAt, now: now) {
            try await services.database.write(org: secret.orgID) { try await $0.markAPITokenUsed(token.id, at: now) }
        }
        return result
    }

    func write<R: Sendable>(_ request: Request, _ context: RampartRequestContext, _ permission: Permission,
                            _ body: @Sendable (Tenant, AuditContext) async throws -> R) async throws -> R {
        let secret = try context.requireCredential()
        let now = Timestamp.now()
        return try await services.database.write(org: secret.orgID) { tenant in
            let (principal, token) = try await tenant.principal(for: secret, at: now)
            try principal.require(permission)
            let result = try await body(tenant, principal.auditContext(context, request: request))
            // After the work, so that a request that fails (and rolls back) does not count as
            // the minute's recorded use.
            if services.tokenUsage.shouldRecord(token.id, lastUsed: token.lastUsedAt, now: now) {
                try await tenant.markAPITokenUsed(token.id, at: now)
            }
            return result
        }
    }
}

extension APIController {
    /// `write`, for a change to one account: refused unless the account's roles are all
    /// within what the caller may grant (`RoleAuthority`), checked in the same transaction.
    func writeAccount<R: Sendable>(_ request: Request, _ context: RampartRequestContext, _ permission: Permission,
                                   account id: String, assigning role: Role? = nil,
                                   _ body: @Sendable (Tenant, AuditContext) async throws -> R) async throws -> R {
        let secret = try context.requireCredential()
        let now = Timestamp.now()
        return try await services.database.write(org: secret.orgID) { tenant in
            let (principal, token) = try await tenant.principal(for: secret, at: now)
            try principal.require(permission)
            let target = try await tenant.requireUser(id).roles
            if let role, !RoleAuthority.grantable(by: principal.roles).contains(role) { throw RoleAuthority.cannotGrant(role) }
            guard RoleAuthority.mayChange(account: target, actor: principal.roles) else {
                throw RoleAuthority.outOfReach(target, actor: principal.roles)
            }
            let result = try await body(tenant, principal.auditContext(context, request: request))
            if services.tokenUsage.shouldRecord(token.id, lastUsed: token.lastUsedAt, now: now) {
                try await tenant.markAPITokenUsed(token.id, at: now)
            }
            return result
        }
    }
}

/// The token a read transaction accepted, handed out of it without returning a tuple: a
/// tuple result would make every request instantiate generic metadata at run time.
/// Written once inside the transaction, read after it has returned.
private final class AcceptedToken: @unchecked Sendable {
    var token: APIToken?
}
