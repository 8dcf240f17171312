import Foundation
import HTTPTypes
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// Issue 18, finding 1: an admin acts only on accounts whose roles are all roles they may
/// grant. The expectations here are written out from the issue, not read from
/// `RoleAuthority`, so the table in code is checked against the rule, not against itself.
@Suite("Role boundaries")
struct RoleBoundaryTests {
    /// Every admin API route that changes one account, with the role it names if any.
    static let accountRoutes: [(method: HTTPRequest.Method, path: String, body: String?, role: Role?)] = [
        (.patch, "/users/{id}", #"{"displayName":"Renamed"}"#, nil),
        (.post, "/users/{id}/deactivate", nil, nil),
        (.post, "/users/{id}/reactivate", nil, nil),
        (.delete, "/users/{id}", nil, nil),
        (.put, "/users/{id}/roles/auditor", nil, .auditor),
        (.delete, "/users/{id}/roles/auditor", nil, .auditor),
        (.put, "/users/{id}/roles/user-admin", nil, .userAdmin),
        (.put, "/users/{id}/roles/org-admin", nil, .orgAdmin),
        (.delete, "/users/{id}/roles/org-admin", nil, .orgAdmin),
    ]

    /// The rule of the issue: org-admins change anyone; user-admins anyone without org-admin,
    /// giving and taking user-admin and auditor only; auditors change no one.
    static func allowed(actor: Role, target: Role?, naming role: Role?) -> Bool {
        switch actor {
        case .orgAdmin: true
        case .userAdmin: target != .orgAdmin && role != .orgAdmin
        case .auditor: false
        }
    }

    @Test(arguments: Backend.all, Role.allCases)
    func everyAccountRouteForEveryTargetRole(backend: Backend, actor: Role) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let secret = try await store.database.write(org: orgID) {
                try await $0.createAPIToken(name: actor.rawValue, role: actor, expiresAt: nil, by: .system).1
            }
            let api = API(client: client, token: secret)
            for target in [nil] + Role.allCases {
                for route in Self.accountRoutes {
                    let user = try await store.database.write(org: orgID) { tenant in
                        let user = try await tenant.createUser(email: "t-\(UUID().uuidString.prefix(8))@example.com",
                                                               displayName: "Target", by: .system)
                        if let target { try await tenant.assignRole(target, to: user.id, by: .system) }
                        if route.path.hasSuffix("reactivate") { _ = try await tenant.setUserStatus(user.id, .deactivated, by: .system) }
                        return user
                    }
                    let before = try await auditCount(store, orgID)
                    let path = route.path.replacingOccurrences(of: "{id}", with: user.id)
                    let response = try await api.call(route.method, path, json: route.body)
                    let expected = Self.allowed(actor: actor, target: target, naming: route.role)
                    let cell = "\(actor.rawValue) \(route.method) \(route.path) on \(target?.rawValue ?? "no role")"
                    if expected {
                        #expect((200..<300).contains(response.status.code), "\(cell): \(response.status) \(response.text)")
                    } else {
                        #expect(response.status == .forbidden, "\(cell): \(response.status)")
                        #expect(try await auditCount(store, orgID) == before, "\(cell) wrote an event")
                        let message = (response.jsonObject["error"] as? [String: Any])?["message"] as? String ?? ""
                        #expect(message.contains("role"), "\(cell): says why: \(message)")
                    }
                }
            }
        }
    }

    /// What docs/openapi.yaml promised user-admins and the code refused.
    @Test(arguments: Backend.all)
    func userAdminsReadRoleAssignments(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let secret = try await store.database.write(org: org.organization.id) {
                try await $0.createAPIToken(name: "ua", role: .userAdmin, expiresAt: nil, by: .system).1
            }
            let api = API(client: client, token: secret)
            #expect(try await api.call(.get, "/role-assignments").status == .ok)
            #expect(try await api.call(.get, "/users/\(org.admin.id)/roles").status == .ok)
        }
    }
}
