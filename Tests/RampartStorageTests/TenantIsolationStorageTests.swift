import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Tenant isolation in storage")
struct TenantIsolationStorageTests {
    @Test(arguments: Backend.all)
    func anotherOrganizationCannotReadOrChangeAUser(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let (victim, groupA) = try await store.database.write(org: a.organization.id) { t async throws in
                let victim = try await t.createUser(email: "victim@example.com", displayName: "Victim", by: .system)
                let group = try await t.createGroup(name: "Finance", description: nil, by: .system)
                try await t.addMember(victim.id, to: group.id, by: .system)
                return (victim, group)
            }
            let groupB = try await store.database.write(org: b.organization.id) { t async throws in
                try await t.createGroup(name: "Intruders", description: nil, by: .system)
            }
            let headA = try await store.head(a.organization.id)
            let headB = try await store.head(b.organization.id)

            try await store.database.read(org: b.organization.id) { t async throws in
                #expect(try await t.user(victim.id) == nil)
                #expect(try await t.user(email: "victim@example.com") == nil)
                #expect(try await t.users().items.map(\.id) == [b.admin.id])
                #expect(try await t.group(groupA.id) == nil)
                #expect(try await t.auditEvents(AuditQuery(target: victim.id)).items.isEmpty)
                let aToken = try #require(SecretToken(parsing: a.apiToken, as: .apiToken))
                #expect(try await t.authenticateAPIToken(aToken) == nil)
            }

            let mallory = acting(as: b.admin)
            let attempts: [@Sendable (Tenant) async throws -> Void] = [
                { _ = try await $0.requireUser(victim.id) },
                { _ = try await $0.updateUser(victim.id, email: "mallory@example.com", displayName: "Mallory", by: mallory) },
                { _ = try await $0.setUserStatus(victim.id, .deactivated, by: mallory) },
                { try await $0.deleteUser(victim.id, by: mallory) },
                { try await $0.assignRole(.orgAdmin, to: victim.id, by: mallory) },
                { try await $0.addMember(victim.id, to: groupB.id, by: mallory) },
                { try await $0.removeMember(victim.id, from: groupA.id, by: mallory) },
                { try await $0.deleteGroup(groupA.id, by: mallory) },
            ]
            for (index, attempt) in attempts.enumerated() {
                let error = await expectRampartError(.notFound) {
                    try await store.database.write(org: b.organization.id) { t in try await attempt(t) }
                }
                #expect(error != nil, "attempt \(index)")
            }

            try await store.database.read(org: a.organization.id) { t async throws in
                let user = try #require(try await t.user(victim.id))
                #expect(user == victim)
                #expect(try await t.requireGroup(groupA.id).memberCount == 1)
                #expect(try await t.auditHead() == headA)
            }
            #expect(try await store.head(b.organization.id) == headB)
            #expect(try await store.verify(a.organization).failure == nil)
        }
    }
}
