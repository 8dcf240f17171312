import RampartCore
import SQLKit

extension Tenant {
    private static let groupSelect = """
        SELECT g.*, (SELECT COUNT(*) FROM group_members m WHERE m.org_id = g.org_id AND m.group_id = g.id) AS member_count
        FROM user_groups g
        """

    public func group(_ id: String) async throws -> Group? {
        try await sql.raw(SQLQueryString(Self.groupSelect) + " WHERE g.org_id = " + "\(bind: orgID)"
            + " AND g.id = " + "\(bind: id)").first().map(Self.decodeGroup)
    }

    /// Names are unique per organisation, ignoring case.
    public func group(named name: String) async throws -> Group? {
        try await sql.raw(SQLQueryString(Self.groupSelect) + " WHERE g.org_id = " + "\(bind: orgID)"
            + " AND g.name_key = " + "\(bind: name.lowercased())").first().map(Self.decodeGroup)
    }

    public func requireGroup(_ id: String) async throws -> Group {
        guard let id = Identifier.canonical(id), let group = try await group(id) else { throw RampartError.notFound("Group") }
        return group
    }

    public func groups(page: PageRequest = PageRequest()) async throws -> Page<Group> {
        var q = SQLQueryString(Self.groupSelect) + " WHERE g.org_id = " + "\(bind: orgID)"
        if let after = page.after { q = q + " AND g.id > " + "\(bind: after)" }
        q = q + " ORDER BY g.id LIMIT " + "\(bind: page.limit + 1)"
        return page.page(try await sql.raw(q).all().map(Self.decodeGroup), id: \.id)
    }

    public func groupCount() async throws -> Int64 {
        try await sql.raw("SELECT COUNT(*) AS n FROM user_groups WHERE org_id = \(bind: orgID)").first()!.int("n")
    }

    public func createGroup(name rawName: String, description rawDescription: String?, by context: AuditContext)
        async throws -> Group
    {
        let name = try Validate.name(rawName, field: "name")
        let description = try Validate.text(rawDescription ?? "", field: "description", max: 2000)
        try await ensureGroupNameFree(name)
        let group = Group(id: Identifier.make(), name: name, description: description, memberCount: 0, createdAt: .now())
        try await sql.raw("""
            INSERT INTO user_groups (org_id, id, name, name_key, description, created_at)
            VALUES (\(bind: orgID), \(bind: group.id), \(bind: name), \(bind: name.lowercased()), \(bind: description),
                    \(bind: group.createdAt.microseconds))
            """).run()
        try await appendAudit([context.record(.groupCreated, [.group(group)])])
        return group
    }

    public func updateGroup(_ id: String, name rawName: String?, description rawDescription: String?,
                            by context: AuditContext) async throws -> Group {
        var group = try await requireGroup(id)
        var details = AuditDetails()
        if let rawName {
            let name = try Validate.name(rawName, field: "name")
            if name.lowercased() != group.name.lowercased() { try await ensureGroupNameFree(name) }
            details.change("name", from: .string(group.name), to: .string(name))
            group.name = name
        }
        if let rawDescription {
            let description = try Validate.text(rawDescription, field: "description", max: 2000)
            details.change("description", from: .string(group.description), to: .string(description))
            group.description = description
        }
        guard details.hasChanges else { return group }
        try await sql.raw("""
            UPDATE user_groups SET name = \(bind: group.name), name_key = \(bind: group.name.lowercased()),
            description = \(bind: group.description) WHERE org_id = \(bind: orgID) AND id = \(bind: group.id)
            """).run()
        try await appendAudit([context.record(.groupUpdated, [.group(group)], details: details)])
        return group
    }

    public func deleteGroup(_ id: String, by context: AuditContext) async throws {
        let group = try await requireGroup(id)
        try await removeGroupRows(of: group.id)
        try await appendAudit([context.record(.groupDeleted, [.group(group)])])
    }

    /// A group's memberships, product access and policy assignment go with it.
    func removeGroupRows(of groupID: String) async throws {
        for table in ["group_members", "product_access", "scim_groups"] {
            try await sql.raw(SQLQueryString("DELETE FROM \(ident: table) WHERE org_id = ") + "\(bind: orgID)"
                + " AND group_id = " + "\(bind: groupID)").run()
        }
        try await sql.raw("""
            DELETE FROM authentication_policy_assignments
            WHERE org_id = \(bind: orgID) AND target_type = 'group' AND target_id = \(bind: groupID)
            """).run()
        try await sql.raw("DELETE FROM user_groups WHERE org_id = \(bind: orgID) AND id = \(bind: groupID)").run()
    }

    public func groupMembers(_ groupID: String, page: PageRequest = PageRequest()) async throws -> Page<User> {
        let group = try await requireGroup(groupID)
        var q = SQLQueryString(userSelect)
            + " JOIN group_members m ON m.org_id = u.org_id AND m.user_id = u.id WHERE m.org_id = " + "\(bind: orgID)"
            + " AND m.group_id = " + "\(bind: group.id)"
        if let after = page.after { q = q + " AND u.id > " + "\(bind: after)" }
        q = q + " ORDER BY u.id LIMIT " + "\(bind: page.limit + 1)"
        return page.page(try await rows(q, Self.decodeDirectoryUser), id: \.id)
    }

    public func groupsOf(user userID: String) async throws -> [Group] {
        try await sql.raw(SQLQueryString(Self.groupSelect) + " WHERE g.org_id = " + "\(bind: orgID)"
            + " AND g.id IN (SELECT group_id FROM group_members WHERE org_id = " + "\(bind: orgID)"
            + " AND user_id = " + "\(bind: userID)" + ") ORDER BY g.name").all().map(Self.decodeGroup)
    }

    /// The names of a person's groups, for the `groups` claim of the tokens they are issued:
    /// without `groupsOf`'s member count, which read every member of each group on every token.
    public func groupNames(ofUser userID: String) async throws -> [String] {
        try await rows("""
            SELECT g.name FROM group_members m JOIN user_groups g ON g.org_id = m.org_id AND g.id = m.group_id
            WHERE m.org_id = ?1 AND m.user_id = ?2 ORDER BY g.name
            """, [orgID, userID], { try $0.text(0) })
    }

    public func addMember(_ userID: String, to groupID: String, by context: AuditContext) async throws {
        let group = try await requireGroup(groupID)
        let user = try await requireUser(userID)
        guard try await addLink("group_members", ("group_id", group.id), ("user_id", user.id)) else { return }
        try await appendAudit([context.record(.groupMemberAdded, [.group(group), .user(user)])])
    }

    public func removeMember(_ userID: String, from groupID: String, by context: AuditContext) async throws {
        let group = try await requireGroup(groupID)
        let user = try await requireUser(userID)
        guard try await removeLink("group_members", ("group_id", group.id), ("user_id", user.id)) else { return }
        try await appendAudit([context.record(.groupMemberRemoved, [.group(group), .user(user)])])
    }

    private func ensureGroupNameFree(_ name: String) async throws {
        if try await sql.raw("""
            SELECT id FROM user_groups WHERE org_id = \(bind: orgID) AND name_key = \(bind: name.lowercased())
            """).first() != nil {
            throw RampartError(.conflict, "A group with this name already exists in the organization.", field: "name")
        }
    }

    static func decodeGroup(_ row: any SQLRow) throws -> Group {
        Group(id: try row.string("id"), name: try row.string("name"), description: try row.string("description"),
              memberCount: Int(try row.int("member_count")), createdAt: try row.timestamp("created_at"))
    }
}
