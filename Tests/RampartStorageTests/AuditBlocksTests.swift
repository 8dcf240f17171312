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
    /// PostgreSQL gets a database of the test's own, since the schema goes back a version.
    @Test(arguments: Backend.all)
    func theMigrationCarriesTheOldIndexOver(_ backend: Backend) async throws {
        let run: @Sendable (TestStore) async throws -> Void = { store in
            let org = try await store.createOrganization().organization
            try await Self.appendEvents(store, org)
            let before = try await Self.rows(store, org)
            #expect(!before.isEmpty)
            try await store.asOwner { owner in
                try await owner.global(readOnly: false) { sql in
                    for statement in Self.schemaBeforeBlocks(backend) + ["DELETE FROM schema_migrations WHERE version = 23"] {
                        try await sql.raw(SQLQueryString(statement)).run()
                    }
                }
                #expect(try await Migrator(database: owner).migrate() == [23])
            }
            let after = try await Self.rows(store, org)
            #expect(after.count == before.count)
            #expect(after == before)
            #expect(after.allSatisfy { $0.block == $0.seq >> 14 })
            #expect(try await Self.sequences(store, org, AuditQuery(target: "far-apart")) == Self.named.reversed())
            #expect(try await Self.sequences(store, org, AuditQuery(actor: "far-actor")) == Self.named.reversed())
            #expect(try await store.verify(org).failure == nil)
        }
        switch backend {
        case .sqlite: try await TestStore.with(.sqlite, run)
        case .postgres: try await TestStore.withOwnPostgresDatabase(run)
        }
    }

    /// The target table and actor index as migration 22 left them.
    static func schemaBeforeBlocks(_ backend: Backend) -> [String] {
        let actorIndex = [
            "DROP INDEX audit_events_by_actor",
            "CREATE INDEX audit_events_by_actor ON audit_events (org_id, actor_id, seq)",
        ]
        switch backend {
        case .sqlite:
            return actorIndex + [
                """
                CREATE TABLE old_targets (org_id TEXT NOT NULL, target_id TEXT NOT NULL, seq BIGINT NOT NULL,
                PRIMARY KEY (org_id, target_id, seq)) WITHOUT ROWID
                """,
                "INSERT INTO old_targets SELECT org_id, target_id, seq FROM audit_event_targets",
                "DROP TABLE audit_event_targets",
                "ALTER TABLE old_targets RENAME TO audit_event_targets",
            ]
        case .postgres:
            return actorIndex + [
                "ALTER TABLE audit_event_targets DROP CONSTRAINT audit_event_targets_pkey",
                "ALTER TABLE audit_event_targets DROP COLUMN block",
                "ALTER TABLE audit_event_targets ADD PRIMARY KEY (org_id, target_id, seq)",
            ]
        }
    }

    struct Row: Hashable { let org: String, block: Int64, target: String, seq: Int64 }

    /// Read in the organisation's transaction: on PostgreSQL, row-level security shows a
    /// table's rows to no one else.
    static func rows(_ store: TestStore, _ org: Organization) async throws -> Set<Row> {
        try await store.database.read(org: org.id) { tenant in
            Set(try await tenant.sql.raw("SELECT org_id, block, target_id, seq FROM audit_event_targets").all().map {
                Row(org: try $0.decode(column: "org_id", as: String.self), block: try $0.decode(column: "block", as: Int64.self),
                    target: try $0.decode(column: "target_id", as: String.self), seq: try $0.decode(column: "seq", as: Int64.self))
            })
        }
    }
}
