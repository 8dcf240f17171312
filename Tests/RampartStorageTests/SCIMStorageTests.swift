import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("SCIM storage")
struct SCIMStorageTests {
    static func fields(_ userName: String, externalId: String? = nil, active: Bool = true, email: String? = nil)
        -> SCIMUserFields
    {
        SCIMUserFields(userName: userName, externalId: externalId, active: active, displayName: "Name of \(userName)",
                       email: email, attributesJSON: #"{"title":"Engineer"}"#)
    }

    @Test(arguments: Backend.all)
    func tokensAreHashedRevocableAndScopedToTheirOrganisation(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let (token, secret) = try await store.database.write(org: a.organization.id) { t async throws in
                try await t.createSCIMToken(name: "Okta", by: acting(as: a.admin))
            }
            let parsed = try #require(SecretToken(parsing: secret, as: .scimToken))
            #expect(parsed.orgID == a.organization.id)
            #expect(SecretToken(parsing: secret, as: .apiToken) == nil, "an API token parser refuses a SCIM token")
            #expect(try await store.database.read(org: a.organization.id) { try await $0.authenticateSCIMToken(parsed) }?.id == token.id)
            #expect(try await store.database.read(org: b.organization.id) { try await $0.authenticateSCIMToken(parsed) } == nil)
            let stored = try await store.database.read(org: a.organization.id) { t async throws in
                try await t.sql.raw("SELECT token_hash FROM scim_tokens WHERE org_id = \(bind: a.organization.id)").first()!
                    .decode(column: "token_hash", as: String.self)
            }
            #expect(stored == parsed.hash && !stored.contains(secret))
            try await store.database.write(org: a.organization.id) { t async throws in
                try await t.revokeSCIMToken(token.id, by: acting(as: a.admin))
            }
            #expect(try await store.database.read(org: a.organization.id) { try await $0.authenticateSCIMToken(parsed) } == nil)
            let actions = try await store.events(a.organization.id).map(\.action)
            #expect(actions.suffix(2) == ["scim_token.created", "scim_token.revoked"])
        }
    }

