import Foundation
import RampartCore
@testable import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// Batches that wait for the writer are appended together, one savepoint each: a batch that
/// fails is undone alone, the others are kept, and every idempotency key is appended once
/// however the batches are grouped.
@Suite("Ingestion writer")
struct IngestionWriterTests {
    static func events(_ keys: [String]) throws -> [ProductEvent] {
        let body = jsonString(["events": keys.map { EventIngestionTests.event($0) }])
        return try ProductEvent.batch(try JSONValue.decode(body), now: .now())
    }

    @Test(arguments: Backend.all)
    func aFailingBatchIsUndoneAloneAndTheOthersOfItsGroupAreKept(backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            let (kept, revoked) = try await store.database.write(org: org.id) { t in
                let product = try await t.createProduct(name: "Wiki", kind: .wiki, url: "https://wiki.example.com", by: .system)
                let kept = try await t.createIngestionKey(product: product.id, name: "kept", by: .system)
                let revoked = try await t.createIngestionKey(product: product.id, name: "revoked", by: .system)
                return (kept, revoked)
            }
            func credential(_ secret: String) throws -> EventCredential.Checked {
                .init(orgID: org.id, credential: .ingestionKey(try #require(SecretToken(parsing: secret, as: .ingestionKey))))
            }
            func work(_ keys: [String], _ secret: String) async throws -> IngestionWriter.Work {
                let events = try Self.events(keys), checked = try credential(secret)
                let prepared = try await store.database.read(org: org.id) { t in
                    try await t.prepareIngestion(events, from: try await checked.resolve(in: t), requestID: nil)
                }
                return .init(prepared: prepared, events: events, credential: checked, requestID: nil, receivedAt: .now())
            }
            let group = [try await work(["a-1", "a-2"], kept.1), try await work(["b-1"], revoked.1),
                         try await work(["a-2", "a-3"], kept.1)]
            // Revoked after its batch was sealed, before the group is appended.
            _ = try await store.database.write(org: org.id) { try await $0.revokeIngestionKey(revoked.0.id, by: .system) }

            let outcomes = try await IngestionWriter.appendTogether(group, orgID: org.id, database: store.database,
                                                                    tokenUsage: TokenUsageRecorder())
            #expect(outcomes.count == 3)
            let first = try outcomes[0].get(), third = try outcomes[2].get()
            #expect(first.map(\.duplicate) == [false, false] && third.map(\.duplicate) == [true, false])
            #expect(third[0].sequence == first[1].sequence, "a-2 answers with the sequence number it got first")
            #expect(third[1].sequence == first[1].sequence + 1, "nothing of the failed batch took a place in the log")
            guard case .failure(let error as RampartError) = outcomes[1] else {
                Issue.record("the revoked key's batch was not refused: \(outcomes[1])")
                return
            }
            #expect(error.code == .unauthorized)

            let stored = try await store.database.read(org: org.id) { try await $0.auditEvents(after: 0, limit: 100) }
            let keys = stored.compactMap { event -> String? in
                guard case .object(let details)? = JSONValue.parse(event.detailsJSON),
                      case .string(let key)? = details["idempotencyKey"] else { return nil }
                return key
            }
            #expect(keys == ["a-1", "a-2", "a-3"])
            #expect(try await AuditVerifier(database: store.database).verify(org).failure == nil)
        }
    }

    /// Eight requests at once, each sharing half its keys with the next: every key is appended
    /// once, every answer agrees on its sequence number, and the chain verifies.
    @Test(arguments: Backend.all)
    func concurrentBatchesWithOverlappingKeysAppendEachKeyOnce(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let s = try await EventIngestionTests.setUp(client, store)
            let before = try await auditCount(store, s.orgID)
            let bodies = try await withThrowingTaskGroup(of: String.self) { tasks in
                for request in 0..<8 {
                    tasks.addTask {
                        let keys = (request * 5..<request * 5 + 10).map { "c-\($0)" }
                        let body = EventIngestionTests.batch(keys.map { EventIngestionTests.event($0) })
                        let answer = try await s.admin.call(.post, "/events", json: body, token: s.key)
                        #expect(answer.status == .ok, "\(answer.text)")
                        return answer.text
                    }
                }
                return try await tasks.reduce(into: [String]()) { $0.append($1) }
            }
            let answers = try bodies.flatMap { text in
                let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                return try #require(json?["events"] as? [[String: Any]])
            }
            #expect(answers.count == 80)
            var sequences: [String: Int] = [:]
            var appended = 0
            for entry in answers {
                let key = try #require(entry["idempotencyKey"] as? String), sequence = try #require(entry["sequence"] as? Int)
                if sequences[key] != nil { #expect(sequences[key] == sequence, "\(key) answered with two places") }
                sequences[key] = sequence
                if entry["duplicate"] as? Bool == false { appended += 1 }
            }
            #expect(sequences.count == 45 && appended == 45)
            #expect(Set(sequences.values).count == 45)
            #expect(try await auditCount(store, s.orgID) == before + 45)
            #expect(try await AuditVerifier(database: store.database).verify(s.org.organization).failure == nil)
        }
    }
}
