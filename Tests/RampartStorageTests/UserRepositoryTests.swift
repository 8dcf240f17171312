import RampartCore
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

@Suite("Users")
struct UserRepositoryTests {
    @Test(arguments: Backend.all)
    func duplicateEmailInOneOrganizationIsAConflict(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let a = try await store.createOrganization(), b = try await store.createOrganization()
            let by = acting(as: a.admin)
            let grace = try await store.database.write(org: a.organization.id) { t async throws in
                try await t.createUser(email: "Grace@Example.com", displayName: "Grace", by: by)
            }
            #expect(grace.email == "grace@example.com")
            let head = try await store.head(a.organization.id)
            await expectRampartError(.conflict) {
                _ = try await store.database.write(org: a.organization.id) { t async throws in
                    try await t.createUser(email: "  grace@EXAMPLE.com ", displayName: "Another Grace", by: by)
                }
            }
            await expectRampartError(.conflict) {
                _ = try await store.database.write(org: a.organization.id) { t async throws in
                    try await t.updateUser(a.admin.id, email: "GRACE@example.com", displayName: nil, by: by)
                }
            }
            #expect(try await store.head(a.organization.id) == head)
            try await store.database.read(org: a.organization.id) { t async throws in
                #expect(try await t.users(UserFilter(email: "grace@example.com")).items.map(\.id) == [grace.id])
                #expect(try await t.user(a.admin.id)?.email == a.admin.email)
            }
            let other = try await store.database.write(org: b.organization.id) { t async throws in
                try await t.createUser(email: "grace@example.com", displayName: "Grace B", by: .system)
            }
            #expect(other.id != grace.id)
            #expect(try await store.database.read(org: b.organization.id) { try await $0.user(email: "GRACE@example.com") }?
                .id == other.id)
        }
    }

    @Test(arguments: Backend.all)
    func updateRecordsEachChangeBeforeAndAfter(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let by = acting(as: created.admin, requestID: "req-update-1")
            let user = try await store.database.write(org: org) { t async throws in
                try await t.createUser(email: "lin@example.com", displayName: "Lin", by: by)
            }
            let updated = try await store.database.write(org: org) { t async throws in
                try await t.updateUser(user.id, email: "Lin.Wei@Example.com", displayName: "Lin Wei", by: by)
            }
            #expect(updated.email == "lin.wei@example.com")
            #expect(updated.displayName == "Lin Wei")
            let stored = try await store.database.read(org: org) { try await $0.user(user.id) }
            #expect(stored == updated)

            let event = try #require(try await store.events(org).last)
            #expect(event.action == "user.updated")
            #expect(event.actor.id == created.admin.id)
            #expect(event.requestID == "req-update-1")
            #expect(event.targetsJSON.contains(user.id))
            #expect(JSONValue.parse(event.detailsJSON) == .object(["changes": .object([
                "email": .object(["before": .string("lin@example.com"), "after": .string("lin.wei@example.com")]),
                "displayName": .object(["before": .string("Lin"), "after": .string("Lin Wei")]),
            ])]))

            // A change to one field records only that field; a change to nothing records nothing.
            _ = try await store.database.write(org: org) { t async throws in
                try await t.updateUser(user.id, email: nil, displayName: "Lin W.", by: by)
            }
            let nameOnly = try #require(try await store.events(org).last)
            #expect(JSONValue.parse(nameOnly.detailsJSON) == .object(["changes": .object([
                "displayName": .object(["before": .string("Lin Wei"), "after": .string("Lin W.")]),
            ])]))
            let head = try await store.head(org)
            let unchanged = try await store.database.write(org: org) { t async throws in
                try await t.updateUser(user.id, email: " LIN.WEI@example.com", displayName: "Lin W.", by: by)
            }
            #expect(unchanged.displayName == "Lin W.")
            #expect(try await store.head(org) == head)
        }
    }

    @Test(arguments: Backend.all)
    func deactivateAndReactivate(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let user = try await store.database.write(org: org) { t async throws in
                try await t.createUser(email: "sam@example.com", displayName: "Sam", by: .system)
            }
            let session = try await store.database.write(org: org) { t async throws in
                try await t.startUserSession(for: user.id, mfaCompleted: true, lifetimeSeconds: 3600, idleTimeoutSeconds: 3600, ip: nil, userAgent: nil).secret
            }
            let sessionSecret = try #require(SecretToken(parsing: session, as: .session))

            let deactivated = try await store.database.write(org: org) { t async throws in
                try await t.setUserStatus(user.id, .deactivated, by: .system)
            }
            #expect(deactivated.status == .deactivated)
            let head = try await store.head(org)
            _ = try await store.database.write(org: org) { t in try await t.setUserStatus(user.id, .deactivated, by: .system) }
            #expect(try await store.head(org) == head)
            try await store.database.read(org: org) { t async throws in
                #expect(try await t.user(user.id)?.status == .deactivated)
                #expect(try await t.userCount(status: .deactivated) == 1)
                #expect(try await t.users(UserFilter(status: .deactivated)).items.map(\.id) == [user.id])
            }

            let reactivated = try await store.database.write(org: org) { t async throws in
                try await t.setUserStatus(user.id, .active, by: .system)
            }
            #expect(reactivated.status == .active)
            try await store.database.read(org: org) { t async throws in
                #expect(try await t.user(user.id)?.status == .active)
                #expect(try await t.userCount(status: .deactivated) == 0)
                // Deactivation ended the session for good: reactivating does not bring it back.
                #expect(try await t.signedInSession(sessionSecret) == nil)
            }
            #expect(try await store.events(org).suffix(2).map(\.action) == ["user.deactivated", "user.reactivated"])
        }
    }

    @Test(arguments: Backend.all)
    func deleteRemovesTheUserAndEveryMembership(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let by = acting(as: created.admin)
            let (user, group) = try await store.database.write(org: org) { t async throws in
                let user = try await t.createUser(email: "kim@example.com", displayName: "Kim", by: by)
                let group = try await t.createGroup(name: "Engineering", description: nil, by: by)
                try await t.addMember(user.id, to: group.id, by: by)
                try await t.assignRole(.userAdmin, to: user.id, by: by)
                try await t.setPasswordHash("$argon2id$placeholder", for: user.id)
                _ = try await t.createSetupLink(for: user.id, validFor: 3600)
                return (user, group)
            }
            try await store.database.read(org: org) { t async throws in
                #expect(try await t.requireGroup(group.id).memberCount == 1)
                #expect(try await t.user(user.id)?.roles == [.userAdmin])
            }

            try await store.database.write(org: org) { t in try await t.deleteUser(user.id, by: by) }

            try await store.database.read(org: org) { t async throws in
                #expect(try await t.user(user.id) == nil)
                #expect(try await t.groupMembers(group.id).items.isEmpty)
                #expect(try await t.requireGroup(group.id).memberCount == 0)
                #expect(try await t.groupsOf(user: user.id).isEmpty)
                #expect(try await t.roleAssignments(userID: user.id).items.isEmpty)
                #expect(try await t.passwordHash(for: user.id) == nil)
                for table in ["group_members", "role_assignments", "user_passwords", "setup_links", "user_sessions",
                              "auth_factors", "recovery_codes", "mfa_grace", "password_reset_tokens"] {
                    let row = try await t.sql.raw(SQLQueryString("SELECT COUNT(*) AS n FROM \(ident: table) WHERE org_id = ")
                        + "\(bind: org)" + " AND user_id = " + "\(bind: user.id)").first()
                    #expect(try row?.decode(column: "n", as: Int64.self) == 0, "\(table)")
                }
            }
            let last = try #require(try await store.events(org).last)
            #expect(last.action == "user.deleted")
            #expect(last.targetsJSON.contains(user.id))
            await expectRampartError(.notFound) {
                try await store.database.write(org: org) { t in try await t.deleteUser(user.id, by: by) }
            }
        }
    }

    /// The `groups` claim: the person's own groups by name, sorted, and no one else's.
    @Test(arguments: Backend.all)
    func groupNamesAreThePersonsOwnInOrder(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let by = acting(as: created.admin)
            try await store.database.write(org: org) { t async throws in
                let kim = try await t.createUser(email: "kim@example.com", displayName: "Kim", by: by)
                let lee = try await t.createUser(email: "lee@example.com", displayName: "Lee", by: by)
                for name in ["Sales", "Engineering", "Admins"] {
                    let group = try await t.createGroup(name: name, description: nil, by: by)
                    if name != "Sales" { try await t.addMember(kim.id, to: group.id, by: by) }
                    try await t.addMember(lee.id, to: group.id, by: by)
                }
                #expect(try await t.groupNames(ofUser: kim.id) == ["Admins", "Engineering"])
                #expect(try await t.groupNames(ofUser: lee.id) == ["Admins", "Engineering", "Sales"])
                #expect(try await t.groupNames(ofUser: created.admin.id).isEmpty)
            }
        }
    }

    @Test(arguments: Backend.all)
    func paginationVisitsEveryUserExactlyOnce(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let org = created.organization.id
            let ids = try await store.database.write(org: org) { t async throws in
                var ids = [created.admin.id]
                for i in 0..<11 {
                    ids.append(try await t.createUser(email: "page\(i)@example.com", displayName: "Page \(i)", by: .system).id)
                }
                return ids
            }
            for limit in [1, 4, 5, 12, 50] {
                var seen: [String] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let after = cursor
                    let page = try await store.database.read(org: org) { t async throws in
                        try await t.users(page: PageRequest(after: after, limit: limit))
                    }
                    #expect(page.items.count <= limit)
                    #expect(!page.items.isEmpty)
                    seen += page.items.map(\.id)
                    cursor = page.nextCursor
                    pages += 1
                } while cursor != nil && pages <= 20
                #expect(seen.count == 12, "limit \(limit)")
                #expect(Set(seen) == Set(ids), "limit \(limit)")
                #expect(seen == seen.sorted(), "limit \(limit)")
                #expect(pages == (12 + limit - 1) / limit, "limit \(limit)")
            }
        }
    }
}
