import RampartCore
import SQLKit

/// A directory group with its SCIM `externalId`; `members` is nil when not asked for.
public struct SCIMGroupRecord: Sendable, Equatable {
    public var group: Group
    public var externalId: String?
    /// Extension attributes as JSON text (Entra ID's), nil when there are none.
    public var attributesJSON: String?
    public var updatedAt: Timestamp
    /// Member user ids, sorted.
    public var members: [String]?
}

extension Tenant {
    private static let scimGroupSelect = """
        SELECT g.id, g.name, g.description, g.created_at, s.external_id, s.updated_at, s.attributes
        FROM user_groups g LEFT JOIN scim_groups s ON s.org_id = g.org_id AND s.group_id = g.id
        """

    public func scimGroup(_ id: String, members: Bool = true) async throws -> SCIMGroupRecord? {
        guard let id = Identifier.canonical(id),
              var record = try await row(Self.scimGroupSelect + " WHERE g.org_id = ?1 AND g.id = ?2", [orgID, id],
                                         Self.decodeSCIMGroup)
        else { return nil }
        if members { record.members = try await scimMembers(of: id) }
        return record
    }

    public func scimGroups(displayName: String, members: Bool) async throws -> [SCIMGroupRecord] {
        try await withMembers(members, try await rows(Self.scimGroupSelect + " WHERE g.org_id = ?1 AND g.name_key = ?2",
                                                      [orgID, displayName.lowercased()], Self.decodeSCIMGroup))
    }

    public func scimGroups(externalId: String, members: Bool) async throws -> [SCIMGroupRecord] {
        try await withMembers(members, try await rows(
            Self.scimGroupSelect + " WHERE s.org_id = ?1 AND s.external_id = ?2 AND g.org_id = ?1",
            [orgID, externalId], Self.decodeSCIMGroup))
    }

    public func scimGroupPage(offset: Int, limit: Int, members: Bool) async throws -> (items: [SCIMGroupRecord], total: Int64) {
        let total = try await groupCount()
        guard limit > 0 else { return ([], total) }
        let q = SQLQueryString(Self.scimGroupSelect) + " WHERE g.org_id = " + "\(bind: orgID)" + " ORDER BY g.id LIMIT "
            + "\(bind: Int64(limit))" + " OFFSET " + "\(bind: Int64(offset))"
        return (try await withMembers(members, try await rows(q, Self.decodeSCIMGroup)), total)
    }

    public func allSCIMGroups(members: Bool) async throws -> [SCIMGroupRecord] {
        try await withMembers(members, try await rows(Self.scimGroupSelect + " WHERE g.org_id = ?1 ORDER BY g.id", [orgID],
                                                      Self.decodeSCIMGroup))
    }

    public func createSCIMGroup(displayName rawName: String, externalId: String?, memberIDs: [String],
                                attributesJSON: String? = nil, by context: AuditContext) async throws -> SCIMGroupRecord {
        let name = try Validate.name(rawName, field: "displayName")
        if try await group(named: name) != nil { throw RampartError(.conflict, "A group with this displayName already exists.") }
        let members = try await existingUsers(memberIDs)
        let now = clock()
        let group = Group(id: Identifier.make(), name: name, description: "", memberCount: members.count, createdAt: now)
        try await sql.raw("""
            INSERT INTO user_groups (org_id, id, name, name_key, description, created_at)
            VALUES (\(bind: orgID), \(bind: group.id), \(bind: name), \(bind: name.lowercased()), '', \(bind: now.microseconds))
            """).run()
        try await upsertSCIMGroupRow(group.id, externalId, attributesJSON, at: now)
        try await insertMembers(members, into: group.id, at: now)
        var details = AuditDetails()
        details["externalId"] = JSONValue(externalId)
        var records = [context.record(.scimGroupCreated, [.group(group)], details: details, at: now)]
        if !members.isEmpty { records.append(membersChanged(group, added: members, removed: [], context, now)) }
        try await appendAudit(records)
        return try await scimGroup(group.id)!
    }

