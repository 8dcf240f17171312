import Foundation
import HTTPTypes
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Admin API: tokens and roles")
struct AuthenticationTests {
    @Test(arguments: Backend.all)
    func unknownExpiredRevokedAndMissingTokensLookTheSame(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let (revoked, revokedSecret) = try await store.database.write(org: orgID) {
                try await $0.createAPIToken(name: "old", role: .orgAdmin, expiresAt: nil, by: .system)
            }
            try await store.database.write(org: orgID) { try await $0.revokeAPIToken(revoked.id, by: .system) }
            let (_, expiringSecret) = try await store.database.write(org: orgID) {
                try await $0.createAPIToken(name: "brief", role: .orgAdmin, expiresAt: .now().adding(seconds: 1),
                                            by: .system)
            }
            try await Task.sleep(for: .milliseconds(1100))
            let unknown = SecretToken.generate(.apiToken, orgID: orgID).text
            let otherOrgShape = SecretToken.generate(.apiToken, orgID: Identifier.make()).text
            var bodies: Set<String> = []
            for token in [unknown, otherOrgShape, revokedSecret, expiringSecret, "garbage", ""] {
                let response = try await API(client: client, token: token).call(.get, "/users")
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] != nil)
                bodies.insert(response.text)
            }
            let missing = try await client.execute(uri: "/api/v1/users", method: .get)
            #expect(missing.status == .unauthorized)
            bodies.insert(missing.text)
            #expect(bodies.count == 1)
        }
    }

    /// The scheme is case-insensitive and blanks around the token do not matter; anything
    /// else, a second Authorization field included, is the one 401.
    @Test func authorizationHeaderForms() async throws {
        try await withApp(.sqlite) { client, store in
            let org = try await store.createOrganization()
            let token = org.apiToken
            func status(_ values: [String]) async throws -> HTTPResponse.Status {
                var headers = HTTPFields()
                for value in values { headers.append(HTTPField(name: .authorization, value: value)) }
                return try await client.execute(uri: "/api/v1/users", method: .get, headers: headers).status
            }
            for accepted in ["Bearer \(token)", "bearer \(token)", "BEARER \(token)", "Bearer  \(token) \t"] {
                #expect(try await status([accepted]) == .ok, "\(accepted.prefix(9))…")
            }
            let refused = ["Bearer", "Bearer ", "Bearer \t ", "Bearer\(token)", "Basic \(token)", "Bearer x\(token)",
                           "Bearer \(token)x", "Bearer \(token) \(token)", "Bearér \(token)"]
            for value in refused {
                #expect(try await status([value]) == .unauthorized, "\(value.prefix(9))…")
            }
            #expect(try await status(["Bearer \(token)", "Bearer \(token)"]) == .unauthorized)
        }
    }

    @Test(arguments: Backend.all)
    func rolesAreLeastPrivilege(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            func token(_ role: Role) async throws -> String {
                try await store.database.write(org: orgID) {
                    try await $0.createAPIToken(name: role.rawValue, role: role, expiresAt: nil, by: .system).1
                }
            }
            let auditor = API(client: client, token: try await token(.auditor))
            let userAdmin = API(client: client, token: try await token(.userAdmin))

            #expect(try await auditor.call(.get, "/users").status == .ok)
            #expect(try await auditor.call(.get, "/audit-events").status == .ok)
            let before = try await auditCount(store, orgID)
            let denied = try await auditor.call(.post, "/users", json: #"{"email":"x@example.com","displayName":"X"}"#)
            #expect(denied.status == .forbidden)
            #expect(denied.errorCode == "forbidden")
            #expect(try await auditor.call(.delete, "/users/\(org.admin.id)").status == .forbidden)
            #expect(try await auditCount(store, orgID) == before)

            #expect(try await userAdmin.call(.post, "/users", json: #"{"email":"y@example.com","displayName":"Y"}"#)
                .status == .created)
            #expect(try await userAdmin.call(.get, "/audit-events").status == .forbidden)
            #expect(try await userAdmin.call(.post, "/api-tokens", json: #"{"name":"t","role":"org-admin"}"#).status == .forbidden)
            #expect(try await userAdmin.call(.put, "/users/\(org.admin.id)/roles/org-admin").status == .forbidden)
        }
    }

    @Test(arguments: Backend.all)
    func tokenLifecycleThroughTheAPI(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let created = try await api.object(.post, "/api-tokens",
                                               json: #"{"name":"ci","role":"auditor","expiresAt":"2999-01-01T00:00:00Z"}"#,
                                               expect: .created)
            let secret = try #require(created["secret"] as? String)
            let id = try #require((created["token"] as? [String: Any])?["id"] as? String)
            #expect(secret.hasPrefix("rmp_"))
            let listed = try await api.object(.get, "/api-tokens", expect: .ok)
            let text = jsonString(listed)
            #expect(!text.contains(secret), "the secret is shown once only")

            #expect(try await API(client: client, token: secret).call(.get, "/organization").status == .ok)
            let shown = try await api.object(.get, "/api-tokens/\(id)", expect: .ok)
            #expect(shown["lastUsedAt"] is String)

            #expect(try await api.call(.delete, "/api-tokens/\(id)").status == .noContent)
            #expect(try await API(client: client, token: secret).call(.get, "/organization").status == .unauthorized)
            let revoked = try await api.object(.get, "/api-tokens/\(id)", expect: .ok)
            #expect(revoked["revokedAt"] is String)
        }
    }
}
