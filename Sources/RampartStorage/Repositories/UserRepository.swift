import RampartCore
import SQLKit

public struct UserFilter: Sendable {
    public var email: String?
    public var status: UserStatus?
    public var search: String?
    public init(email: String? = nil, status: UserStatus? = nil, search: String? = nil) {
        self.email = email; self.status = status; self.search = search
    }
}

extension Tenant {
    public func user(_ id: String) async throws -> User? {
        try await row(flavor == .postgres ? Self.userByIDPostgres : Self.userByIDSQLite, [orgID, id], Self.decodeDirectoryUser)
    }

    public func requireUser(_ id: String) async throws -> User {
        guard let id = Identifier.canonical(id), let user = try await user(id) else { throw RampartError.notFound("User") }
        return user
    }

    public func user(email: String) async throws -> User? {
        let key = email.trimmingCharacters(in: .whitespaces).lowercased()
        return try await row(userSelect + " WHERE u.org_id = ?1 AND u.email = ?2", [orgID, key], Self.decodeDirectoryUser)
    }

    public func users(_ filter: UserFilter = UserFilter(), page: PageRequest = PageRequest()) async throws -> Page<User> {
        var q = SQLQueryString(userSelect) + " WHERE u.org_id = " + "\(bind: orgID)"
        if let email = filter.email { q = q + " AND u.email = " + "\(bind: email.trimmingCharacters(in: .whitespaces).lowercased())" }
        if let status = filter.status { q = q + " AND status = " + "\(bind: status.rawValue)" }
        if let search = filter.search?.lowercased(), !search.isEmpty {
            let pattern = "%" + Self.escapeLike(search) + "%"
            q = q + " AND (email LIKE " + "\(bind: pattern)" + SQLQueryString(" ESCAPE '\\' OR LOWER(display_name) LIKE ")
                + "\(bind: pattern)" + SQLQueryString(" ESCAPE '\\')")
        }
        if let after = page.after { q = q + " AND u.id > " + "\(bind: after)" }
        q = q + " ORDER BY u.id LIMIT " + "\(bind: page.limit + 1)"
        return page.page(try await rows(q, Self.decodeDirectoryUser), id: \.id)
    }

    public func userCount(status: UserStatus? = nil) async throws -> Int64 {
        var q = SQLQueryString("SELECT COUNT(*) AS n FROM users WHERE org_id = ") + "\(bind: orgID)"
        if let status { q = q + " AND status = " + "\(bind: status.rawValue)" }
        return try await sql.raw(q).first()!.int("n")
    }

    public func createUser(email rawEmail: String, displayName rawName: String, by context: AuditContext) async throws -> User {
        let email = try Validate.email(rawEmail)
        let displayName = try Validate.name(rawName, field: "displayName")
        try await ensureEmailFree(email)
        try await ensureEmailNotManagedElsewhere(email)
        let now = clock()
        let user = User(id: Identifier.make(), email: email, displayName: displayName, status: .active, roles: [],
                        createdAt: now, lastActiveAt: nil, managed: try await isManaged(email: email))
        try await sql.raw("""
            INSERT INTO users (org_id, id, email, display_name, status, created_at)
            VALUES (\(bind: orgID), \(bind: user.id), \(bind: email), \(bind: displayName), 'active', \(bind: now.microseconds))
            """).run()
        try await appendAudit([context.record(.userCreated, [.user(user)],
                                              details: AuditDetails(["email": .string(email),
                                                                     "displayName": .string(displayName)]), at: now)])
        return user
    }

    public func updateUser(_ id: String, email rawEmail: String?, displayName rawName: String?, by context: AuditContext)
        async throws -> User
    {
        var user = try await requireUser(id)
        var details = AuditDetails()
        if let rawEmail {
            let email = try Validate.email(rawEmail)
            if email != user.email {
                try await ensureEmailFree(email)
                try await ensureEmailNotManagedElsewhere(email)
            }
            details.change("email", from: .string(user.email), to: .string(email))
            user.email = email
            user.managed = try await isManaged(email: email)
        }
        if let rawName {
            let name = try Validate.name(rawName, field: "displayName")
            details.change("displayName", from: .string(user.displayName), to: .string(name))
            user.displayName = name
        }
        guard details.hasChanges else { return user }
        try await sql.raw("""
            UPDATE users SET email = \(bind: user.email), display_name = \(bind: user.displayName)
            WHERE org_id = \(bind: orgID) AND id = \(bind: user.id)
            """).run()
        try await appendAudit([context.record(.userUpdated, [.user(user)], details: details)])
        return user
    }

    public func setUserStatus(_ id: String, _ status: UserStatus, by context: AuditContext) async throws -> User {
        var user = try await requireUser(id)
        guard user.status != status else { return user }
        if status == .deactivated { try await ensureAnotherActiveOrgAdmin(besides: user) }
        user.status = status
        try await sql.raw("""
            UPDATE users SET status = \(bind: status.rawValue) WHERE org_id = \(bind: orgID) AND id = \(bind: user.id)
            """).run()
        if status == .deactivated { try await endAccess(of: user.id) }
        try await appendAudit([context.record(status == .active ? .userReactivated : .userDeactivated, [.user(user)])])
        return user
    }

