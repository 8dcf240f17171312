import Crypto
import Foundation
import RampartCore
import SQLKit

/// The subject keys that seal personal data in the audit log (`audit_subject_keys`), each
/// sealed under the organisation's data key, bound to its table, key id and column.
extension Tenant {
    func requireKeys() throws -> KeyService {
        guard let keys else {
            throw RampartError(.configuration, """
                The audit log's personal data needs the key-encryption key: open the store through KeyService.open.
                """)
        }
        return keys
    }

    /// How `subject` is named in `audit_subject_keys`: a user by id; an email or a product's
    /// reference by HMAC under the organisation's subject reference key, never in clear.
    func subjectReference(_ subject: AuditSubject, referenceKey: SymmetricKey) -> String {
        func mac(_ text: String) -> String {
            Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: referenceKey)).hexString
        }
        return switch subject {
        case .user(let id): Self.userSubjectReference(id)
        case .email(let address): "email:" + mac(address.lowercased())
        case .productUser(let product, let reference): "product:" + product + ":" + mac(reference)
        }
    }

    static func userSubjectReference(_ id: String) -> String { "user:" + id }

    /// The keys of `subjects`, made for those that have none yet, in one read and one insert
    /// whatever the number of events. An erased subject (a row without a key) is left out: what
    /// would be sealed for it is not stored. Callers hold the head row lock (`appendAudit`),
    /// which orders key creation between writers of one organisation.
    func subjectKeys(for subjects: Set<AuditSubject>) async throws -> [AuditSubject: SubjectKey] {
        let existing = try await existingSubjectKeys(for: subjects)
        guard !existing.unknown.isEmpty else { return existing.keys }
        let keys = try requireKeys()
        var found = existing.keys
        var created: [[ColumnValue]] = []
        let now = clock().microseconds
        for (subject, reference) in existing.unknown {
            let key = SubjectKey(id: Identifier.make(), key: SymmetricKey(size: .bits256))
            let sealed = try await keys.seal(key.key.withUnsafeBytes { Data($0) }, in: self, table: "audit_subject_keys",
                                             row: key.id, column: "sealed_key")
            created.append([ColumnValue(orgID), ColumnValue(reference), ColumnValue(key.id), ColumnValue(sealed),
                            ColumnValue(now)])
            found[subject] = key
        }
        try await insertRows(into: "audit_subject_keys",
                             columns: ["org_id", "subject", "key_id", "sealed_key", "created_at"], rows: created)
        return found
    }

    /// The keys of `subjects` that exist, in one read, and the subjects that have no row yet
    /// (`unknown`, with the reference a new row takes); an erased subject is in neither.
    func existingSubjectKeys(for subjects: Set<AuditSubject>) async throws
        -> (keys: [AuditSubject: SubjectKey], unknown: [AuditSubject: String])
    {
        guard !subjects.isEmpty else { return ([:], [:]) }
        let keys = try requireKeys()
        // The organisation's subject reference key is read only when a subject needs it.
        let needsReference = subjects.contains { if case .user = $0 { false } else { true } }
        let referenceKey = needsReference ? try await keys.subjectReferenceKey(in: self) : SymmetricKey(size: .bits256)
        var byReference: [String: AuditSubject] = [:]
        var unknown: [AuditSubject: String] = [:]
        for subject in subjects {
            let reference = subjectReference(subject, referenceKey: referenceKey)
            byReference[reference] = subject
            unknown[subject] = reference
        }
        var found: [AuditSubject: SubjectKey] = [:]
        for chunk in Array(byReference.keys).chunked(1000) {
            let rows = try await sql.select().column("subject").column("key_id").column("sealed_key")
                .from("audit_subject_keys").where("org_id", .equal, orgID).where("subject", .in, Array(chunk)).all()
            for row in rows {
                guard let subject = byReference[try row.string("subject")] else { continue }
                unknown[subject] = nil
                guard let sealed = try row.optionalString("sealed_key") else { continue }
                let keyID = try row.string("key_id")
                found[subject] = SubjectKey(id: keyID, key: try await openSubjectKey(sealed, id: keyID, keys: keys))
            }
        }
        return (found, unknown)
    }

    /// The keys that the sealed values of `events` name, by key id, in one read; destroyed
    /// keys are simply absent, and their values read as erased.
    func subjectKeys(opening events: [AuditEvent]) async throws -> AuditOpener {
        let ids = await AuditOpener.keyIDs(in: events)
        guard !ids.isEmpty else { return AuditOpener(keys: [:]) }
        let keys = try requireKeys()
        var sealed: [(row: String, value: String)] = []
        for chunk in Array(ids).chunked(1000) {
            let rows = try await sql.select().column("key_id").column("sealed_key").from("audit_subject_keys")
                .where("org_id", .equal, orgID).where("key_id", .in, Array(chunk)).all()
            for row in rows {
                // A destroyed key (erased subject) has no sealed key: its values read as erased.
                guard let value = try row.optionalString("sealed_key") else { continue }
                sealed.append((try row.string("key_id"), value))
            }
        }
        let opened = try await keys.openAll(sealed, in: self, table: "audit_subject_keys", column: "sealed_key")
        var found: [Substring: SymmetricKey] = [:]
        for (item, key) in zip(sealed, opened) { found[Substring(item.row)] = SymmetricKey(data: key) }
        return AuditOpener(keys: found)
    }

    private func openSubjectKey(_ sealed: String, id: String, keys: KeyService) async throws -> SymmetricKey {
        SymmetricKey(data: try await keys.open(sealed, in: self, table: "audit_subject_keys", row: id, column: "sealed_key"))
    }
}
