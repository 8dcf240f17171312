import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Organisation provisioning")
struct OrganizationProvisioningTests {
    static func uniqueSlug(_ prefix: String) -> String { prefix + "-" + UUID().uuidString.prefix(8).lowercased() }

    @Test(arguments: Backend.all)
    func createGivesAnAdminWithAWorkingTokenAndSetupLink(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization("Acme Widgets", adminEmail: " Founder@Acme.example ")
            let org = created.organization
            #expect(org.name == "Acme Widgets")
            #expect(org.region == "eu")
            #expect(Identifier.canonical(org.id) == org.id)
            #expect(created.admin.email == "founder@acme.example")
            #expect(created.admin.roles == [.orgAdmin])
            #expect(created.admin.status == .active)

            let repository = OrganizationRepository(database: store.database)
            #expect(try await repository.find(idOrSlug: org.slug) == org)
            #expect(try await repository.find(idOrSlug: org.id.uppercased()) == org)

            let apiSecret = try #require(SecretToken(parsing: created.apiToken, as: .apiToken))
            #expect(apiSecret.orgID == org.id)
            let setupSecret = try #require(SecretToken(parsing: created.setupToken, as: .setupLink))
            #expect(setupSecret.orgID == org.id)

            try await store.database.read(org: org.id) { tenant in
                let admin = try #require(try await tenant.user(created.admin.id))
                #expect(admin == created.admin)
                #expect(try await tenant.roleAssignments().items.map(\.role) == [.orgAdmin])
                let token = try #require(try await tenant.authenticateAPIToken(apiSecret))
                #expect(token.role == .orgAdmin)
                #expect(token.revokedAt == nil)
                #expect(token.expiresAt == nil)
                #expect(try await tenant.authenticateAPIToken(SecretToken.generate(.apiToken, orgID: org.id)) == nil)
                #expect(try await tenant.setupLinkUser(setupSecret)?.id == created.admin.id)
                #expect(try await tenant.setupLinkUser(SecretToken.generate(.setupLink, orgID: org.id)) == nil)
            }
        }
    }

    @Test(arguments: Backend.all)
    func createWritesTheFirstFourEventsInOrder(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization
            let events = try await store.events(org.id)
            #expect(events.map(\.action) == ["organization.created", "user.created", "role.assigned", "api_token.created"])
            #expect(events.map(\.sequence) == [1, 2, 3, 4])
            #expect(events.allSatisfy { $0.orgID == org.id && $0.actor == .system })
            #expect(events[0].targetsJSON.contains(org.id))
            #expect(events[1].targetsJSON.contains(created.admin.id))
            #expect(JSONValue.parse(events[2].detailsJSON) == .object(["role": .string("org-admin")]))
            #expect(try await store.head(org.id) == ChainHead(sequence: 4, hash: events[3].hash))
            let report = try await store.verify(org)
            #expect(report.failure == nil)
            #expect(report.events == 4)
        }
    }

    @Test(arguments: Backend.all)
    func duplicateSlugIsAConflictAndCreatesNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let provisioner = OrganizationProvisioner(database: store.database, keys: store.keys)
            let slug = Self.uniqueSlug("dup")
            let first = try await provisioner.create(name: "First", slug: slug, region: "eu",
                                                     adminEmail: "first@example.com", adminName: nil)
            let secondName = "Second \(UUID().uuidString)"
            await expectRampartError(.conflict) {
                _ = try await provisioner.create(name: secondName, slug: slug.uppercased(), region: "eu",
                                                 adminEmail: "second@example.com", adminName: nil)
            }
            let all = try await OrganizationRepository(database: store.database).all()
            #expect(all.filter { $0.slug == slug }.map(\.id) == [first.organization.id])
            #expect(!all.contains { $0.name == secondName })
            #expect(try await store.head(first.organization.id).sequence == 4)
            #expect(try await store.verify(first.organization).failure == nil)
        }
    }

    @Test(arguments: Backend.all)
    func concurrentCreatesWithOneSlugLeaveExactlyOneOrganization(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let provisioner = OrganizationProvisioner(database: store.database, keys: store.keys)
            let slug = Self.uniqueSlug("race")
            let outcomes = await withTaskGroup(of: RampartError.Code?.self) { group in
                for i in 0..<4 {
                    group.addTask {
                        do {
                            _ = try await provisioner.create(name: "Racer \(i)", slug: slug, region: "eu",
                                                             adminEmail: "racer\(i)@example.com", adminName: nil)
                            return nil
                        } catch let error as RampartError {
                            return error.code
                        } catch {
                            return .internalError
                        }
                    }
                }
                return await group.reduce(into: [RampartError.Code?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1, "\(outcomes)")
            #expect(outcomes.filter { $0 == .conflict }.count == 3, "\(outcomes)")
            let all = try await OrganizationRepository(database: store.database).all()
            #expect(all.filter { $0.slug == slug }.count == 1)
        }
    }

    @Test(arguments: Backend.all)
    func invalidInputIsRejectedBeforeAnythingIsWritten(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let provisioner = OrganizationProvisioner(database: store.database, keys: store.keys)
            let name = "Invalid \(UUID().uuidString)"
            await expectRampartError(.invalidField) {
                _ = try await provisioner.create(name: name, slug: nil, region: "eu", adminEmail: "not-an-email",
                                                 adminName: nil)
            }
            await expectRampartError(.invalidField) {
                _ = try await provisioner.create(name: name, slug: "-bad-", region: "eu", adminEmail: "a@example.com",
                                                 adminName: nil)
            }
            #expect(!(try await OrganizationRepository(database: store.database).all()).contains { $0.name == name })
        }
    }
}
