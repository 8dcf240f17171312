import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// The target and actor indexes are keyed by blocks of 16,384 events (`AuditBlocks`): a filter
/// must find what it names on either side of a block's edge and blocks apart, newest first.
@Suite("Audit target and actor indexes by block")
struct AuditBlocksTests {
    /// The sequence numbers of the events by the actor "far-actor" that name the target
    /// "far-apart": the last of block 0 and the first of block 1, one more in block 1, and one
    /// early event, 16,000 events and three windows (`AuditBlocks.windows`) from the rest.
    static let named: [Int64] = [5, 16_383, 16_384, 16_390]

    /// Appends events 5 to 16,400 after provisioning's four; only `named` name the actor and the target.
    static func appendEvents(_ store: TestStore, _ org: Organization) async throws {
        let far = AuditTarget(type: "page", id: "far-apart", name: "Far apart")
        let other = AuditTarget(type: "page", id: "elsewhere", name: nil)
        let farActor = AuditContext(actor: AuditActor(type: .user, id: "far-actor", name: nil))
        for start in stride(from: Int64(5), through: 16_400, by: 4_000) {
            let chunk = start...min(start + 3_999, 16_400)
            _ = try await store.database.write(org: org.id) { t in
                try await t.appendAudit(chunk.map {
                    named.contains($0) ? farActor.record(.auditRetentionChanged, [far])
                        : AuditContext.system.record(.auditRetentionChanged, [other])
                })
            }
        }
    }

    static func sequences(_ store: TestStore, _ org: Organization, _ query: AuditQuery) async throws -> [Int64] {
        try await store.database.read(org: org.id) { try await $0.auditEvents(query).items.map(\.sequence) }
    }

    @Test(arguments: Backend.all)
    func anActorOrTargetIsFoundAcrossBlocksNewestFirstAndPageByPage(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            try await Self.appendEvents(store, org)
            for query in [AuditQuery(target: "far-apart"), AuditQuery(actor: "far-actor"),
                          AuditQuery(actor: "far-actor", target: "far-apart")] {
                #expect(try await Self.sequences(store, org, query) == Self.named.reversed())
                var before = query
                before.beforeSequence = 16_384
                #expect(try await Self.sequences(store, org, before) == [16_383, 5])
                var other = query
                other.action = "user."
                #expect(try await Self.sequences(store, org, other) == [])

                var single = query
                single.limit = 1
                #expect(try await store.auditPages(org: org.id, single).sequences == Self.named.reversed())

                let search = AuditSearch(text: try #require(try AuditSearchText("retention")))
                let matched = try await store.database.read(org: org.id) {
                    try await $0.auditEvents(query, search: search).page.items.map(\.sequence)
                }
                #expect(matched == Self.named.reversed())
            }
            #expect(try await Self.sequences(store, org, AuditQuery(actor: "far-actor", target: "elsewhere")) == [])
            #expect(try await store.verify(org).failure == nil)
        }
    }

    /// A store made before the indexes were keyed by block: migration 23 carries every target
    /// row over with its block, and the log still verifies and answers actor and target filters.
    @Test
    func theMigrationCarriesTheOldIndexOver() async throws {
        try await TestStore.with(.sqlite) { store in
            let org = try await store.createOrganization().organization
            try await Self.appendEvents(store, org)
            let before = try await Self.rows(store)
            try await store.database.global(readOnly: false) { sql in
                for statement in [
                    """
                    CREATE TABLE old_targets (org_id TEXT NOT NULL, target_id TEXT NOT NULL, seq BIGINT NOT NULL,
                    PRIMARY KEY (org_id, target_id, seq)) WITHOUT ROWID
                    """,
                    "INSERT INTO old_targets SELECT org_id, target_id, seq FROM audit_event_targets",
                    "DROP TABLE audit_event_targets",
                    "ALTER TABLE old_targets RENAME TO audit_event_targets",
                    "DROP INDEX audit_events_by_actor",
                    "CREATE INDEX audit_events_by_actor ON audit_events (org_id, actor_id, seq)",
                    "DELETE FROM schema_migrations WHERE version = 23",
                ] { try await sql.raw(SQLQueryString(statement)).run() }
            }
            #expect(try await Migrator(database: store.database).migrate() == [23])
            let after = try await Self.rows(store)
            #expect(after.count == before.count)
            #expect(after == before)
            #expect(after.allSatisfy { $0.block == $0.seq >> 14 })
            #expect(try await Self.sequences(store, org, AuditQuery(target: "far-apart")) == Self.named.reversed())
            #expect(try await Self.sequences(store, org, AuditQuery(actor: "far-actor")) == Self.named.reversed())
            #expect(try await store.verify(org).failure == nil)
        }
    }

    struct Row: Hashable { let org: String, block: Int64, target: String, seq: Int64 }

    static func rows(_ store: TestStore) async throws -> Set<Row> {
        try await store.database.global { sql in
            Set(try await sql.raw("SELECT org_id, block, target_id, seq FROM audit_event_targets").all().map {
                Row(org: try $0.decode(column: "org_id", as: String.self), block: try $0.decode(column: "block", as: Int64.self),
                    target: try $0.decode(column: "target_id", as: String.self), seq: try $0.decode(column: "seq", as: Int64.self))
            })
        }
    }
}
