import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// Issue 18, finding 7: what `audit verify` detects beyond the chain itself, and what only a
/// head saved outside the database can detect.
@Suite("Audit tamper evidence: target index and saved heads")
struct AuditTamperEvidenceTests {
    /// An organisation with six events (creation writes four, then two users).
    static func organization(_ store: TestStore) async throws -> Organization {
        let org = try await store.createOrganization().organization
        try await store.database.write(org: org.id) { t async throws in
            _ = try await t.createUser(email: "one@example.com", displayName: "One", by: .system)
            _ = try await t.createUser(email: "two@example.com", displayName: "Two", by: .system)
        }
        return org
    }

    static func tamper(_ store: TestStore, _ org: Organization, _ statements: [String]) async throws {
        try await store.asOwner { db in
            try await db.write(org: org.id) { t in
                for statement in statements {
                    try await t.sql.raw(SQLQueryString(statement.replacingOccurrences(of: "$ORG", with: "'\(org.id)'"))).run()
                }
            }
        }
    }

    @Test(arguments: Backend.all)
    func aDeletedTargetIndexRowIsReported(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await Self.organization(store)
            #expect(try await store.verify(org).failure == nil)
            try await Self.tamper(store, org, ["DELETE FROM audit_event_targets WHERE org_id = $ORG AND seq = 5"])
            let failure = try #require(try await store.verify(org).failure)
            #expect(failure.sequence == 5)
            #expect(failure.reason.contains("target index"), "\(failure)")
        }
    }

    @Test(arguments: Backend.all)
    func anAddedTargetIndexRowIsReported(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await Self.organization(store)
            try await Self.tamper(store, org, [
                "INSERT INTO audit_event_targets (org_id, block, target_id, seq) VALUES ($ORG, 0, 'someone-else', 3)",
            ])
            let failure = try #require(try await store.verify(org).failure)
            #expect(failure.sequence == 3 && failure.reason.contains("target index"), "\(failure)")
        }
    }

    @Test(arguments: Backend.all)
    func indexRowsForEventsThatDoNotExistAreReported(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await Self.organization(store)
            try await Self.tamper(store, org, [
                "INSERT INTO audit_event_targets (org_id, block, target_id, seq) VALUES ($ORG, 0, 'ghost', 99)",
            ])
            let failure = try #require(try await store.verify(org).failure)
            #expect(failure.sequence == 99, "\(failure)")
        }
    }

    /// With write access to the database and no head kept elsewhere, a cut tail whose head is
    /// rewritten to match verifies; a head saved earlier shows it.
    @Test(arguments: Backend.all)
    func aCutTailIsShownOnlyByAHeadSavedElsewhere(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await Self.organization(store)
            let saved = try #require(try await store.verify(org).head)
            #expect(saved.sequence == 6)
            let fourth = try await store.database.read(org: org.id) { try await $0.auditEvents(after: 3, limit: 1) }[0]
            try await Self.tamper(store, org, [
                "DELETE FROM audit_event_targets WHERE org_id = $ORG AND seq > 4",
                "DELETE FROM audit_events WHERE org_id = $ORG AND seq > 4",
                "UPDATE audit_heads SET last_seq = 4, last_hash = '\(fourth.hash)' WHERE org_id = $ORG",
            ])
            #expect(try await store.verify(org).failure == nil, "the documented limit: undetectable from inside")
            let verifier = AuditVerifier(database: store.database)
            let failure = try #require(try await verifier.verify(org, savedHeads: [saved]).failure)
            #expect(failure.sequence == 5)
            #expect(failure.reason.contains("tail was cut"), "\(failure)")
            // A head at an event still present, with another hash, means the event was rewritten.
            let forged = ChainHead(sequence: 4, hash: String(repeating: "0", count: 64))
            let rewritten = try #require(try await verifier.verify(org, savedHeads: [forged]).failure)
            #expect(rewritten.sequence == 4 && rewritten.reason.contains("rewritten"), "\(rewritten)")
            #expect(try await verifier.verify(org, savedHeads: [ChainHead(sequence: 4, hash: fourth.hash)]).failure == nil)
        }
    }

    /// A signed checkpoint is a head saved earlier that proves where it came from: the cut tail
    /// that passes the chain check fails against it, and a forged checkpoint does not verify.
    @Test(arguments: Backend.all)
    func signedCheckpointsShowACutTailAndForgeriesDoNotVerify(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await Self.organization(store)
            let keys = store.keys
            let checkpoint = try #require(try await store.database.write(org: org.id) { try await $0.signAuditCheckpoint(keys: keys) })
            #expect(checkpoint.sequence == 6 && checkpoint.orgID == org.id && checkpoint.signatureIsValid)
            #expect(try await store.database.write(org: org.id) { try await $0.signAuditCheckpoint(keys: keys) } == checkpoint,
                    "an unchanged head is not signed twice")
            let stored = try await store.database.read(org: org.id) { try await $0.auditCheckpoints() }
            #expect(stored == [checkpoint], "what is read back is what was signed")
            let publicKeys = try await store.database.read(org: org.id) { try await $0.auditCheckpointPublicKeys() }
            #expect(publicKeys == [checkpoint.keyID: checkpoint.publicKey])
            let line = try JSONEncoder().encode(checkpoint)
            #expect(try JSONDecoder().decode(AuditCheckpoint.self, from: line).signatureIsValid, "it survives its JSON")
            let forged = AuditCheckpoint(orgID: org.id, sequence: 7, headHash: checkpoint.headHash, signedAt: checkpoint.signedAt,
                                         keyID: checkpoint.keyID, publicKey: checkpoint.publicKey, signature: checkpoint.signature)
            #expect(!forged.signatureIsValid)

            // Another organisation's log has checkpoints and keys of its own.
            let other = try await Self.organization(store)
            #expect(try await store.database.read(org: other.id) { try await $0.auditCheckpoints() }.isEmpty)
            let theirs = try #require(try await store.database.write(org: other.id) { try await $0.signAuditCheckpoint(keys: keys) })
            #expect(theirs.keyID != checkpoint.keyID && theirs.publicKey != checkpoint.publicKey)

            let fourth = try await store.database.read(org: org.id) { try await $0.auditEvents(after: 3, limit: 1) }[0]
            try await Self.tamper(store, org, [
                "DELETE FROM audit_event_targets WHERE org_id = $ORG AND seq > 4",
                "DELETE FROM audit_events WHERE org_id = $ORG AND seq > 4",
                "UPDATE audit_heads SET last_seq = 4, last_hash = '\(fourth.hash)' WHERE org_id = $ORG",
            ])
            #expect(try await store.verify(org).failure == nil)
            let failure = try #require(try await AuditVerifier(database: store.database).verify(org, savedHeads: [checkpoint.head]).failure)
            #expect(failure.reason.contains("tail was cut"), "\(failure)")
        }
    }
}
