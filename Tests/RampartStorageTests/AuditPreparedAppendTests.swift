import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// Events sealed in a read transaction (`prepareAudit`) and appended later (`appendAudit(_:)`),
/// as product ingestion does: subjects without a key get one under the head lock, a subject
/// erased in between stays unreadable, and the chain verifies.
@Suite("Audit events prepared before the append")
struct AuditPreparedAppendTests {
    static func productEvent(by email: String, _ n: Int) -> AuditRecord {
        var record = AuditRecord(action: ProductEvent.contentViewed,
                                 actor: AuditActor(type: .user, id: "wiki-\(n)", name: email, ip: "192.0.2.\(n)",
                                                   userAgent: "Agent/\(n)"),
                                 targets: [AuditTarget(type: "page", id: "p\(n)", name: "Page \(n)")])
        record.actorSubjectOverride = .email(email)
        return record
    }

    @Test(arguments: Backend.all)
    func aSubjectWithoutAKeyGetsOneWhenTheBatchIsAppended(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let org = try await store.createOrganization().organization
            let tag = UUID().uuidString.prefix(8).lowercased()
            let known = "known.\(tag)@example.com", new = "new.\(tag)@example.com"
            _ = try await store.database.write(org: org.id) { try await $0.appendAudit([Self.productEvent(by: known, 1)]) }
            let batch = try await store.database.read(org: org.id) { t in
                try await t.prepareAudit([Self.productEvent(by: known, 2), Self.productEvent(by: new, 3),
                                          Self.productEvent(by: known, 4)])
            }
            // Another writer makes the new person's key between the two transactions: the
            // batch takes that key, it does not make a second one.
            _ = try await store.database.write(org: org.id) { try await $0.appendAudit([Self.productEvent(by: new, 5)]) }
            let appended = try await store.database.write(org: org.id) { try await $0.appendAudit(batch) }
            #expect(zip(appended, appended.dropFirst()).allSatisfy { $1.sequence == $0.sequence + 1 })
            #expect(appended.map(\.actor.id) == ["wiki-2", "wiki-3", "wiki-4"], "the batch's order is kept")
            let readable = try await store.events(org.id).filter { $0.action == ProductEvent.contentViewed.rawValue }
            let byActor = Dictionary(uniqueKeysWithValues: readable.map { ($0.actor.id ?? "", $0) })
            for (id, email) in [("wiki-1", known), ("wiki-2", known), ("wiki-3", new), ("wiki-4", known), ("wiki-5", new)] {
                let event = try #require(byActor[id])
                #expect(event.actor.name == email && !event.actor.erased)
                #expect(event.actor.userAgent == "Agent/\(id.dropFirst(5))")
            }
            let stored = try await store.database.read(org: org.id) { try await $0.auditEvents(after: 0, limit: 100, as: .stored) }
            let keyIDs = Set(stored.compactMap { $0.actor.name.flatMap(AuditPersonalData.keyID(of:)) })
            #expect(keyIDs.count == 2, "one key per person, however their events were appended")
            #expect(try await store.verify(org).failure == nil)
        }
    }

    @Test(arguments: Backend.all)
    func aPersonErasedBetweenSealingAndAppendingStaysUnreadable(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let org = try await store.createOrganization().organization
            let tag = UUID().uuidString.prefix(8).lowercased()
            let email = "erased.\(tag)@example.com"
            let user = try await store.database.write(org: org.id) { t in
                try await t.createUser(email: email, displayName: "Erased \(tag)", by: .system)
            }
            var made = Self.productEvent(by: email, 7)
            made.actor.id = user.id
            made.actorSubjectOverride = .user(user.id)
            let record = made
            let batch = try await store.database.read(org: org.id) { try await $0.prepareAudit([record]) }
            _ = try await store.database.write(org: org.id) { try await $0.eraseUser(user.id, by: .system) }
            _ = try await store.database.write(org: org.id) { try await $0.appendAudit(batch) }
            let event = try #require(try await store.events(org.id).last)
            #expect(event.action == ProductEvent.contentViewed.rawValue)
            #expect(event.actor.erased && event.actor.name == nil && event.actor.ip == nil && event.actor.userAgent == nil)
            #expect(try await store.verify(org).failure == nil)
        }
    }
}
