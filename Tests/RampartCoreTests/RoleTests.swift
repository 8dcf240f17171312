import RampartCore
import Testing

@Suite("Roles and permissions")
struct RoleTests {
    static let managing: [Permission] = [.manageDirectory, .manageRoles, .manageTokens, .manageAuthenticationPolicies,
                                         .manageLogStreams, .manageOAuthClients, .manageDomains, .manageAuditRetention, .manageIdentityProviders]

    @Test func orgAdminHasEveryPermission() {
        #expect(Role.orgAdmin.permissions == Set(Permission.allCases))
        for permission in Permission.allCases { #expect(Role.orgAdmin.allows(permission)) }
    }

    /// As docs/openapi.yaml says: the directory, and the user-admin and auditor roles
    /// (`RoleAuthority` keeps org-admin out of their reach).
    @Test func userAdminManagesTheDirectoryAndLesserRoles() {
        let role = Role.userAdmin
        #expect(role.allows(.manageDirectory))
        #expect(role.allows(.readDirectory))
        #expect(!role.allows(.manageTokens))
        #expect(!role.allows(.readAuditLog))
        #expect(role.allows(.readRoles) && role.allows(.manageRoles))
        #expect(!role.allows(.readTokens))
        #expect(role.permissions == [.readOrganization, .readDirectory, .manageDirectory, .readRoles, .manageRoles])
        #expect(RoleAuthority.grantable(by: role) == [.userAdmin, .auditor])
    }

    @Test func accountsAreWithinReachOnlyWhenEveryRoleIsGrantable() {
        #expect(RoleAuthority.mayChange(account: [Role](), actor: [.userAdmin]))
        #expect(RoleAuthority.mayChange(account: [.auditor, .userAdmin], actor: [.userAdmin]))
        #expect(!RoleAuthority.mayChange(account: [.auditor, .orgAdmin], actor: [.userAdmin]))
        #expect(RoleAuthority.mayChange(account: [.orgAdmin], actor: [.orgAdmin]))
        #expect(!RoleAuthority.mayAssign(.orgAdmin, account: [Role](), actor: [.userAdmin]))
        #expect(!RoleAuthority.mayAssign(.auditor, account: [Role](), actor: [.auditor]))
        #expect(RoleAuthority.outOfReach([.orgAdmin, .auditor], actor: [.userAdmin]).message.contains("org-admin"))
    }

    @Test func auditorReadsButManagesNothing() {
        let role = Role.auditor
        for permission in Permission.allCases where permission.rawValue.hasPrefix("manage") {
            #expect(!role.allows(permission), "auditor may \(permission)")
        }
        #expect(Permission.allCases.filter { $0.rawValue.hasPrefix("manage") }.count == Self.managing.count)
        #expect(role.allows(.readAuditLog))
        #expect(role.allows(.readDirectory))
    }

    @Test func onlyOrgAdminMayGrantOrgAdminOrTokens() {
        for role in Role.allCases {
            #expect(RoleAuthority.grantable(by: role).contains(.orgAdmin) == (role == .orgAdmin))
            #expect(role.allows(.manageTokens) == (role == .orgAdmin))
        }
    }

    @Test func rolesAreOrderedByPrivilege() {
        #expect(Role.auditor < .userAdmin)
        #expect(Role.userAdmin < .orgAdmin)
        #expect(Role.allCases.sorted() == [.auditor, .userAdmin, .orgAdmin])
        #expect(Role(rawValue: "org-admin") == .orgAdmin)
        #expect(Role(rawValue: "user-admin") == .userAdmin)
        #expect(Role(rawValue: "admin") == nil)
    }
}