    /// PUT, and PATCH of anything besides members: name and externalId, and the members when given.
    public func replaceSCIMGroup(_ id: String, displayName rawName: String, externalId: String?, memberIDs: [String]?,
                                 attributesJSON: String? = nil, by context: AuditContext) async throws -> SCIMGroupRecord {
        guard let current = try await scimGroup(id, members: false) else { throw RampartError.notFound("Group") }
        var group = current.group
        let name = try Validate.name(rawName, field: "displayName")
        if name.lowercased() != group.name.lowercased(), try await self.group(named: name) != nil {
            throw RampartError(.conflict, "A group with this displayName already exists.")
        }
        let now = clock()
        var details = AuditDetails()
        details.change("displayName", from: .string(group.name), to: .string(name))
        details.change("externalId", from: JSONValue(current.externalId), to: JSONValue(externalId))
        if current.attributesJSON != attributesJSON, !details.hasChanges { details["attributes"] = .string("changed") }
        var records: [AuditRecord] = []
        if details.hasChanges || details["attributes"] != nil {
            group.name = name
            try await sql.raw("""
                UPDATE user_groups SET name = \(bind: name), name_key = \(bind: name.lowercased())
                WHERE org_id = \(bind: orgID) AND id = \(bind: group.id)
                """).run()
            try await upsertSCIMGroupRow(group.id, externalId, attributesJSON, at: now)
            records.append(context.record(.scimGroupUpdated, [.group(group)], details: details, at: now))
        }
        if let memberIDs {
            let wanted = try await existingUsers(memberIDs)
            let present = Set(try await memberIDsOf(group.id))
            let wantedSet = Set(wanted)
            let added = wanted.filter { !present.contains($0) }
            let removed = present.filter { !wantedSet.contains($0) }.sorted()
            if !added.isEmpty || !removed.isEmpty {
                try await insertMembers(added, into: group.id, at: now)
                try await deleteMembers(removed, from: group.id)
                try await upsertSCIMGroupRow(group.id, externalId, attributesJSON, at: now)
                records.append(membersChanged(group, added: added, removed: removed, context, now))
            }
        }
        if !records.isEmpty { try await appendAudit(records) }
        return try await scimGroup(group.id)!
    }

    /// PATCH of members alone, without reading the whole group: the path large groups take.
    /// Returns how many members were actually added and removed.
    @discardableResult
    public func changeSCIMGroupMembers(_ id: String, adding: [String], removing: [String], by context: AuditContext)
        async throws -> (added: Int, removed: Int)
    {
        guard let current = try await scimGroup(id, members: false) else { throw RampartError.notFound("Group") }
        let present = Set(try await memberIDsOf(current.group.id))
        let added = try await existingUsers(adding).filter { !present.contains($0) }
        var seen = Set<String>()
        let removed = removing.compactMap(Identifier.canonical).filter { present.contains($0) && seen.insert($0).inserted }
        guard !added.isEmpty || !removed.isEmpty else { return (0, 0) }
        let now = clock()
        try await insertMembers(added, into: current.group.id, at: now)
        try await deleteMembers(removed, from: current.group.id)
        try await upsertSCIMGroupRow(current.group.id, current.externalId, current.attributesJSON, at: now)
        try await appendAudit([membersChanged(current.group, added: added, removed: removed, context, now)])
        return (added.count, removed.count)
    }

    public func deleteSCIMGroup(_ id: String, by context: AuditContext) async throws {
        guard let current = try await scimGroup(id, members: false) else { throw RampartError.notFound("Group") }
        try await removeGroupRows(of: current.group.id)
        try await appendAudit([context.record(.scimGroupDeleted, [.group(current.group)])])
    }

