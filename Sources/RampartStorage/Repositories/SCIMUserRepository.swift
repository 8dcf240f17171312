import RampartCore
import SQLKit

/// A directory user with the attributes SCIM gave it. Users created by the console or the API
/// have no SCIM row: their `userName` is their email and `attributesJSON` is nil.
public struct SCIMUserRecord: Sendable, Equatable {
    public var user: User
    public var userName: String
    public var externalId: String?
    /// The SCIM attributes beyond the directory's columns, as JSON text.
    public var attributesJSON: String?
    public var updatedAt: Timestamp
}

/// What a SCIM create or replace asks for, already checked by RampartSCIM.
public struct SCIMUserFields: Sendable, Equatable {
    public var userName: String
    public var externalId: String?
    public var active: Bool
    public var displayName: String
    /// Nil when the client gave no usable email: the user then gets a placeholder under the
    /// reserved `.invalid` domain (RFC 2606), since every directory user has a unique email.
    public var email: String?
    public var attributesJSON: String

    public init(userName: String, externalId: String?, active: Bool, displayName: String, email: String?,
                attributesJSON: String) {
        self.userName = userName; self.externalId = externalId; self.active = active; self.displayName = displayName
        self.email = email; self.attributesJSON = attributesJSON
    }
}

extension Tenant {
    private static let scimUserSelect = """
        SELECT u.id, u.email, u.display_name, u.status, u.created_at, s.user_name, s.external_id, s.attributes,
               s.updated_at
        FROM users u LEFT JOIN scim_users s ON s.org_id = u.org_id AND s.user_id = u.id
        """

    public func scimUser(_ id: String) async throws -> SCIMUserRecord? {
        guard let id = Identifier.canonical(id) else { return nil }
        return try await row(Self.scimUserSelect + " WHERE u.org_id = ?1 AND u.id = ?2", [orgID, id], Self.decodeSCIMUser)
    }

    /// `userName eq`, case-insensitively, from the index: the SCIM name, or the email of a user
    /// that SCIM has not named.
    public func scimUsers(userName: String) async throws -> [SCIMUserRecord] {
        let key = userName.lowercased()
        let named = try await rows(Self.scimUserSelect + " WHERE s.org_id = ?1 AND s.user_name_key = ?2 AND u.org_id = ?1",
                                   [orgID, key], Self.decodeSCIMUser)
        if !named.isEmpty { return named }
        return try await rows(Self.scimUserSelect + " WHERE u.org_id = ?1 AND u.email = ?2 AND s.user_id IS NULL",
                              [orgID, key], Self.decodeSCIMUser)
    }

    public func scimUsers(externalId: String) async throws -> [SCIMUserRecord] {
        try await rows(Self.scimUserSelect + " WHERE s.org_id = ?1 AND s.external_id = ?2 AND u.org_id = ?1",
                       [orgID, externalId], Self.decodeSCIMUser)
    }

    /// One page in id order, and the organisation's user count.
    public func scimUserPage(offset: Int, limit: Int) async throws -> (items: [SCIMUserRecord], total: Int64) {
        let total = try await userCount()
        guard limit > 0 else { return ([], total) }
        let q = SQLQueryString(Self.scimUserSelect) + " WHERE u.org_id = " + "\(bind: orgID)" + " ORDER BY u.id LIMIT "
            + "\(bind: Int64(limit))" + " OFFSET " + "\(bind: Int64(offset))"
        return (try await rows(q, Self.decodeSCIMUser), total)
    }

    /// Every user, for filters that no index answers.
    public func allSCIMUsers() async throws -> [SCIMUserRecord] {
        try await rows(Self.scimUserSelect + " WHERE u.org_id = ?1 ORDER BY u.id", [orgID], Self.decodeSCIMUser)
    }

    public func createSCIMUser(_ fields: SCIMUserFields, by context: AuditContext) async throws -> SCIMUserRecord {
        let id = Identifier.make()
        let email = try fields.email.map { try Validate.email($0) } ?? "\(Identifier.compact(id))@scim.invalid"
        try await ensureUserNameFree(fields.userName, besides: nil)
        try await ensureSCIMEmailFree(email, besides: nil)
        let now = clock()
        let status: UserStatus = fields.active ? .active : .deactivated
        try await sql.raw("""
            INSERT INTO users (org_id, id, email, display_name, status, created_at)
            VALUES (\(bind: orgID), \(bind: id), \(bind: email), \(bind: fields.displayName), \(bind: status.rawValue),
                    \(bind: now.microseconds))
            """).run()
        try await upsertSCIMUserRow(id, fields, at: now)
        let user = User(id: id, email: email, displayName: fields.displayName, status: status, roles: [], createdAt: now,
                        lastActiveAt: nil)
        var details = AuditDetails(["userName": .string(fields.userName), "active": .bool(fields.active)])
        details["externalId"] = JSONValue(fields.externalId)
        try await appendAudit([context.record(.scimUserCreated, [.user(user)], details: details, at: now)])
        return SCIMUserRecord(user: user, userName: fields.userName, externalId: fields.externalId,
                              attributesJSON: fields.attributesJSON, updatedAt: now)
    }

