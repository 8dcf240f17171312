import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// The SCIM surface through the router: tokens, deprovisioning, conditional requests, the rate limit.
@Suite("SCIM server")
struct SCIMServerTests {
    static func withSCIMApp(_ backend: Backend, requestsPerSecond: Double = 2000,
                            _ body: @escaping @Sendable (any TestClientProtocol, TestStore) async throws -> Void) async throws {
        try await TestStore.with(backend) { store in
            var configuration = AppConfiguration(host: "127.0.0.1", port: 0, dataDirectory: store.dataDirectory,
                                                 database: store.configuration)
            configuration.scimRequestsPerSecond = requestsPerSecond
            let app = try await buildApplication(configuration, logger: testLogger, passwords: testPasswords)
            try await app.test(.router) { client in try await body(client, store) }
        }
    }

    struct SCIM: Sendable {
        let client: any TestClientProtocol
        let token: String

        @discardableResult
        func call(_ method: HTTPRequest.Method, _ path: String, json: String? = nil, headers extra: HTTPFields = [:])
            async throws -> TestResponse
        {
            var headers = extra
            if headers[.authorization] == nil { headers[.authorization] = "Bearer \(token)" }
            if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/scim+json" }
            return try await client.execute(uri: "/scim/v2" + path, method: method, headers: headers,
                                            body: json.map { ByteBuffer(string: $0) })
        }
    }

    static func scimToken(_ api: API) async throws -> String {
        let created = try await api.object(.post, "/scim-tokens", json: #"{"name":"Okta"}"#, expect: .created)
        #expect((created["baseURL"] as? String)?.hasSuffix("/scim/v2") == true)
        return try #require(created["token"] as? String)
    }

    static let user = #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@example.com","emails":[{"value":"grace@example.com","primary":true}]}"#

    @Test(arguments: Backend.all)
    func tokensAreShownOnceAndRevocationTakesEffectAtOnce(_ backend: Backend) async throws {
        try await Self.withSCIMApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let token = try await Self.scimToken(api)
            let scim = SCIM(client: client, token: token)
            #expect(try await scim.call(.get, "/Users").status == .ok)
            let list = try await api.object(.get, "/scim-tokens", expect: .ok)
            let tokens = try #require(list["data"] as? [[String: Any]])
            #expect(tokens.count == 1 && tokens[0]["token"] == nil && !list.description.contains(token))
            // Neither credential opens the other surface.
            #expect(try await scim.call(.get, "/Users", headers: [.authorization: "Bearer \(org.apiToken)"]).status == .unauthorized)
            #expect(try await api.call(.get, "/users", token: token).status == .unauthorized)
            try await api.call(.delete, "/scim-tokens/\(tokens[0]["id"] as! String)")
            let refused = try await scim.call(.get, "/Users")
            #expect(refused.status == .unauthorized)
            #expect(refused.jsonObject["schemas"] as? [String] == ["urn:ietf:params:scim:api:messages:2.0:Error"])
        }
    }

    @Test(arguments: Backend.all)
    func deactivationEndsTheConsoleSessionAtOnce(_ backend: Backend) async throws {
        try await Self.withSCIMApp(backend) { client, store in
            let org = try await store.createOrganization()
            let scim = SCIM(client: client, token: try await Self.scimToken(API(client: client, token: org.apiToken)))
            let created = try await scim.call(.post, "/Users", json: Self.user)
            #expect(created.status == .created)
            let id = try #require(created.jsonObject["id"] as? String)
            let session = try await store.database.write(org: org.organization.id) { try await $0.startUserSession(for: id, mfaCompleted: true, lifetimeSeconds: 3600, idleTimeoutSeconds: 3600, ip: nil, userAgent: nil).secret }
            let patched = try await scim.call(.patch, "/Users/\(id)", json: """
                {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}
                """)
            #expect(patched.status == .ok && patched.jsonObject["active"] as? Bool == false)
            #expect(patched.headers[.contentType]?.hasPrefix("application/scim+json") == true)
            let stillThere = try await store.database.read(org: org.organization.id) {
                try await $0.signedInSession(SecretToken(parsing: session, as: .session)!)
            }
            #expect(stillThere == nil)
            let events = try await store.database.read(org: org.organization.id) { try await $0.auditEvents(after: 0, limit: 100) }
            let last = try #require(events.last)
            #expect(last.action == "scim.user_deactivated" && last.actor.type == .scimToken)
        }
    }

