import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// The product that sent a batch of events is indexed as ranges of sequence numbers, one per
/// batch and block (`audit_target_ranges`), not a row per event: `?target=<product>` must still
/// find every event it sent, and the verifier must notice a range removed, cut or stretched.
@Suite("Audit target ranges of ingested batches")
struct AuditTargetRangesTests {
    struct Setup {
        let org: Organization
        let wiki: Product
        let reports: Product
    }

    static func setUp(_ store: TestStore) async throws -> Setup {
        let org = try await store.createOrganization().organization
        return try await store.database.write(org: org.id) { t in
            Setup(org: org, wiki: try await t.createProduct(name: "Wiki", kind: .wiki, url: "https://wiki.example.test", by: .system),
                  reports: try await t.createProduct(name: "Reports", kind: .wiki, url: "https://reports.example.test", by: .system))
        }
    }

    /// Ingests events with `keys` from `product`; returns the sequence numbers they got.
    @discardableResult
    static func ingest(_ store: TestStore, _ org: Organization, _ product: Product, _ keys: [String],
                       action: String = "product.content_viewed") async throws -> [Int64] {
        let now = Timestamp.now()
        let body = JSONValue.object(["events": .array(keys.map { key in
            .object(["idempotencyKey": .string(key), "action": .string(action), "occurredAt": .string(now.rfc3339),
                     "actor": .object(["id": .string("reader-1")]),
                     "targets": .array([.object(["type": .string("page"), "id": .string("page-\(key)")])])])
        })])
        let events = try ProductEvent.batch(body, now: now)
        let source = EventSource(product: product, credential: .ingestionKey, credentialID: "key-1")
        return try await store.database.write(org: org.id) { t in
            try await t.ingest(events, from: source, requestID: nil).map(\.sequence)
        }
    }

    static func sequences(_ store: TestStore, _ org: Organization, _ query: AuditQuery) async throws -> [Int64] {
        try await store.database.read(org: org.id) { try await $0.auditEvents(query).items.map(\.sequence) }
    }

    static func run(_ store: TestStore, _ org: Organization, _ statement: String) async throws {
        try await store.database.write(org: org.id) { try await $0.sql.raw(SQLQueryString(statement)).run() }
    }

    /// Fills the log with system events up to `sequence`.
    static func fill(_ store: TestStore, _ org: Organization, through sequence: Int64) async throws {
        let head = try await store.database.read(org: org.id) { try await $0.auditHead().sequence }
        for start in stride(from: head + 1, through: sequence, by: 4_000) {
            let count = Int(min(start + 3_999, sequence) - start + 1)
            _ = try await store.database.write(org: org.id) { t in
                try await t.appendAudit(Array(repeating: AuditContext.system.record(.auditRetentionChanged, []), count: count))
            }
        }
    }

    @Test(arguments: Backend.all)
    func aProductFindsEveryEventItSentAcrossBlocksAndTheVerifierChecksTheRanges(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let s = try await Self.setUp(store)
            let created = try await Self.sequences(store, s.org, AuditQuery(target: s.wiki.id))
            let reportsCreated = try await Self.sequences(store, s.org, AuditQuery(target: s.reports.id))
            #expect(created.count == 1 && reportsCreated.count == 1, "a product's creation names it through a row of its own")
            let early = try await Self.ingest(store, s.org, s.wiki, ["a", "b", "c"])
            try await Self.fill(store, s.org, through: 16_380)
            let other = try await Self.ingest(store, s.org, s.reports, ["a", "b"])
            #expect(other == [16_381, 16_382])
            let edge = try await Self.ingest(store, s.org, s.wiki, ["d", "e", "f", "g", "h"], action: "product.searched")
            #expect(edge == Array(16_383...16_387), "the batch crosses from block 0 into block 1")
            // Sent again with one new key: only that one is appended, a range of one.
            let again = try await Self.ingest(store, s.org, s.wiki, ["e", "i"])
            #expect(again == [16_384, 16_388])

            let wiki = [16_388] + edge.reversed() + early.reversed() + created
            #expect(try await Self.sequences(store, s.org, AuditQuery(target: s.wiki.id)) == wiki)
            #expect(try await Self.sequences(store, s.org, AuditQuery(target: s.reports.id)) == other.reversed() + reportsCreated)
            #expect(try await Self.sequences(store, s.org, AuditQuery(action: "product.searched", target: s.wiki.id))
                == edge.reversed())
            #expect(try await Self.sequences(store, s.org, AuditQuery(actor: "reader-1", target: s.reports.id)) == other.reversed())
            var beforeEdge = AuditQuery(target: s.wiki.id)
            beforeEdge.beforeSequence = 16_385
            #expect(try await Self.sequences(store, s.org, beforeEdge) == [16_384, 16_383] + early.reversed() + created)
            #expect(try await Self.sequences(store, s.org, AuditQuery(target: "page-d")) == [16_383])

