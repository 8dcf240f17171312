import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Audit log queries")
struct AuditQueryTests {
    /// Provisioning writes 1–4 now; the fixture then writes 5–8 an hour later, at three instants.
    struct Fixture: Sendable {
        let store: TestStore
        let org: String
        let admin: User
        let user: User
        let group: Group
        let t1: Timestamp, t2: Timestamp, t3: Timestamp

        func sequences(_ query: AuditQuery) async throws -> [Int64] {
            try await store.database.read(org: org) { try await $0.auditEvents(query).items.map(\.sequence) }
        }
    }

    static func withFixture(_ backend: Backend, _ body: @Sendable (Fixture) async throws -> Void) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let by = acting(as: created.admin)
            let t1 = Timestamp.now().adding(seconds: 3600), t2 = t1.adding(seconds: 60), t3 = t1.adding(seconds: 120)
            let (user, group) = try await store.database.write(org: created.organization.id) { tenant in
                let user = try await tenant.with(clock: { t1 })
                    .createUser(email: "query@example.com", displayName: "Query", by: by)              // 5 at t1
                let at2 = tenant.with(clock: { t2 })
                let group = try await at2.createGroup(name: "Operators", description: nil, by: by)   // 6 at t2
                try await at2.addMember(user.id, to: group.id, by: by)                               // 7 at t2
                _ = try await tenant.with(clock: { t3 })
                    .updateUser(user.id, email: nil, displayName: "Query Person", by: .system)      // 8 at t3
                return (user, group)
            }
            try await body(Fixture(store: store, org: created.organization.id, admin: created.admin, user: user,
                                   group: group, t1: t1, t2: t2, t3: t3))
        }
    }

    @Test(arguments: Backend.all)
    func fixtureHasTheExpectedLog(_ backend: Backend) async throws {
        try await Self.withFixture(backend) { f async throws in
            let events = try await f.store.events(f.org)
            #expect(events.map(\.action) == [
                "organization.created", "user.created", "role.assigned", "api_token.created",
                "user.created", "group.created", "group.member_added", "user.updated",
            ])
            #expect(events.suffix(4).map(\.occurredAt) == [f.t1, f.t2, f.t2, f.t3])
        }
    }

    @Test(arguments: Backend.all)
    func actionFilterIsExactUnlessItEndsWithADot(_ backend: Backend) async throws {
        try await Self.withFixture(backend) { f async throws in
            #expect(try await f.sequences(AuditQuery(action: "user.created")) == [5, 2])
            #expect(try await f.sequences(AuditQuery(action: "user.")) == [8, 5, 2])
            #expect(try await f.sequences(AuditQuery(action: "group.")) == [7, 6])
            #expect(try await f.sequences(AuditQuery(action: "api_token.")) == [4])
            #expect(try await f.sequences(AuditQuery(action: "user")) == [])
            #expect(try await f.sequences(AuditQuery(action: "user.create")) == [])
            // LIKE wildcards in the prefix are literal characters.
            #expect(try await f.sequences(AuditQuery(action: "%.")) == [])
            #expect(try await f.sequences(AuditQuery(action: "_ser.")) == [])
        }
    }

    @Test(arguments: Backend.all)
    func actorFilter(_ backend: Backend) async throws {
        try await Self.withFixture(backend) { f async throws in
            #expect(try await f.sequences(AuditQuery(actor: f.admin.id)) == [7, 6, 5])
            #expect(try await f.sequences(AuditQuery(actor: f.user.id)) == [])
        }
    }

    @Test(arguments: Backend.all)
    func targetFilterFindsEventsByAnyOfTheirTargets(_ backend: Backend) async throws {
        try await Self.withFixture(backend) { f async throws in
            #expect(try await f.sequences(AuditQuery(target: f.user.id)) == [8, 7, 5])
            #expect(try await f.sequences(AuditQuery(target: f.group.id)) == [7, 6])
            #expect(try await f.sequences(AuditQuery(target: f.admin.id)) == [3, 2])
            #expect(try await f.sequences(AuditQuery(action: "group.member_added", target: f.user.id)) == [7])
            #expect(try await f.sequences(AuditQuery(action: "group.member_added", target: f.group.id)) == [7])
            #expect(try await f.sequences(AuditQuery(target: Identifier.make())) == [])
        }
    }

    @Test(arguments: Backend.all)
    func sinceIsInclusiveAndUntilIsExclusive(_ backend: Backend) async throws {
        try await Self.withFixture(backend) { f async throws in
            #expect(try await f.sequences(AuditQuery(since: f.t2)) == [8, 7, 6])
            #expect(try await f.sequences(AuditQuery(until: f.t2)) == [5, 4, 3, 2, 1])
            #expect(try await f.sequences(AuditQuery(since: f.t1, until: f.t3)) == [7, 6, 5])
            #expect(try await f.sequences(AuditQuery(since: f.t3.adding(seconds: 1))) == [])
            #expect(try await f.sequences(AuditQuery(actor: f.admin.id, since: f.t2)) == [7, 6])
        }
    }

    @Test(arguments: Backend.all)
    func cursorPagingWalksBackwardsWithoutGapsOrRepeats(_ backend: Backend) async throws {
        try await Self.withFixture(backend) { f async throws in
            for (query, expected) in [(AuditQuery(limit: 3), Array((1...8).reversed())),
                                      (AuditQuery(action: "user.", limit: 2), [8, 5, 2] as [Int64])] {
                let (seen, pages) = try await f.store.auditPages(org: f.org, query)
                #expect(seen == expected)
                #expect(pages == (expected.count + query.limit - 1) / query.limit)
            }
        }
    }
}
