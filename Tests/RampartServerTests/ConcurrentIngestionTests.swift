import Foundation
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// Batches sent at once with overlapping idempotency keys: each key is appended once.
@Suite("Concurrent ingestion")
struct ConcurrentIngestionTests {
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
