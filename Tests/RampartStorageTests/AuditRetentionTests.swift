import Foundation
import RampartCore
import RampartStorage
import RampartStreams
import RampartTestSupport
import SQLKit
import Testing

/// Retention: a purge removes the oldest events through a signed checkpoint, and what remains
/// verifies; a legal hold, an unsent stream and young events each stop it; events removed any
/// other way still show.
@Suite("Audit retention, legal hold and purge")
struct AuditRetentionTests {
    static let later = Timestamp.now().adding(days: 3)

    /// Six events signed by a checkpoint at 6, a seventh from three days on, retention of one
    /// day; returns the checkpoint.
    static func prepare(_ store: TestStore, _ org: String) async throws -> AuditCheckpoint {
        let keys = store.keys
        return try await store.database.write(org: org) { t in
            _ = try await t.createUser(email: "one@example.com", displayName: "One", by: .system)
            _ = try await t.createUser(email: "two@example.com", displayName: "Two", by: .system)
            let checkpoint = try #require(try await t.signAuditCheckpoint(keys: keys))
            _ = try await t.with(clock: { Self.later }).createUser(email: "three@example.com", displayName: "Three", by: .system)
            _ = try await t.updateAuditRetention(days: 1, legalHold: nil, legalHoldReason: nil, by: .system)
            return checkpoint
        }
    }

    /// Two days on: events 1-6 are past a one-day retention, event 7 is not.
    static func purge(_ store: TestStore, _ org: String) async throws -> AuditPurge? {
        try await store.database.write(org: org) { t in
            try await t.with(clock: { Timestamp.now().adding(days: 2) }).purgeExpiredAudit(by: .system)
        }
    }