    /// Deactivation takes effect at once, whichever way it comes (console, API, SCIM): the person's
    /// sessions and reset links end and the API tokens they created are revoked, in the caller's transaction.
    func endAccess(of userID: String) async throws {
        try await endAllUserSessions(of: userID)
        try await endOAuthGrants(of: userID)
        try await sql.raw("DELETE FROM password_reset_tokens WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)").run()
        try await sql.raw("""
            UPDATE api_tokens SET revoked_at = \(bind: clock().microseconds)
            WHERE org_id = \(bind: orgID) AND created_by = \(bind: userID) AND revoked_at IS NULL
            """).run()
    }

    public func deleteUser(_ id: String, by context: AuditContext) async throws {
        let user = try await requireUser(id)
        try await ensureAnotherActiveOrgAdmin(besides: user)
        try await removeUserRows(of: user.id)
        try await appendAudit([context.record(.userDeleted, [.user(user)])])
    }

    /// Everything that belongs to one person goes with them; the audit log keeps what they did.
    func removeUserRows(of userID: String) async throws {
        try await endAccess(of: userID)
        try await sql.raw("DELETE FROM oauth_grants WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)").run()
        for table in ["group_members", "role_assignments", "user_passwords", "setup_links", "scim_users",
                      "auth_factors", "recovery_codes", "mfa_grace", "external_identities"] {
            try await sql.raw(SQLQueryString("DELETE FROM \(ident: table) WHERE org_id = ") + "\(bind: orgID)"
                + " AND user_id = " + "\(bind: userID)").run()
        }
        try await sql.raw("""
            DELETE FROM authentication_policy_assignments
            WHERE org_id = \(bind: orgID) AND target_type = 'user' AND target_id = \(bind: userID)
            """).run()
        try await sql.raw("DELETE FROM users WHERE org_id = \(bind: orgID) AND id = \(bind: userID)").run()
    }

    public func touchLastActive(_ userID: String, at time: Timestamp = .now()) async throws {
        try await sql.raw("""
            UPDATE users SET last_active_at = \(bind: time.microseconds) WHERE org_id = \(bind: orgID) AND id = \(bind: userID)
            """).run()
    }

    /// An organisation always keeps one active org-admin, or nobody could administer it.
    /// The audit head is locked first so that two concurrent removals cannot both pass.
    func ensureAnotherActiveOrgAdmin(besides user: User) async throws {
        guard user.status == .active, user.roles.contains(.orgAdmin) else { return }
        _ = try await lockedHead()
        let others = try await sql.raw("""
            SELECT COUNT(*) AS n FROM role_assignments r JOIN users u ON u.org_id = r.org_id AND u.id = r.user_id
            WHERE r.org_id = \(bind: orgID) AND r.role = 'org-admin' AND u.status = 'active' AND u.id <> \(bind: user.id)
            """).first()!.int("n")
        if others == 0 {
            throw RampartError(.conflict,
                               "This is the organization's last active org-admin; make someone else org-admin first.")
        }
    }

    private func ensureEmailFree(_ email: String) async throws {
        if try await sql.raw("SELECT id FROM users WHERE org_id = \(bind: orgID) AND email = \(bind: email)").first() != nil {
            throw RampartError(.conflict, "A user with this email already exists in the organization.", field: "email")
        }
    }

    /// Users (as `u`) with their roles and whether they are managed in the same row, so that
    /// reading a user is one statement, in the column order `decodeDirectoryUser` reads.
    var userSelect: String { flavor == .postgres ? Self.userSelectPostgres : Self.userSelectSQLite }
    /// Built once: the text is also the statement cache's key, hashed on every request.
    private static let userSelectSQLite = userSelect(roles: "group_concat(r.role, ',')",
                                                     emailDomain: "substr(u.email, instr(u.email, '@') + 1)")
    private static let userSelectPostgres = userSelect(roles: "string_agg(r.role, ',')",
                                                       emailDomain: "split_part(u.email, '@', 2)")
    private static let userByIDSQLite = userSelectSQLite + " WHERE u.org_id = ?1 AND u.id = ?2"
    private static let userByIDPostgres = userSelectPostgres + " WHERE u.org_id = ?1 AND u.id = ?2"

    /// An email's domain is matched in the form it is stored (as typed, lowercase), which is the
    /// claim's ASCII form or, for an internationalised name, its Unicode form.
    private static func userSelect(roles: String, emailDomain: String) -> String {
        """
        SELECT u.id, u.email, u.display_name, u.status, u.created_at, u.last_active_at,
               (SELECT \(roles) FROM role_assignments r WHERE r.org_id = u.org_id AND r.user_id = u.id) AS roles,
               CAST(CASE WHEN EXISTS (SELECT 1 FROM domain_claims d WHERE d.org_id = u.org_id AND d.status = 'verified'
                                      AND (d.domain = \(emailDomain) OR d.unicode_domain = \(emailDomain)))
                    THEN 1 ELSE 0 END AS BIGINT) AS managed
        FROM users u
        """
    }

    static func decodeUser(_ row: any ColumnReader) throws -> User {
        User(id: try row.text(0), email: try row.text(1), displayName: try row.text(2),
             status: UserStatus(rawValue: try row.text(3)) ?? .deactivated,
             roles: (try row.optionalText(6) ?? "").split(separator: ",").compactMap { Role(rawValue: String($0)) }
                .sorted(by: >),
             createdAt: try row.timestamp(4), lastActiveAt: try row.optionalTimestamp(5))
    }

    /// `decodeUser` and the `managed` column of `userSelect`.
    static func decodeDirectoryUser(_ row: any ColumnReader) throws -> User {
        var user = try decodeUser(row)
        user.managed = try row.integer(7) != 0
        return user
    }
}