    @Test(arguments: Backend.all)
    func userNamesAreUniqueIgnoringCaseAndFoundByIndexedLookups(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let org = a.organization.id
            let by = AuditContext(actor: AuditActor(type: .scimToken, id: "tok", name: "Okta"))
            let created = try await store.database.write(org: org) { t async throws in
                try await t.createSCIMUser(Self.fields("Ada@Example.com", externalId: "okta-1", email: "ada@example.com"), by: by)
            }
            #expect(created.user.email == "ada@example.com")
            let head = try await store.head(org)
            await expectRampartError(.conflict) {
                _ = try await store.database.write(org: org) { t async throws in
                    try await t.createSCIMUser(Self.fields("ADA@example.COM"), by: by)
                }
            }
            // The first admin has no SCIM name: their email stands as one.
            await expectRampartError(.conflict) {
                _ = try await store.database.write(org: org) { t async throws in
                    try await t.createSCIMUser(Self.fields(a.admin.email.uppercased()), by: by)
                }
            }
            #expect(try await store.head(org) == head, "a refused create writes nothing")
            try await store.database.read(org: org) { t async throws in
                #expect(try await t.scimUsers(userName: "ADA@EXAMPLE.COM").map(\.user.id) == [created.user.id])
                #expect(try await t.scimUsers(userName: a.admin.email.uppercased()).map(\.user.id) == [a.admin.id])
                #expect(try await t.scimUsers(externalId: "okta-1").map(\.user.id) == [created.user.id])
                #expect(try await t.scimUsers(externalId: "OKTA-1").isEmpty, "externalId is case-exact")
                #expect(try await t.scimUser(created.user.id)?.attributesJSON == #"{"title":"Engineer"}"#)
            }
            // Another organisation sees none of it, and may use the same userName.
            try await store.database.read(org: b.organization.id) { t async throws in
                #expect(try await t.scimUser(created.user.id) == nil)
                #expect(try await t.scimUsers(userName: "ada@example.com").isEmpty)
            }
            let other = try await store.database.write(org: b.organization.id) { t async throws in
                try await t.createSCIMUser(Self.fields("ada@example.com", email: "ada@example.com"), by: by)
            }
            #expect(other.user.email == "ada@example.com")
            let noEmail = try await store.database.write(org: org) { t async throws in
                try await t.createSCIMUser(Self.fields("not-an-email"), by: by)
            }
            #expect(noEmail.user.email.hasSuffix("@scim.invalid"))
            let last = try #require(try await store.events(org).last)
            #expect(last.action == "scim.user_created" && last.actor.type == .scimToken && last.actor.id == "tok")
        }
    }

    @Test(arguments: Backend.all)
    func deactivationEndsSessionsAndTokensInTheSameTransaction(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization()
            let org = a.organization.id
            let by = AuditContext(actor: AuditActor(type: .scimToken, id: "tok", name: "Okta"))
            let user = try await store.database.write(org: org) { t async throws in
                try await t.createSCIMUser(Self.fields("grace@example.com", email: "grace@example.com"), by: by).user
            }
            let (session, apiToken) = try await store.database.write(org: org) { t async throws in
                let session = try await t.startUserSession(for: user.id, mfaCompleted: true, lifetimeSeconds: 3600, idleTimeoutSeconds: 3600, ip: nil, userAgent: nil).secret
                let token = try await t.createAPIToken(name: "grace", role: .auditor, expiresAt: nil,
                                                       by: acting(as: user)).1
                return (session, token)
            }
            let replaced = try await store.database.write(org: org) { t async throws in
                try await t.replaceSCIMUser(user.id, Self.fields("grace@example.com", active: false, email: "grace@example.com"), by: by)
            }
            #expect(replaced.user.status == .deactivated)
            try await store.database.read(org: org) { t async throws in
                #expect(try await t.signedInSession(SecretToken(parsing: session, as: .session)!) == nil)
                #expect(try await t.authenticateAPIToken(SecretToken(parsing: apiToken, as: .apiToken)!) == nil)
                #expect(try await t.scimUser(user.id)?.user.status == .deactivated, "a deactivated user is still there")
            }
            #expect(try await store.events(org).last?.action == "scim.user_deactivated")
            #expect(try await store.database.read(org: org) { try await $0.scimDeleteMode() } == .delete)
            try await store.database.write(org: org) { t async throws in
                try await t.setSCIMDeleteMode(.deactivate, by: acting(as: a.admin))
                _ = try await t.replaceSCIMUser(user.id, Self.fields("grace@example.com", active: true, email: "grace@example.com"), by: by)
                try await t.deleteSCIMUser(user.id, by: by)
            }
            #expect(try await store.database.read(org: org) { try await $0.scimUser(user.id) }?.user.status == .deactivated)
            #expect(try await store.events(org).suffix(3).map(\.action)
                    == ["scim.settings_updated", "scim.user_reactivated", "scim.user_deactivated"])
            try await store.database.write(org: org) { t async throws in
                try await t.setSCIMDeleteMode(.delete, by: acting(as: a.admin))
                try await t.deleteSCIMUser(user.id, by: by)
            }
            #expect(try await store.database.read(org: org) { try await $0.scimUser(user.id) } == nil)
            #expect(try await store.events(org).suffix(2).map(\.action) == ["scim.settings_updated", "scim.user_deleted"])
            // The userName is free again once the user is deleted.
            _ = try await store.database.write(org: org) { t async throws in
                try await t.createSCIMUser(Self.fields("grace@example.com"), by: by)
            }
            let report = try await store.verify(a.organization)
            #expect(report.failure == nil)
        }
    }

    @Test(arguments: Backend.all)
    func groupsKeepTheirMembersAndRefuseForeignOnes(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let org = a.organization.id
            let by = AuditContext(actor: AuditActor(type: .scimToken, id: "tok", name: "Okta"))
            let users = try await store.database.write(org: org) { t async throws in
                var ids: [String] = []
                for i in 0..<3 { ids.append(try await t.createSCIMUser(Self.fields("u\(i)@example.com"), by: by).user.id) }
                return ids
            }
            let foreign = try await store.database.write(org: b.organization.id) { t async throws in
                try await t.createSCIMUser(Self.fields("x@example.com"), by: by).user.id
            }
            let group = try await store.database.write(org: org) { t async throws in
                try await t.createSCIMGroup(displayName: "Engineering", externalId: "g-1", memberIDs: [users[0], users[1]], by: by)
            }
            #expect(group.members?.sorted() == [users[0], users[1]].sorted())
            let head = try await store.head(org)
            // Another organisation's user (or an unknown id) never becomes a member, and nothing is written.
            let foreignChange = try await store.database.write(org: org) { t async throws in
                try await t.changeSCIMGroupMembers(group.group.id, adding: [foreign, "not-an-id"], removing: [], by: by)
            }
            #expect(foreignChange.added == 0 && foreignChange.removed == 0)
            await expectRampartError(.conflict) {
                _ = try await store.database.write(org: org) { t async throws in
                    try await t.createSCIMGroup(displayName: "ENGINEERING", externalId: nil, memberIDs: [], by: by)
                }
            }
            #expect(try await store.head(org) == head)
            let changed = try await store.database.write(org: org) { t async throws in
                try await t.changeSCIMGroupMembers(group.group.id, adding: [users[2], users[0]], removing: [users[1]], by: by)
            }
            #expect(changed.added == 1 && changed.removed == 1)
            let replaced = try await store.database.write(org: org) { t async throws in
                try await t.replaceSCIMGroup(group.group.id, displayName: "Eng", externalId: "g-1", memberIDs: [users[1]], by: by)
            }
            #expect(replaced.members == [users[1]] && replaced.group.name == "Eng")
            try await store.database.read(org: org) { t async throws in
                #expect(try await t.scimGroups(externalId: "g-1", members: false).map(\.group.id) == [group.group.id])
                #expect(try await t.scimGroups(displayName: "eng", members: false).count == 1)
            }
            #expect(try await store.database.read(org: b.organization.id) { try await $0.scimGroup(group.group.id) } == nil)
            let actions = try await store.events(org).map(\.action).filter { $0.hasPrefix("scim.group") }
            #expect(actions == ["scim.group_created", "scim.group_members_changed", "scim.group_members_changed",
                                "scim.group_updated", "scim.group_members_changed"])
        }
    }

    @Test(arguments: Backend.all)
    func provisioningLogIsFilterable(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let org = a.organization.id
            try await store.database.write(org: org) { t async throws in
                try await t.recordSCIMRequest(SCIMRequestEntry(occurredAt: .now(), tokenID: "tok", method: "POST",
                                                               path: "/scim/v2/Users", resourceType: "User", resourceID: nil,
                                                               status: 409, scimType: "uniqueness", detail: "taken"))
                try await t.recordSCIMRequest(SCIMRequestEntry(occurredAt: .now().adding(seconds: 1), tokenID: "tok",
                                                               method: "GET", path: "/scim/v2/Groups", resourceType: "Group",
                                                               resourceID: nil, status: 200, scimType: nil, detail: nil))
            }
            try await store.database.read(org: org) { t async throws in
                #expect(try await t.scimRequests().map(\.method) == ["GET", "POST"])
                #expect(try await t.scimRequests(SCIMRequestFilter(failedOnly: true)).map(\.scimType) == ["uniqueness"])
                #expect(try await t.scimRequests(SCIMRequestFilter(resourceType: "Group")).count == 1)
            }
            #expect(try await store.database.read(org: b.organization.id) { try await $0.scimRequests() }.isEmpty)
        }
    }
}
