import RampartCore
import SQLKit

extension Tenant {
    /// A role granted is a privilege change: the person's sessions end with it, so the role is
    /// only ever used from a session that started after it (a new session id at every privilege change).
    public func assignRole(_ role: Role, to userID: String, by context: AuditContext) async throws {
        let user = try await requireUser(userID)
        guard try await addLink("role_assignments", ("user_id", user.id), ("role", role.rawValue)) else { return }
        var details = AuditDetails(["role": .string(role.rawValue)])
        let ended = try await endAllUserSessions(of: user.id)
        if ended > 0 { details["sessions_ended"] = .int(Int64(ended)) }
        try await appendAudit([context.record(.roleAssigned, [.user(user)], details: details)])
    }

    public func revokeRole(_ role: Role, from userID: String, by context: AuditContext) async throws {
        let user = try await requireUser(userID)
        if role == .orgAdmin { try await ensureAnotherActiveOrgAdmin(besides: user) }
        guard try await removeLink("role_assignments", ("user_id", user.id), ("role", role.rawValue)) else { return }
        try await appendAudit([context.record(.roleRevoked, [.user(user)], details: AuditDetails(["role": .string(role.rawValue)]))])
    }

    public func roleAssignments(userID: String? = nil, page: PageRequest = PageRequest(limit: 1000)) async throws
        -> Page<RoleAssignment>
    {
        var q = SQLQueryString("SELECT user_id, role, created_at FROM role_assignments WHERE org_id = ") + "\(bind: orgID)"
        if let userID { q = q + " AND user_id = " + "\(bind: userID)" }
        if let after = page.after {
            // The cursor is "<user id>/<role>", the last row of the previous page.
            let parts = after.split(separator: "/", maxSplits: 1).map(String.init)
            q = q + " AND (user_id > " + "\(bind: parts[0])" + " OR (user_id = " + "\(bind: parts[0])"
                + " AND role > " + "\(bind: parts.count > 1 ? parts[1] : "")" + "))"
        }
        q = q + " ORDER BY user_id, role LIMIT " + "\(bind: page.limit + 1)"
        let items = try await sql.raw(q).all().compactMap { row -> RoleAssignment? in
            guard let role = Role(rawValue: try row.string("role")) else { return nil }
            return RoleAssignment(userId: try row.string("user_id"), role: role, createdAt: try row.timestamp("created_at"))
        }
        return page.page(items) { "\($0.userId)/\($0.role.rawValue)" }
    }
}
