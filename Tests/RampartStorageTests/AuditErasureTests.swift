import Foundation
import RampartCore
import RampartStorage
import RampartStreams
import RampartTestSupport
import SQLKit
import Testing

/// Crypto-shredding: after `eraseUser` every event still verifies, reads as "erased user",
/// and the person's email, name, IP address and user agent are nowhere in the store.
@Suite("Audit log erasure")
struct AuditErasureTests {
    /// Unique to one test, so that a scan of a shared PostgreSQL database finds only these.
    struct Person {
        let tag = UUID().uuidString.prefix(8).lowercased()
        var email: String { "erasable.\(tag)@example.com" }
        var name: String { "Erasable Person \(tag)" }
        var renamed: String { "Renamed Person \(tag)" }
        var ip: String { "203.0.113.\(Int.random(in: 10...250))" }
        var userAgent: String { "EraseAgent/\(tag)" }
        var personalData: [String] { [email, name, renamed, userAgent] }
    }

    @Test(arguments: Backend.all)
    func anErasedPersonReadsAsErasedEverywhereAndTheChainStillVerifies(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let org = try await store.createOrganization().organization
            let other = try await store.createOrganization().organization
            let person = Person(), ip = person.ip
            let user = try await store.database.write(org: org.id) { t in
                try await t.createUser(email: person.email, displayName: person.name, by: .system)
            }
            let keeper = try await store.database.write(org: other.id) { t in
                try await t.createUser(email: "keeper.\(person.tag)@example.com", displayName: "Keeper", by: .system)
            }
            let actor = AuditActor(type: .user, id: user.id, name: person.email, ip: ip, userAgent: person.userAgent)
            try await store.database.write(org: org.id) { t in
                _ = try await t.updateUser(user.id, email: nil, displayName: person.renamed,
                                           by: AuditContext(actor: actor, requestID: "r1"))
                // A product's event about the same address, without Rampart's id.
                var product = AuditRecord(action: ProductEvent.contentViewed,
                                          actor: AuditActor(type: .user, id: "wiki-42", name: person.email, ip: ip,
                                                            userAgent: person.userAgent),
                                          targets: [AuditTarget(type: "page", id: "p1", name: "Plans")])
                product.actorSubjectOverride = .email(person.email)
                try await t.appendAudit([product])
            }
            let before = try await store.events(org.id)
            #expect(before.contains { $0.actor.name == person.email && $0.actor.ip == ip && !$0.actor.erased })
            #expect(before.contains { $0.detailsJSON.contains(person.renamed) }, "personal details read back in clear")
            let stored = try await store.database.read(org: org.id) { try await $0.auditEvents(after: 0, limit: 100, as: .stored) }
            #expect(stored.allSatisfy { $0.encoding == AuditEncoding.current })
            for text in stored.map(Self.allText) { for secret in person.personalData + [ip] { #expect(!text.contains(secret)) } }

            let erasure = try await store.database.write(org: org.id) { t in
                try await t.eraseUser(user.id, by: .system)
            }
            await store.database.scrubAfterErasure()
            #expect(erasure == UserErasure(userId: user.id, userDeleted: true, subjectKeysDestroyed: 2, legacyEvents: 0))

            #expect(try await store.verify(org).failure == nil)
            #expect(try await store.verify(other).failure == nil)
            let after = try await store.events(org.id)
            #expect(after.count == before.count + 1)
            for event in after where event.actor.id == user.id || event.actor.id == "wiki-42" {
                #expect(event.actor.erased && event.actor.name == nil && event.actor.ip == nil && event.actor.userAgent == nil)
                #expect(event.actor.label == "erased user")
            }
            let named = after.dropLast().flatMap { AuditTarget.parse($0.targetsJSON) }.filter { $0.id == user.id }
            #expect(named.count == 2, "user.created and user.updated")
            #expect(named.allSatisfy { $0.name == nil && $0.erased && $0.label == "erased user" })
            let erased = try #require(after.last)
            #expect(erased.action == "user.erased")
            #expect(AuditTarget.parse(erased.targetsJSON) == [AuditTarget(type: "user", id: user.id, name: nil)],
                    "user.erased names the person by id only")
            var exported: [UInt8] = []
            for event in after {
                for format in LogStreamFormat.allCases { format.write(event, orgID: org.id, to: &exported) }
                exported += Self.allText(event).utf8
            }
            let text = String(decoding: exported, as: UTF8.self)
            for secret in person.personalData + [ip] { #expect(!text.contains(secret), "\(secret) in a record") }
            let untouched = try await store.events(other.id)
            #expect(untouched.contains { AuditTarget.parse($0.targetsJSON).contains { $0.name == keeper.email } })

            let dump = try await Self.everythingStored(store, orgs: [org.id, other.id])
            for secret in person.personalData + [ip] { #expect(!dump.contains(secret), "\(secret) left in the store") }
            #expect(dump.contains(keeper.email), "the scan sees what is stored in clear (the other org's users table)")
        }
    }

    @Test(arguments: Backend.all)
    func badErasuresAreRefusedAndChangeNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization
            let other = try await store.createOrganization().organization
            let stranger = try await store.database.write(org: other.id) { t in
                try await t.createUser(email: "stranger.\(UUID().uuidString.prefix(6))@example.com", displayName: "S", by: .system)
            }
            let head = try await store.head(org.id)
            await expectRampartError(.notFound) {
                _ = try await store.database.write(org: org.id) { try await $0.eraseUser(Identifier.make(), by: .system) }
            }
            await expectRampartError(.notFound) {
                _ = try await store.database.write(org: org.id) { try await $0.eraseUser(stranger.id, by: .system) }
            }
            #expect(try await store.database.read(org: other.id) { try await $0.user(stranger.id) } != nil)
            let admin = created.admin
            await expectRampartError(.conflict) {
                _ = try await store.database.write(org: org.id) { try await $0.eraseUser(admin.id, by: .system) }
            }
            #expect(try await store.head(org.id) == head, "a refused erasure writes nothing")

            let user = try await store.database.write(org: org.id) { t in
                try await t.createUser(email: "twice.\(UUID().uuidString.prefix(6))@example.com", displayName: "T", by: .system)
            }
            _ = try await store.database.write(org: org.id) { try await $0.eraseUser(user.id, by: .system) }
            let erasedHead = try await store.head(org.id)
            await expectRampartError(.alreadyErased) {
                _ = try await store.database.write(org: org.id) { try await $0.eraseUser(user.id, by: .system) }
            }
            #expect(try await store.head(org.id) == erasedHead)
            // No key is made for an erased person again: a later event about them keeps nothing personal.
            try await store.database.write(org: org.id) { t in
                _ = try await t.appendAudit([AuditRecord(action: ProductEvent.contentViewed,
                                                         actor: AuditActor(type: .user, id: user.id, name: "back@example.com"),
                                                         targets: [])])
            }
            let last = try #require(try await store.events(org.id).last)
            #expect(last.actor.id == user.id && last.actor.name == nil)
            #expect(try await store.verify(org).failure == nil)
        }
    }