    /// PUT, and PATCH once applied: the whole new state. A change of `active` deactivates or
    /// reactivates in the same transaction.
    public func replaceSCIMUser(_ id: String, _ fields: SCIMUserFields, by context: AuditContext) async throws
        -> SCIMUserRecord
    {
        guard let current = try await scimUser(id) else { throw RampartError.notFound("User") }
        var user = current.user
        let email = try fields.email.map { try Validate.email($0) } ?? user.email
        if fields.userName.lowercased() != current.userName.lowercased() {
            try await ensureUserNameFree(fields.userName, besides: user.id)
        }
        if email != user.email { try await ensureSCIMEmailFree(email, besides: user.id) }
        var details = AuditDetails()
        details.change("userName", from: .string(current.userName), to: .string(fields.userName))
        details.change("externalId", from: JSONValue(current.externalId), to: JSONValue(fields.externalId))
        details.change("displayName", from: .string(user.displayName), to: .string(fields.displayName))
        details.change("email", from: .string(user.email), to: .string(email))
        let attributesChanged = current.attributesJSON != fields.attributesJSON
        let now = clock()
        var records: [AuditRecord] = []
        if details.hasChanges || attributesChanged {
            user.email = email
            user.displayName = fields.displayName
            try await sql.raw("""
                UPDATE users SET email = \(bind: email), display_name = \(bind: fields.displayName)
                WHERE org_id = \(bind: orgID) AND id = \(bind: user.id)
                """).run()
            try await upsertSCIMUserRow(user.id, fields, at: now)
            if attributesChanged && !details.hasChanges { details["attributes"] = .string("changed") }
            records.append(context.record(.scimUserUpdated, [.user(user)], details: details, at: now))
        }
        let status: UserStatus = fields.active ? .active : .deactivated
        if status != user.status {
            if status == .deactivated { try await ensureAnotherActiveOrgAdmin(besides: user) }
            try await setStatusEndingAccess(&user, status)
            records.append(context.record(status == .active ? .scimUserReactivated : .scimUserDeactivated, [.user(user)], at: now))
        }
        if !records.isEmpty { try await appendAudit(records) }
        return try await scimUser(user.id)!
    }

    /// DELETE: deactivates or deletes, as the organisation's SCIM setting says.
    public func deleteSCIMUser(_ id: String, by context: AuditContext) async throws {
        guard var user = try await scimUser(id)?.user else { throw RampartError.notFound("User") }
        try await ensureAnotherActiveOrgAdmin(besides: user)
        switch try await scimDeleteMode() {
        case .deactivate:
            guard user.status == .active else { return }
            try await setStatusEndingAccess(&user, .deactivated)
            try await appendAudit([context.record(.scimUserDeactivated, [.user(user)],
                                                  details: AuditDetails(["reason": .string("delete")]))])
        case .delete:
            try await removeUserRows(of: user.id)
            try await appendAudit([context.record(.scimUserDeleted, [.user(user)])])
        }
    }

    private func setStatusEndingAccess(_ user: inout User, _ status: UserStatus) async throws {
        user.status = status
        try await sql.raw("""
            UPDATE users SET status = \(bind: status.rawValue) WHERE org_id = \(bind: orgID) AND id = \(bind: user.id)
            """).run()
        if status == .deactivated { try await endAccess(of: user.id) }
    }

    private func upsertSCIMUserRow(_ userID: String, _ fields: SCIMUserFields, at now: Timestamp) async throws {
        try await sql.raw("""
            INSERT INTO scim_users (org_id, user_id, user_name, user_name_key, external_id, attributes, updated_at)
            VALUES (\(bind: orgID), \(bind: userID), \(bind: fields.userName), \(bind: fields.userName.lowercased()),
                    \(bind: fields.externalId), \(bind: fields.attributesJSON), \(bind: now.microseconds))
            ON CONFLICT (org_id, user_id) DO UPDATE SET user_name = excluded.user_name,
                user_name_key = excluded.user_name_key, external_id = excluded.external_id,
                attributes = excluded.attributes, updated_at = excluded.updated_at
            """).run()
    }

    /// userName is unique per organisation, ignoring case, across SCIM names and the emails
    /// that stand as names for users SCIM has not named.
    private func ensureUserNameFree(_ userName: String, besides id: String?) async throws {
        let taken = try await scimUsers(userName: userName).contains { $0.user.id != id }
        if taken { throw RampartError(.conflict, "A user with this userName already exists.") }
    }

    private func ensureSCIMEmailFree(_ email: String, besides id: String?) async throws {
        let owner = try await row("SELECT id FROM users WHERE org_id = ?1 AND email = ?2", [orgID, email]) { try $0.text(0) }
        if let owner, owner != id { throw RampartError(.conflict, "A user with this email already exists.") }
        try await ensureEmailNotManagedElsewhere(email)
    }

    static func decodeSCIMUser(_ row: any ColumnReader) throws -> SCIMUserRecord {
        let user = User(id: try row.text(0), email: try row.text(1), displayName: try row.text(2),
                        status: UserStatus(rawValue: try row.text(3)) ?? .deactivated, roles: [],
                        createdAt: try row.timestamp(4), lastActiveAt: nil)
        return SCIMUserRecord(user: user, userName: try row.optionalText(5) ?? user.email, externalId: try row.optionalText(6),
                              attributesJSON: try row.optionalText(7), updatedAt: try row.optionalTimestamp(8) ?? user.createdAt)
    }
}