    @Test(arguments: Backend.all)
    func conditionalRequestsUseETags(_ backend: Backend) async throws {
        try await Self.withSCIMApp(backend) { client, store in
            let org = try await store.createOrganization()
            let scim = SCIM(client: client, token: try await Self.scimToken(API(client: client, token: org.apiToken)))
            let created = try await scim.call(.post, "/Users", json: Self.user)
            let id = try #require(created.jsonObject["id"] as? String)
            let etag = try #require(created.headers[.eTag])
            #expect(try await scim.call(.get, "/Users/\(id)", headers: [.ifNoneMatch: etag]).status == .notModified)
            let patch = #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":"Admiral"}]}"#
            let changed = try await scim.call(.patch, "/Users/\(id)", json: patch, headers: [.ifMatch: etag])
            #expect(changed.status == .ok && changed.headers[.eTag] != etag)
            let before = try await auditCount(store, org.organization.id)
            let stale = try await scim.call(.patch, "/Users/\(id)", json: patch, headers: [.ifMatch: etag])
            #expect(stale.status == .preconditionFailed)
            #expect(try await auditCount(store, org.organization.id) == before)
        }
    }

    @Test(arguments: Backend.all)
    func aTokenOverItsRateGets429WithRetryAfter(_ backend: Backend) async throws {
        // One request per 100 s: however slow the machine, the second request comes before a refill.
        try await Self.withSCIMApp(backend, requestsPerSecond: 0.01) { client, store in
            let org = try await store.createOrganization()
            let scim = SCIM(client: client, token: try await Self.scimToken(API(client: client, token: org.apiToken)))
            #expect(try await scim.call(.get, "/Users").status == .ok)  // the burst is one request
            let limited = try await scim.call(.get, "/Users")
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(limited.jsonObject["status"] as? String == "429")
            let log = try await API(client: client, token: org.apiToken).object(.get, "/scim-requests?failed=true", expect: .ok)
            #expect((log["data"] as? [[String: Any]])?.first?["status"] as? Int == 429)
        }
    }

    @Test(arguments: Backend.all)
    func groupMembersInEveryDialectAndAnotherOrganisationsIdsAreUnknown(_ backend: Backend) async throws {
        try await Self.withSCIMApp(backend) { client, store in
            let org = try await store.createOrganization(), other = try await store.createOrganization()
            let scim = SCIM(client: client, token: try await Self.scimToken(API(client: client, token: org.apiToken)))
            let otherSCIM = SCIM(client: client, token: try await Self.scimToken(API(client: client, token: other.apiToken)))
            let a = try #require(try await scim.call(.post, "/Users", json: Self.user).jsonObject["id"] as? String)
            let b = try #require(try await scim.call(.post, "/Users", json: Self.user.replacingOccurrences(of: "grace", with: "ada"))
                .jsonObject["id"] as? String)
            let group = try await scim.call(.post, "/Groups", json: """
                {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops","members":[{"value":"\(a)"}]}
                """)
            #expect(group.status == .created)
            let gid = try #require(group.jsonObject["id"] as? String)
            func members(_ r: TestResponse) -> [String] {
                ((r.jsonObject["members"] as? [[String: Any]]) ?? []).compactMap { $0["value"] as? String }.sorted()
            }
            #expect(members(group) == [a])
            let added = try await scim.call(.patch, "/Groups/\(gid)", json: """
                {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"\(b)"}]}]}
                """)
            #expect(added.status == .ok && members(added) == [a, b].sorted())
            let removed = try await scim.call(.patch, "/Groups/\(gid)", json: """
                {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"\(a)"}]}]}
                """)
            #expect(members(removed) == [b])
            #expect(try await otherSCIM.call(.get, "/Groups/\(gid)").status == .notFound)
            #expect(try await otherSCIM.call(.delete, "/Users/\(a)").status == .notFound)
            let filtered = try await scim.call(.get, "/Groups?filter=" + "displayName eq \"OPS\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(filtered.jsonObject["totalResults"] as? Int == 1)
        }
    }
}