    @Test(arguments: Backend.all)
    func eventsWrittenBeforeSealingStayAndAreCounted(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let org = try await store.createOrganization().organization
            let user = try await store.database.write(org: org.id) { t in
                try await t.createUser(email: "legacy.\(UUID().uuidString.prefix(6))@example.com", displayName: "L", by: .system)
            }
            // An event as written before personal data was sealed: encoding 1, in clear.
            try await store.database.write(org: org.id) { t in
                let head = try await t.auditHead()
                let record = AuditRecord(action: .userUpdated, actor: AuditActor(type: .user, id: user.id, name: user.email),
                                         targets: [.user(user)])
                let e = AuditChain.seal(record, orgID: org.id, after: head, at: .now())
                #expect(e.encoding == AuditEncoding.legacy)
                try await t.sql.raw("""
                    INSERT INTO audit_events (org_id, seq, id, occurred_at, action, outcome, actor_type, actor_id, actor_name,
                    actor_ip, actor_user_agent, targets, request_id, details, prev_hash, hash, encoding)
                    VALUES (\(bind: org.id), \(bind: e.sequence), \(bind: e.id), \(bind: e.occurredAt.microseconds),
                    \(bind: e.action), \(bind: e.outcome), 'user', \(bind: user.id), \(bind: user.email), NULL, NULL,
                    \(bind: e.targetsJSON), NULL, \(bind: e.detailsJSON), \(bind: e.previousHash), \(bind: e.hash), 1)
                    """).run()
                try await t.sql.raw("""
                    INSERT INTO audit_event_targets (org_id, block, target_id, seq)
                    VALUES (\(bind: org.id), \(bind: e.sequence >> 14), \(bind: user.id), \(bind: e.sequence))
                    """).run()
                try await t.sql.raw("""
                    UPDATE audit_heads SET last_seq = \(bind: e.sequence), last_hash = \(bind: e.hash) WHERE org_id = \(bind: org.id)
                    """).run()
            }
            #expect(try await store.verify(org).failure == nil, "a log mixing both encodings verifies")
            let erasure = try await store.database.write(org: org.id) { try await $0.eraseUser(user.id, by: .system) }
            #expect(erasure.legacyEvents == 1)
            #expect(try await store.verify(org).failure == nil)
            let legacy = try #require(try await store.events(org.id).first { $0.encoding == AuditEncoding.legacy })
            #expect(legacy.actor.name == user.email, "not rewritten: the chain and its checkpoints stay as they were")
        }
    }

    /// A batch longer than two slices opens in slices on every core (`mapInSlices`): each
    /// event reads back as written and in order, under its own subject's key, and those about
    /// an erased person read as erased.
    @Test(arguments: Backend.all)
    func aLongBatchOpensInOrderUnderEachSubjectsKey(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let org = try await store.createOrganization().organization
            let erased = try await store.database.write(org: org.id) { t in
                try await t.createUser(email: "sliced.\(UUID().uuidString.prefix(6))@example.com", displayName: "Sliced", by: .system)
            }
            let count = 1_300
            let records = (0..<count).map { i in
                AuditRecord(action: .userUpdated,
                            actor: AuditActor(type: .user, id: "actor-\(i % 40)", name: "actor\(i % 40)@example.com",
                                              ip: "198.51.100.\(i % 200)"),
                            targets: [i % 100 == 7 ? AuditTarget(type: "user", id: erased.id, name: erased.email)
                                : AuditTarget(type: "user", id: "person-\(i)", name: "person\(i)@example.com")],
                            details: AuditDetails(["changes": .object(["displayName": .object(["after": .string("Name \(i)")])])]))
            }
            _ = try await store.database.write(org: org.id) { try await $0.appendAudit(records) }
            _ = try await store.database.write(org: org.id) { try await $0.eraseUser(erased.id, by: .system) }
            let read = try await store.database.read(org: org.id) { try await $0.auditEvents(after: 0, limit: 5_000) }
            let mine = read.filter { $0.actor.id?.hasPrefix("actor-") == true }
            #expect(mine.count == count)
            for (i, e) in mine.enumerated() {
                #expect(e.actor.name == "actor\(i % 40)@example.com" && e.actor.ip == "198.51.100.\(i % 200)", "event \(i)")
                let target = try #require(AuditTarget.parse(e.targetsJSON).first)
                if i % 100 == 7 {
                    #expect(target.id == erased.id && target.name == nil && e.targetsJSON.contains(#""erased":true"#), "event \(i)")
                    #expect(!e.detailsJSON.contains("Name \(i)"), "event \(i): the erased person's details are gone")
                } else {
                    #expect(target.name == "person\(i)@example.com" && e.detailsJSON.contains("Name \(i)"), "event \(i)")
                }
            }
        }
    }

    static func allText(_ e: AuditEvent) -> String {
        [e.actor.name, e.actor.ip, e.actor.userAgent, e.targetsJSON, e.detailsJSON, e.personal].compactMap { $0 }.joined(separator: "\n")
    }

    /// Every byte the store holds: the SQLite file with its WAL, or every row of every table
    /// of PostgreSQL's public schema read as its owner.
    static func everythingStored(_ store: TestStore, orgs: [String]) async throws -> String {
        switch store.backend {
        case .sqlite:
            let files = try FileManager.default.contentsOfDirectory(atPath: store.dataDirectory)
            return files.compactMap { FileManager.default.contents(atPath: store.dataDirectory + "/" + $0) }
                .map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
        case .postgres:
            // Row-level security is forced even for the owner: each organisation's rows are read
            // in a transaction of that organisation.
            return try await store.asOwner { owner in
                var text = ""
                for org in orgs {
                    text += try await owner.read(org: org) { tenant in
                        let tables = try await tenant.sql.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").all()
                            .map { try $0.decode(column: "tablename", as: String.self) }
                        var rows = ""
                        for table in tables {
                            for row in try await tenant.sql.raw(SQLQueryString("SELECT t::text AS r FROM \(ident: table) t")).all() {
                                rows += try row.decode(column: "r", as: String.self) + "\n"
                            }
                        }
                        return rows
                    }
                }
                return text
            }
        }
    }
}