            #expect(try await store.auditPages(org: s.org.id, AuditQuery(target: s.wiki.id, limit: 2)).sequences == wiki)

            // One range per batch and block, and no row per event for the products.
            let ranges = try await store.database.read(org: s.org.id) { t in
                try await t.sql.raw("""
                    SELECT block, target_id, first_seq, last_seq FROM audit_target_ranges ORDER BY first_seq
                    """).all().map { "\(try $0.decode(column: "block", as: Int64.self)) \(try $0.decode(column: "target_id", as: String.self) == s.wiki.id ? "wiki" : "reports") "
                        + "\(try $0.decode(column: "first_seq", as: Int64.self))-\(try $0.decode(column: "last_seq", as: Int64.self))" }
            }
            #expect(ranges == ["0 wiki \(early[0])-\(early[2])", "0 reports 16381-16382", "0 wiki 16383-16383",
                               "1 wiki 16384-16387", "1 wiki 16388-16388"])
            let productRows = try await store.database.read(org: s.org.id) { t in
                try await t.sql.raw("""
                    SELECT COUNT(*) AS n FROM audit_event_targets WHERE target_id IN (\(bind: s.wiki.id), \(bind: s.reports.id))
                    """).first()!.decode(column: "n", as: Int64.self)
            }
            #expect(productRows == 2, "only the products' creation events have rows")
            #expect(try await store.verify(s.org).failure == nil)

            // A range removed, cut short or stretched past the log is reported.
            let tampering: [(String, String, Int64, String)] = [
                ("DELETE FROM audit_target_ranges WHERE first_seq = 16381", """
                 INSERT INTO audit_target_ranges (org_id, block, target_id, first_seq, last_seq)
                 VALUES ('\(s.org.id)', 0, '\(s.reports.id)', 16381, 16382)
                 """, 16_381, "target index does not match"),
                ("UPDATE audit_target_ranges SET first_seq = 16385 WHERE first_seq = 16384",
                 "UPDATE audit_target_ranges SET first_seq = 16384 WHERE first_seq = 16385", 16_384, "target index does not match"),
                ("UPDATE audit_target_ranges SET last_seq = 16395 WHERE first_seq = 16388",
                 "UPDATE audit_target_ranges SET last_seq = 16388 WHERE first_seq = 16388", 16_389, "does not hold"),
            ]
            for (tamper, undo, sequence, reason) in tampering {
                try await Self.run(store, s.org, tamper)
                let failure = try await store.verify(s.org).failure
                #expect(failure?.sequence == sequence && failure?.reason.contains(reason) == true, "\(tamper): \(String(describing: failure))")
                try await Self.run(store, s.org, undo)
            }
            #expect(try await store.verify(s.org).failure == nil)
        }
    }

    /// A purge through a checkpoint takes the ranges of the events it removes with them; the
    /// ranges after it keep finding their events, and the rest verifies.
    @Test(arguments: Backend.all)
    func aPurgeRemovesTheRangesOfThePurgedEvents(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let s = try await Self.setUp(store)
            try await Self.ingest(store, s.org, s.wiki, ["a", "b", "c"])
            let keys = store.keys
            let checkpoint = try await store.database.write(org: s.org.id) { t in
                try #require(try await t.signAuditCheckpoint(keys: keys))
            }
            let kept = try await Self.ingest(store, s.org, s.wiki, ["d", "e"])
            _ = try await store.database.write(org: s.org.id) { t in
                _ = try await t.with(clock: { Timestamp.now().adding(days: 3) })
                    .createUser(email: "young@example.com", displayName: "Young", by: .system)
                return try await t.updateAuditRetention(days: 1, legalHold: nil, legalHoldReason: nil, by: .system)
            }
            let purge = try #require(try await store.database.write(org: s.org.id) { t in
                try await t.with(clock: { Timestamp.now().adding(days: 2) }).purgeExpiredAudit(by: .system)
            })
            #expect(purge.throughSequence == checkpoint.sequence)
            #expect(try await Self.sequences(store, s.org, AuditQuery(target: s.wiki.id)) == kept.reversed())
            let ranges = try await store.database.read(org: s.org.id) { t in
                try await t.sql.raw("SELECT first_seq FROM audit_target_ranges").all().map { try $0.decode(column: "first_seq", as: Int64.self) }
            }
            #expect(ranges == [kept[0]])
            let report = try await store.verify(s.org)
            #expect(report.failure == nil, "\(String(describing: report.failure))")

            // The kept batch follows the checkpoint at once: its range stretched back over the
            // purged event names nothing the log holds, and is reported as reaching before it.
            #expect(kept[0] == checkpoint.sequence + 1)
            try await Self.run(store, s.org, "UPDATE audit_target_ranges SET first_seq = \(checkpoint.sequence)")
            let stretched = try await store.verify(s.org).failure
            #expect(stretched?.sequence == checkpoint.sequence + 1 && stretched?.reason.contains("reaches before the log") == true,
                    "\(String(describing: stretched))")
        }
    }
}