    /// The ids that name users of this organisation, in the order given and without repeats.
    /// Others (unknown, or another organisation's) are left out rather than refused: RFC 7644
    /// does not ask for referential integrity, and identity providers may send a membership
    /// before the user; a group never holds an id that is not one of its organisation's users.
    private func existingUsers(_ ids: [String]) async throws -> [String] {
        var seen = Set<String>()
        var canonical: [String] = []
        for raw in ids {
            guard let id = Identifier.canonical(raw) else { continue }
            if seen.insert(id).inserted { canonical.append(id) }
        }
        var found = Set<String>()
        for chunk in canonical.chunked(500) {
            var q = SQLQueryString("SELECT id FROM users WHERE org_id = ") + "\(bind: orgID)" + " AND id IN ("
            for (i, id) in chunk.enumerated() { q = q + (i == 0 ? "" : ", ") + "\(bind: id)" }
            q = q + ")"
            for id in try await rows(q, { try $0.text(0) }) { found.insert(id) }
        }
        return canonical.filter(found.contains)
    }

    private func memberIDsOf(_ groupID: String) async throws -> [String] {
        try await rows("SELECT user_id FROM group_members WHERE org_id = ?1 AND group_id = ?2", [orgID, groupID]) { try $0.text(0) }
    }

    private func scimMembers(of groupID: String) async throws -> [String] {
        try await rows("SELECT user_id FROM group_members WHERE org_id = ?1 AND group_id = ?2 ORDER BY user_id",
                       [orgID, groupID]) { try $0.text(0) }
    }

    private func withMembers(_ members: Bool, _ records: [SCIMGroupRecord]) async throws -> [SCIMGroupRecord] {
        guard members else { return records }
        var out = records
        for i in out.indices { out[i].members = try await scimMembers(of: out[i].group.id) }
        return out
    }

    private func insertMembers(_ ids: [String], into groupID: String, at now: Timestamp) async throws {
        try await insertRows(into: "group_members", columns: ["org_id", "group_id", "user_id", "created_at"],
                             rows: ids.map { [.text(orgID), .text(groupID), .text($0), .integer(now.microseconds)] })
    }

    private func deleteMembers(_ ids: [String], from groupID: String) async throws {
        for chunk in ids.chunked(500) {
            var q = SQLQueryString("DELETE FROM group_members WHERE org_id = ") + "\(bind: orgID)" + " AND group_id = "
                + "\(bind: groupID)" + " AND user_id IN ("
            for (i, id) in chunk.enumerated() { q = q + (i == 0 ? "" : ", ") + "\(bind: id)" }
            try await sql.raw(q + ")").run()
        }
    }

    private func upsertSCIMGroupRow(_ groupID: String, _ externalId: String?, _ attributesJSON: String?,
                                    at now: Timestamp) async throws {
        try await sql.raw("""
            INSERT INTO scim_groups (org_id, group_id, external_id, attributes, updated_at)
            VALUES (\(bind: orgID), \(bind: groupID), \(bind: externalId), \(bind: attributesJSON), \(bind: now.microseconds))
            ON CONFLICT (org_id, group_id) DO UPDATE SET external_id = excluded.external_id,
                attributes = excluded.attributes, updated_at = excluded.updated_at
            """).run()
    }

    /// One event per change of membership, each member a target so that a person's history
    /// (`audit_event_targets`) shows the groups SCIM put them in and took them out of.
    private func membersChanged(_ group: Group, added: [String], removed: [String], _ context: AuditContext,
                                _ now: Timestamp) -> AuditRecord {
        let targets = [AuditTarget.group(group)] + (added + removed).map { AuditTarget(type: "user", id: $0, name: nil) }
        let details = AuditDetails(["added": .array(added.map { .string($0) }), "removed": .array(removed.map { .string($0) })])
        return context.record(.scimGroupMembersChanged, targets, details: details, at: now)
    }

    static func decodeSCIMGroup(_ row: any ColumnReader) throws -> SCIMGroupRecord {
        let group = Group(id: try row.text(0), name: try row.text(1), description: try row.text(2), memberCount: 0,
                          createdAt: try row.timestamp(3))
        return SCIMGroupRecord(group: group, externalId: try row.optionalText(4), attributesJSON: try row.optionalText(6),
                               updatedAt: try row.optionalTimestamp(5) ?? group.createdAt, members: nil)
    }
}
