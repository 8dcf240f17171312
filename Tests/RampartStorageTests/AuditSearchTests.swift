import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// Full-text search scans events as opened: words in the action, actor and targets match in
/// any case, an erased person's data no longer does, and a bounded scan goes on by cursor.
@Suite("Audit log search")
struct AuditSearchTests {
    static func search(_ store: TestStore, _ org: String, _ text: String, _ query: AuditQuery = AuditQuery(),
                       examineLimit: Int = AuditSearch.defaultExamineLimit) async throws
        -> (page: Page<AuditEvent>, progress: AuditSearch.Progress)
    {
        let search = AuditSearch(text: try #require(try AuditSearchText(text)), examineLimit: examineLimit)
        return try await store.database.read(org: org) { try await $0.searchAuditEvents(query, search) }
    }

    static func actions(_ store: TestStore, _ org: String, _ text: String, _ query: AuditQuery = AuditQuery()) async throws
        -> [String]
    {
        try await search(store, org, text, query).page.items.map(\.action)
    }

    @Test(arguments: Backend.all)
    func everyWordMustMatchTheActionActorOrTargetsInAnyCase(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id, tag = UUID().uuidString.prefix(8).lowercased()
            let by = acting(as: created.admin)
            let user = try await store.database.write(org: org) { t in
                let user = try await t.createUser(email: "finder.\(tag)@example.com", displayName: "Finder", by: by)
                _ = try await t.createGroup(name: "Night Shift \(tag)", description: nil, by: by)
                _ = try await t.createGroup(name: "Ärzte Zürich \(tag)", description: nil, by: by)
                return user
            }
            #expect(try await Self.actions(store, org, "finder.\(tag)") == ["user.created"], "a target's email")
            #expect(try await Self.actions(store, org, "NIGHT shift \(tag.uppercased())") == ["group.created"],
                    "a target's name, in any case, words in any order")
            #expect(try await Self.actions(store, org, "night group.created \(tag)") == ["group.created"], "action and target")
            #expect(try await Self.actions(store, org, "ÄRZTE zürich \(tag)") == ["group.created"], "beyond ASCII, in any case")
            #expect(try await Self.actions(store, org, "\(created.admin.email) finder.\(tag)") == ["user.created"],
                    "the actor's email with a target's")
            #expect(try await Self.actions(store, org, user.id) == ["user.created"], "a target's id")
            #expect(try await Self.actions(store, org, "\(tag) nowhere-\(tag)").isEmpty, "every word must match")
            #expect(try await Self.actions(store, org, tag) == ["group.created", "group.created", "user.created"], "newest first")
            #expect(try await Self.actions(store, org, tag, AuditQuery(action: "user.")) == ["user.created"],
                    "the filters narrow the search")
            #expect(try await Self.actions(store, org, tag, AuditQuery(actor: Identifier.make())).isEmpty)
            let all = try await Self.search(store, org, tag)
            #expect(all.progress.complete && all.page.nextCursor == nil)
            #expect(all.progress.examined == Int(try await store.head(org).sequence), "the whole log was read")
        }
    }

    @Test(arguments: Backend.all)
    func anErasedPersonsDataNoLongerMatches(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id, tag = UUID().uuidString.prefix(8).lowercased()
            let user = try await store.database.write(org: org) { t in
                let user = try await t.createUser(email: "gone.\(tag)@example.com", displayName: "Gone", by: acting(as: created.admin))
                try await t.appendAudit([AuditRecord(
                    action: .signinFailed, actor: AuditActor(type: .user, id: user.id, name: user.email, ip: "198.51.100.77"),
                    targets: [], outcome: .failure)])
                return user
            }
            #expect(try await Self.actions(store, org, "gone.\(tag)") == ["auth.signin_failed", "user.created"],
                    "the person's email as actor and as target")
            _ = try await store.database.write(org: org) { try await $0.eraseUser(user.id, by: .system) }
            await store.database.scrubAfterErasure()
            #expect(try await Self.actions(store, org, "gone.\(tag)").isEmpty)
            #expect(try await Self.actions(store, org, "198.51.100.77 signin_failed").isEmpty, "nor their IP address")
            #expect(try await Self.actions(store, org, "erased signin_failed") == ["auth.signin_failed"],
                    "the event itself is still found as it reads now")
        }
    }

    @Test(arguments: Backend.all)
    func aBoundedSearchGoesOnByCursorToTheSameMatches(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id, tag = UUID().uuidString.prefix(8).lowercased()
            try await store.database.write(org: org) { t in
                for i in 0..<12 {
                    _ = try await t.createGroup(name: i % 3 == 0 ? "Match \(tag) \(i)" : "Other \(i)", description: nil, by: .system)
                }
            }
            let expected = try await Self.search(store, org, "match \(tag)").page.items.map(\.sequence)
            #expect(expected.count == 4)

            var found: [Int64] = [], cursor: Int64?, requests = 0
            repeat {
                let result = try await Self.search(store, org, "match \(tag)", AuditQuery(beforeSequence: cursor, limit: 3),
                                                   examineLimit: 5)
                #expect(result.progress.examined <= 5)
                #expect(result.page.items.count <= 3)
                if !result.progress.complete {
                    #expect(result.page.nextCursor != nil)
                    #expect(result.progress.searchedBackTo != nil)
                }
                found += result.page.items.map(\.sequence)
                cursor = result.page.nextCursor.flatMap { Int64($0) }
                requests += 1
            } while cursor != nil && requests < 20
            #expect(found == expected, "every match once, newest first, across bounded requests")
            #expect(requests >= 4, "16 events, 5 at a time")

            let full = try await Self.search(store, org, "match \(tag)", AuditQuery(limit: 2))
            #expect(full.page.items.map(\.sequence) == Array(expected.prefix(2)))
            #expect(!full.progress.complete && full.page.nextCursor == String(expected[1]),
                    "a full page's cursor is its last match: nothing examined is skipped")
        }
    }

    @Test(arguments: Backend.all)
    func anotherOrganisationsEventsNeverMatch(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let mine = try await store.createOrganization().organization.id
            let theirs = try await store.createOrganization().organization.id
            let tag = UUID().uuidString.prefix(8).lowercased()
            for org in [mine, theirs] {
                _ = try await store.database.write(org: org) { try await $0.createGroup(name: "Shared \(tag)", description: nil, by: .system) }
            }
            let found = try await Self.search(store, mine, "shared \(tag)")
            #expect(found.page.items.count == 1)
            #expect(found.page.items.allSatisfy { $0.orgID == mine })
        }
    }

    @Test
    func searchTextIsWordsWithinBounds() throws {
        #expect(try AuditSearchText("  \t ") == nil, "no words: no search")
        #expect(try AuditSearchText("User.Created  user.created a+b")?.words == ["user.created", "a+b"])
        #expect(throws: RampartError.self) { try AuditSearchText(String(repeating: "x", count: AuditSearchText.maxLength + 1)) }
        #expect(throws: RampartError.self) { try AuditSearchText((1...11).map(String.init).joined(separator: " ")) }
    }
}
