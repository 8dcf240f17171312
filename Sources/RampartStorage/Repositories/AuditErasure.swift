import RampartCore
import SQLKit

/// What an erasure did: how many subject keys it destroyed, and how many events written
/// before personal data was sealed still name the person (those cannot be shredded).
public struct UserErasure: Sendable, Equatable, Encodable {
    public let userId: String
    /// The user's row and everything that went with it (sessions, factors, memberships) was
    /// removed here; false when the user had been deleted before and only keys were left.
    public let userDeleted: Bool
    public let subjectKeysDestroyed: Int
    public let legacyEvents: Int64

    public init(userId: String, userDeleted: Bool, subjectKeysDestroyed: Int, legacyEvents: Int64) {
        self.userId = userId; self.userDeleted = userDeleted
        self.subjectKeysDestroyed = subjectKeysDestroyed; self.legacyEvents = legacyEvents
    }
}

extension Tenant {
    /// Erases a person from the audit log (crypto-shredding): destroys the subject keys their
    /// personal data is sealed under — the user's, and that of their email address for
    /// events products sent with the address alone — and removes the user as `deleteUser`
    /// does, plus the mail and sign-in throttles that carry the address. A row without a key
    /// stays for `user:<id>`, so no key is made for them again and a second erasure is refused.
    /// The events stay, still verify and read as "erased user". `user.erased` names the user
    /// by id only. Works on a user deleted earlier, as long as their key exists.
    public func eraseUser(_ id: String, by context: AuditContext) async throws -> UserErasure {
        _ = try await lockedHead()
        let keys = try requireKeys()
        let userReference = Self.userSubjectReference(id)
        let existing = try await sql.raw("""
            SELECT sealed_key FROM audit_subject_keys WHERE org_id = \(bind: orgID) AND subject = \(bind: userReference)
            """).first()
        if let existing, try existing.optionalString("sealed_key") == nil {
            throw RampartError(.alreadyErased, "This user was already erased from the audit log; there is nothing left to erase.")
        }
        let user = try await user(id)
        guard user != nil || existing != nil else {
            throw RampartError(.notFound, "No user with this id in this organization.")
        }
        try await overwriteDeletedBytes(true)
        do {
            let erasure = try await erase(id, user: user, userReference: userReference, keys: keys, by: context)
            try await overwriteDeletedBytes(false)
            return erasure
        } catch {
            try? await overwriteDeletedBytes(false)
            throw error
        }
    }

    private func erase(_ id: String, user: User?, userReference: String, keys: KeyService, by context: AuditContext)
        async throws -> UserErasure
    {
        var references = [userReference]
        if let user {
            try await ensureAnotherActiveOrgAdmin(besides: user)
            try await removeUserRows(of: user.id)
            let email = user.email.lowercased()
            try await sql.raw("DELETE FROM mail_outbox WHERE org_id = \(bind: orgID) AND LOWER(recipient) = \(bind: email)").run()
            try await sql.raw("""
                DELETE FROM sign_in_throttles WHERE org_id = \(bind: orgID) AND scope = 'account' AND key = \(bind: "email:" + email)
                """).run()
            references.append(subjectReference(.email(email), referenceKey: try await keys.subjectReferenceKey(in: self)))
        }
        let destroyed = try await sql.select().column("subject").from("audit_subject_keys").where("org_id", .equal, orgID)
            .where("subject", .in, references).all().count
        try await sql.delete(from: "audit_subject_keys").where("org_id", .equal, orgID).where("subject", .in, references).run()
        try await insertRows(into: "audit_subject_keys",
                             columns: ["org_id", "subject", "key_id", "sealed_key", "created_at", "erased_at"],
                             rows: [[ColumnValue(orgID), ColumnValue(userReference), ColumnValue(Identifier.make()), .null,
                                     ColumnValue(clock().microseconds), ColumnValue(clock().microseconds)]])
        let legacy = try await legacyEvents(naming: id)
        let erasure = UserErasure(userId: id, userDeleted: user != nil, subjectKeysDestroyed: destroyed, legacyEvents: legacy)

        try await appendAudit([context.record(.userErased, [AuditTarget(type: "user", id: id, name: nil)], details: AuditDetails([
            "userDeleted": .bool(erasure.userDeleted), "subjectKeysDestroyed": .int(Int64(destroyed)),
            "legacyEvents": .int(legacy),
        ]))])
        return erasure
    }

    /// How many events of encoding 1, written before subject keys, name `id` as their actor or
    /// a target: their personal data is in clear and stays so. Counted window by window of the
    /// actor and target indexes (`AuditBlocks`), each seeking only the events named.
    private func legacyEvents(naming id: String) async throws -> Int64 {
        var count: Int64 = 0
        for window in AuditBlocks.windows(below: try await auditHead().sequence + 1) {
            count += try await sql.raw(SQLQueryString("SELECT COUNT(*) AS n FROM audit_events WHERE org_id = ")
                + "\(bind: orgID)" + " AND encoding = 1 AND (seq IN (" + AuditBlocks.sequences(org: orgID, actor: id, in: window)
                + ") OR seq IN (" + AuditBlocks.sequences(org: orgID, target: id, in: window) + "))").first()!.int("n")
        }
        return count
    }

    /// SQLite leaves deleted rows' bytes in free space until overwritten: for an erasure the
    /// deleted key and user row are zeroed as they are freed (`PRAGMA secure_delete`), on this
    /// connection and only while erasing. PostgreSQL keeps dead row versions until VACUUM,
    /// which `Database.scrubAfterErasure` asks for.
    private func overwriteDeletedBytes(_ on: Bool) async throws {
        guard let session = sql as? SQLiteSession else { return }
        try session.connection.run(on ? "PRAGMA secure_delete = ON" : "PRAGMA secure_delete = FAST")
    }
}