    @Test(arguments: Backend.all)
    func aPurgeGoesThroughTheCheckpointAndTheRestVerifies(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            let checkpoint = try await Self.prepare(store, org.id)
            #expect(checkpoint.sequence == 6)
            let purge = try #require(try await Self.purge(store, org.id))
            #expect(purge == AuditPurge(firstSequence: 1, throughSequence: 6, events: 6, checkpoint: checkpoint.head))
            let events = try await store.events(org.id)
            #expect(events.map(\.sequence) == [7, 8, 9], "the retention change (8), then the purge's own event (9)")
            #expect(events[2].action == "audit.purged" && events[2].detailsJSON.contains("\"throughSequence\":6"))
            let report = try await store.verify(org)
            #expect(report.failure == nil, "\(String(describing: report.failure))")
            #expect(report.events == 3 && report.purgedThrough == 6)
            #expect(try await store.database.read(org: org.id) { try await $0.auditRetention() }.purgedThrough == checkpoint.head)
            // Nothing more is due: the next checkpoint is not signed yet.
            #expect(try await Self.purge(store, org.id) == nil)
        }
    }

    @Test(arguments: Backend.all)
    func aBundleOfAPurgedLogVerifiesOnItsOwn(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            _ = try await Self.prepare(store, org.id)
            _ = try #require(try await Self.purge(store, org.id))
            let bytes = try await store.database.read(org: org.id) { tenant in
                let scope = try await tenant.auditExportScope(withCheckpoints: true)
                let export = try AuditExport(format: .bundle, filter: AuditExport.Filter(), orgID: org.id)
                let collected = ByteCollector()
                _ = try await export.run(from: scope.start, head: scope.head, checkpoints: scope.checkpoints,
                                         page: { try await tenant.auditEvents(after: $0, limit: 2, as: .stored) }, write: { collected.append($0) })
                return collected.bytes
            }
            let lines = try String(decoding: bytes, as: UTF8.self).split(separator: "\n")
                .map { try JSONDecoder().decode(AuditBundle.Line.self, from: Data($0.utf8)) }
            let report = try AuditBundle.verify(lines)
            #expect(report.events == 3 && report.checkpoints == 1)
            // Without the checkpoint it starts from, the bundle does not verify.
            let without = lines.filter { $0.checkpoint == nil }
            #expect(throws: AuditChainVerifier.Break.self) { try AuditBundle.verify(without) }
        }
    }

    @Test(arguments: Backend.all)
    func aLegalHoldAnUnsentStreamAndYoungEventsEachStopThePurge(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            _ = try await Self.prepare(store, org.id)
            _ = try await store.database.write(org: org.id) {
                try await $0.updateAuditRetention(days: nil, legalHold: true, legalHoldReason: "Case 2026-114", by: .system)
            }
            #expect(try await Self.purge(store, org.id) == nil)
            let keys = store.keys
            _ = try await store.database.write(org: org.id) { t in
                _ = try await t.updateAuditRetention(days: nil, legalHold: false, legalHoldReason: nil, by: .system)
                return try await t.createLogStream(name: "Behind", kind: .syslog, fields: LogStreamFields(endpoint: "[::1]:6514"),
                                                   caCertificate: nil, start: .beginning, keys: keys, by: .system)
            }
            #expect(try await Self.purge(store, org.id) == nil, "the stream has sent nothing yet")
            #expect(try await store.events(org.id).count == 11)
            // A retention longer than the events' age purges nothing either.
            let other = try await store.createOrganization().organization
            _ = try await Self.prepare(store, other.id)
            _ = try await store.database.write(org: other.id) {
                try await $0.updateAuditRetention(days: 400, legalHold: nil, legalHoldReason: nil, by: .system)
            }
            #expect(try await Self.purge(store, other.id) == nil)
        }
    }

    /// Whoever writes the database can delete the oldest events and point the start at a genuine
    /// checkpoint; the log then lacks the audit.purged event that names it.
    @Test(arguments: Backend.all)
    func eventsRemovedOutsideAPurgeAreReported(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            let checkpoint = try await Self.prepare(store, org.id)
            try await store.asOwner { db in
                try await db.write(org: org.id) { t in
                    try await t.sql.raw("DELETE FROM audit_event_targets WHERE org_id = \(bind: org.id) AND seq <= 6").run()
                    try await t.sql.raw("DELETE FROM audit_events WHERE org_id = \(bind: org.id) AND seq <= 6").run()
                    try await t.sql.raw("""
                        UPDATE audit_retention SET purged_through_seq = 6, purged_through_hash = \(bind: checkpoint.headHash)
                        WHERE org_id = \(bind: org.id)
                        """).run()
                }
            }
            let failure = try #require(try await store.verify(org).failure)
            #expect(failure.sequence == 6 && failure.reason.contains("no audit.purged event"), "\(failure)")
            // A start no signed checkpoint vouches for is refused too.
            try await store.asOwner { db in
                try await db.write(org: org.id) { t in
                    try await t.sql.raw("UPDATE audit_retention SET purged_through_hash = 'forged' WHERE org_id = \(bind: org.id)").run()
                }
            }
            let forged = try #require(try await store.verify(org).failure)
            #expect(forged.reason.contains("no checkpoint signed by this organisation"), "\(forged)")
        }
    }

    @Test(arguments: Backend.all)
    func badSettingsAreRefusedAndChangeNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization.id
            let before = try await store.events(org).count
            let refused: [(days: Int?, hold: Bool?, reason: String?, field: String)] = [
                (0, nil, nil, "retentionDays"), (36_501, nil, nil, "retentionDays"), (nil, true, nil, "legalHoldReason"),
                (nil, true, "  ", "legalHoldReason"), (nil, true, String(repeating: "x", count: 501), "legalHoldReason"),
            ]
            for bad in refused {
                let error = await expectRampartError(.invalidField) {
                    _ = try await store.database.write(org: org) {
                        try await $0.updateAuditRetention(days: bad.days, legalHold: bad.hold, legalHoldReason: bad.reason, by: .system)
                    }
                }
                #expect(error?.field == bad.field)
            }
            #expect(try await store.database.read(org: org) { try await $0.auditRetention() } == AuditRetention())
            #expect(try await store.events(org).count == before)
            // A change is audited with before and after; an unchanged setting writes nothing.
            _ = try await store.database.write(org: org) {
                try await $0.updateAuditRetention(days: 730, legalHold: nil, legalHoldReason: nil, by: .system)
            }
            _ = try await store.database.write(org: org) {
                try await $0.updateAuditRetention(days: 730, legalHold: nil, legalHoldReason: nil, by: .system)
            }
            let events = try await store.events(org)
            #expect(events.count == before + 1)
            #expect(events.last?.action == "audit.retention_changed" && events.last?.detailsJSON.contains("730") == true)
        }
    }
}

/// Collects what an export writes.
final class ByteCollector: @unchecked Sendable {
    private(set) var bytes: [UInt8] = []
    func append(_ more: [UInt8]) { bytes += more }
}
