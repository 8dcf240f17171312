import RampartCore
import RampartStorage
import RampartTestSupport
import Foundation
import SQLKit
import Testing

@Suite("Audit log")
struct AuditLogTests {
    @Test(arguments: Backend.all)
    func concurrentWritersGetGapFreeSequences(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        _ = try await store.database.write(org: org) { t async throws in
                            try await t.createUser(email: "writer\(i)@example.com", displayName: "Writer \(i)", by: .system)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await store.events(org)
            #expect(events.map(\.sequence) == Array(1...24))
            #expect(events.filter { $0.action == "user.created" }.count == 21)
            #expect(Set(events.map(\.id)).count == 24)
            #expect(try await store.head(org) == ChainHead(sequence: 24, hash: events.last!.hash))
            #expect(try await store.database.read(org: org) { try await $0.auditEventCount() } == 24)
            #expect(try await store.database.read(org: org) { try await $0.userCount() } == 21)
            let report = try await store.verify(created.organization)
            #expect(report.failure == nil)
            #expect(report.events == 24)
        }
    }

    @Test(arguments: Backend.all)
    func verificationReportsProgressBatchByBatch(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let records = (0..<4_500).map { i in
                AuditRecord(action: .userUpdated, actor: .system,
                            targets: [AuditTarget(type: "user", id: Identifier.make(), name: "user\(i)@example.com")])
            }
            _ = try await store.database.write(org: created.organization.id) { try await $0.appendAudit(records) }
            let total = try await store.head(created.organization.id).sequence
            let updates = ProgressUpdates()
            let report = try await AuditVerifier(database: store.database).verify(created.organization) { checked, of in
                updates.append(checked, of)
            }
            #expect(report.failure == nil)
            let seen = updates.all
            #expect(seen.map(\.0) == [2_000, 4_000, total])
            #expect(seen.allSatisfy { $0.1 == total })
        }
    }

    final class ProgressUpdates: @unchecked Sendable {
        private let lock = NSLock()
        private var updates: [(Int64, Int64)] = []
        func append(_ checked: Int64, _ total: Int64) { lock.withLock { updates.append((checked, total)) } }
        var all: [(Int64, Int64)] { lock.withLock { updates } }
    }

    enum Tampering: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case editAction, deleteRow, swapRows, dropTail, editHead
        var testDescription: String { rawValue }

        /// Where the verifier must report the break, and words its reason must contain.
        var expected: (sequence: Int64, reason: String) {
            switch self {
            case .editAction: (2, "edited")
            case .deleteRow: (3, "missing")
            case .swapRows: (2, "previous-hash link")
            case .dropTail: (6, "ends at 5 but its head records 6")
            case .editHead: (6, "head's hash")
            }
        }

        func apply(_ t: Tenant) async throws {
            let org = t.orgID
            switch self {
            case .editAction:
                try await t.sql.raw("UPDATE audit_events SET action = 'user.deleted' WHERE org_id = \(bind: org) AND seq = 2")
                    .run()
            case .deleteRow:
                try await t.sql.raw("DELETE FROM audit_events WHERE org_id = \(bind: org) AND seq = 3").run()
            case .swapRows:
                try await t.sql.raw("UPDATE audit_events SET seq = -1 WHERE org_id = \(bind: org) AND seq = 2").run()
                try await t.sql.raw("UPDATE audit_events SET seq = 2 WHERE org_id = \(bind: org) AND seq = 3").run()
                try await t.sql.raw("UPDATE audit_events SET seq = 3 WHERE org_id = \(bind: org) AND seq = -1").run()
            case .dropTail:
                try await t.sql.raw("DELETE FROM audit_events WHERE org_id = \(bind: org) AND seq = 6").run()
            case .editHead:
                try await t.sql.raw("UPDATE audit_heads SET last_hash = \(bind: AuditChain.genesisHash) WHERE org_id = \(bind: org)")
                    .run()
            }
        }
    }

    @Test("Tampering behind the application's back is reported at the right sequence",
          arguments: Backend.all, Tampering.allCases)
    func tamperingIsReported(_ backend: Backend, _ tampering: Tampering) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization
            try await store.database.write(org: org.id) { t async throws in
                _ = try await t.createUser(email: "one@example.com", displayName: "One", by: .system)
                _ = try await t.createUser(email: "two@example.com", displayName: "Two", by: .system)
            }
            let intact = try await store.verify(org)
            #expect(intact.failure == nil)
            #expect(intact.events == 6)

            try await store.asOwner { db in try await db.write(org: org.id) { t in try await tampering.apply(t) } }

            let report = try await store.verify(org)
            let failure = try #require(report.failure)
            #expect(failure.sequence == tampering.expected.sequence)
            #expect(failure.reason.contains(tampering.expected.reason), "\(failure)")
            #expect(report.events == failure.sequence - 1 || tampering == .editHead && report.events == 6)
        }
    }

    struct Abort: Error {}

    @Test(arguments: Backend.all)
    func aFailedTransactionLeavesNoUserAndNoEvent(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let head = try await store.head(org)
            await #expect(throws: Abort.self) {
                try await store.database.write(org: org) { t async throws in
                    _ = try await t.createUser(email: "ghost@example.com", displayName: "Ghost", by: .system)
                    #expect(try await t.user(email: "ghost@example.com") != nil)
                    #expect(try await t.auditHead().sequence == head.sequence + 1)
                    throw Abort()
                }
            }
            try await store.database.read(org: org) { t async throws in
                #expect(try await t.user(email: "ghost@example.com") == nil)
                #expect(try await t.userCount() == 1)
                #expect(try await t.auditHead() == head)
                #expect(try await t.auditEventCount() == head.sequence)
                #expect(try await t.auditEvents(AuditQuery(target: nil, limit: 100)).items.allSatisfy {
                    !$0.detailsJSON.contains("ghost")
                })
            }
            let next = try await store.database.write(org: org) { t async throws in
                try await t.createUser(email: "ghost@example.com", displayName: "Ghost", by: .system)
            }
            let last = try #require(try await store.events(org).last)
            #expect(last.sequence == head.sequence + 1)
            #expect(last.targetsJSON.contains(next.id))
            #expect(try await store.verify(created.organization).failure == nil)
        }
    }
}
