import Foundation
import RampartAuthn
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Authentication policies in storage")
struct AuthenticationPolicyStorageTests {
    @Test(arguments: Backend.all)
    func mostSpecificWinsAndEveryChangeIsAuditedWithBeforeAndAfter(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let created = try await store.createOrganization()
            let org = created.organization.id, admin = created.admin, by = acting(as: created.admin)
            let db = store.database
            // Nothing stored: the built-in default applies.
            let initial = try await db.read(org: org) { try await $0.effectivePolicy(for: admin.id) }
            #expect(initial.source == .organizationDefault(policyID: Tenant.builtInDefaultPolicyID))
            #expect(initial.settings == .standard)

            var strictDefaultDraft = AuthenticationPolicySettings.standard
            strictDefaultDraft.idleTimeoutSeconds = 900
            let strictDefault = strictDefaultDraft
            let stored = try await db.write(org: org) { try await $0.updateAuthenticationPolicy(Tenant.builtInDefaultPolicyID, settings: strictDefault, by: by) }
            #expect(stored.isDefault && stored.id != Tenant.builtInDefaultPolicyID)

            var mfaDraft = AuthenticationPolicySettings.standard
            mfaDraft.mfaRequired = true
            mfaDraft.sessionLifetimeSeconds = 3600
            let mfa = mfaDraft
            let engineers = try await db.write(org: org) { try await $0.createAuthenticationPolicy(name: "Engineers", settings: mfa, by: by) }
            var looseDraft = AuthenticationPolicySettings.standard
            looseDraft.sessionLifetimeSeconds = 86_400
            let loose = looseDraft
            let exception = try await db.write(org: org) { try await $0.createAuthenticationPolicy(name: "Exception", settings: loose, by: by) }
            let group = try await db.write(org: org) { try await $0.createGroup(name: "Engineering", description: nil, by: by) }
            try await db.write(org: org) { try await $0.addMember(admin.id, to: group.id, by: by) }
            try await db.write(org: org) { try await $0.assignAuthenticationPolicy(engineers.id, to: .group(group.id), by: by) }

            let viaGroup = try await db.read(org: org) { try await $0.effectivePolicy(for: admin.id) }
            #expect(viaGroup.source == .groups(policyIDs: [engineers.id]))
            #expect(viaGroup.settings.mfaRequired && viaGroup.settings.sessionLifetimeSeconds == 3600)

            try await db.write(org: org) { try await $0.assignAuthenticationPolicy(exception.id, to: .user(admin.id), by: by) }
            let viaUser = try await db.read(org: org) { try await $0.effectivePolicy(for: admin.id) }
            #expect(viaUser.source == .user(policyID: exception.id))
            #expect(viaUser.settings.sessionLifetimeSeconds == 86_400 && !viaUser.settings.mfaRequired)

            try await db.write(org: org) { try await $0.assignAuthenticationPolicy(nil, to: .user(admin.id), by: by) }
            #expect(try await db.read(org: org) { try await $0.effectivePolicy(for: admin.id) }.source == .groups(policyIDs: [engineers.id]))

            let events = try await store.events(org)
            let update = try #require(events.first { $0.action == AuditAction.authPolicyUpdated.rawValue })
            #expect(update.detailsJSON.contains("\"before\"") && update.detailsJSON.contains("\"after\""))
            #expect(events.filter { $0.action == AuditAction.authPolicyAssigned.rawValue }.count == 3)
            #expect(events.filter { $0.action == AuditAction.authPolicyCreated.rawValue }.count == 2)
        }
    }

    @Test(arguments: Backend.all)
    func badSettingsAndUnknownTargetsChangeNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let created = try await store.createOrganization()
            let org = created.organization.id, by = acting(as: created.admin)
            let before = try await store.events(org).count
            var badDraft = AuthenticationPolicySettings.standard
            badDraft.idleTimeoutSeconds = 5
            let bad = badDraft
            await expectRampartError(.invalidField) {
                _ = try await store.database.write(org: org) { try await $0.createAuthenticationPolicy(name: "Bad", settings: bad, by: by) }
            }
            let good = try await store.database.write(org: org) {
                try await $0.createAuthenticationPolicy(name: "Good", settings: .standard, by: by)
            }
            await expectRampartError(.conflict) {
                _ = try await store.database.write(org: org) { try await $0.createAuthenticationPolicy(name: "good", settings: .standard, by: by) }
            }
            await expectRampartError(.notFound) {
                try await store.database.write(org: org) { try await $0.assignAuthenticationPolicy(good.id, to: .group(Identifier.make()), by: by) }
            }
            // Another organisation cannot see or assign it.
            let other = try await store.createOrganization()
            await expectRampartError(.notFound) {
                try await store.database.write(org: other.organization.id) {
                    try await $0.assignAuthenticationPolicy(good.id, to: .user(other.admin.id), by: acting(as: other.admin))
                }
            }
            #expect(try await store.events(org).count == before + 1)
            #expect(try await store.database.read(org: org) { try await $0.authenticationPolicies() }.map(\.id) == [good.id])
        }
    }
}
