import Foundation
import HTTPTypes
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// Organisation B's credential with organisation A's ids: every route answers 404 and A is
/// left exactly as it was. The route list is the server's own, so a new route is covered
/// the day it is added.
@Suite("Tenant isolation across every API route")
struct TenantIsolationTests {
    struct Resources {
        let user: String
        let group: String
        let product: String
        let token: String
        let stream: String
        let oauthClient: String
        let ingestionKey: String
        let domain: String
        let identityProvider: String
        let auditFilter: String
        /// A dead letter of another of A's streams, made in storage: only a failing sender makes one.
        var deadLetter = ""
        /// A finished audit export, so that its download has a file to leak.
        var auditExport = ""
        /// `seq=…&treeSize=…` of one of A's events and A's checkpoint that signs its tree.
        var inclusionProof = ""
        var consistencyProof = ""
    }

    static func seed(_ api: API) async throws -> Resources {
        let user = try await api.object(.post, "/users", json: #"{"email":"victim@a.example","displayName":"Victim"}"#,
                                        expect: .created)["id"] as! String
        let group = try await api.object(.post, "/groups", json: #"{"name":"Secret team"}"#, expect: .created)["id"] as! String
        let product = try await api.object(.post, "/products",
                                           json: #"{"name":"Vault","kind":"wiki","url":"https://vault.a.example"}"#,
                                           expect: .created)["id"] as! String
        #expect(try await api.call(.put, "/groups/\(group)/members/\(user)").status == .noContent)
        #expect(try await api.call(.put, "/products/\(product)/access/\(group)").status == .noContent)
        #expect(try await api.call(.put, "/users/\(user)/roles/auditor").status == .noContent)
        let token = try await api.object(.post, "/api-tokens", json: #"{"name":"a-token","role":"auditor"}"#,
                                         expect: .created)
        let stream = try await api.object(.post, "/log-streams", json: #"{"name":"A SIEM","kind":"syslog","endpoint":"127.0.0.1:1"}"#,
                                          expect: .created)["id"] as! String
        let oauthClient = try await api.object(
            .post, "/oauth-clients", json: #"{"name":"Vault","productId":"\#(product)","redirectUris":["https://vault.a.example/cb"]}"#,
            expect: .created)["id"] as! String
        let ingestionKey = try await api.object(.post, "/ingestion-keys", json: #"{"productId":"\#(product)","name":"a-key"}"#,
                                                expect: .created)["id"] as! String
        let domain = try await api.object(.post, "/domains", json: #"{"domain":"\#(freshDomain())"}"#,
                                          expect: .created)["id"] as! String
        let identityProvider = try await api.object(
            .post, "/identity-providers", json: #"{"preset":"oidc","name":"A IdP","issuer":"https://idp.a.example","clientId":"a","clientSecret":"a-secret"}"#,
            expect: .created)["id"] as! String
        let auditFilter = try await api.object(.post, "/audit-filters", json: #"{"name":"A view","q":"victim"}"#,
                                               expect: .created)["id"] as! String
        return Resources(user: user, group: group, product: product,
                         token: (token["token"] as! [String: Any])["id"] as! String, stream: stream, oauthClient: oauthClient,
                         ingestionKey: ingestionKey, domain: domain, identityProvider: identityProvider, auditFilter: auditFilter)
    }

    /// A domain no other test claims: the store may be shared.
    static func freshDomain() -> String { "d\(UUID().uuidString.prefix(8).lowercased()).example.org" }

    static func path(_ template: String, _ r: Resources) -> String {
        if template == "/audit-proofs/inclusion" { return template + "?" + r.inclusionProof }
        if template == "/audit-proofs/consistency" { return template + "?" + r.consistencyProof }
        var path = template
        let first: String
        if template.hasPrefix("/groups") { first = r.group }
        else if template.hasPrefix("/products") { first = r.product }
        else if template.hasPrefix("/api-tokens") { first = r.token }
        else if template.hasPrefix("/log-streams") { first = r.stream }
        else if template.hasPrefix("/oauth-clients") { first = r.oauthClient }
        else if template.hasPrefix("/ingestion-keys") { first = r.ingestionKey }
        else if template.hasPrefix("/domains") { first = r.domain }
        else if template.hasPrefix("/identity-providers") { first = r.identityProvider }
        else if template.hasPrefix("/audit-filters") { first = r.auditFilter }
        else if template.hasPrefix("/audit-exports") { first = r.auditExport }
        else { first = r.user }
        path = path.replacingOccurrences(of: "{id}", with: first)
        path = path.replacingOccurrences(of: "{userId}", with: r.user)
        path = path.replacingOccurrences(of: "{groupId}", with: r.group)
        path = path.replacingOccurrences(of: "{role}", with: "auditor")
        path = path.replacingOccurrences(of: "{sessionId}", with: r.user)
        path = path.replacingOccurrences(of: "{deadLetterId}", with: r.deadLetter)
        return path
    }

    /// `ownProduct` is a product of the calling organisation, for a client it registers.
    static func body(_ method: String, _ template: String, ownProduct: String) -> String? {
        switch (method, template) {
        case ("PATCH", "/users/{id}"): return #"{"displayName":"Taken over"}"#
        case ("PATCH", "/groups/{id}"): return #"{"name":"Taken over"}"#
        case ("PATCH", "/products/{id}"): return #"{"url":"https://evil.example"}"#
        case ("POST", "/users"): return #"{"email":"victim@a.example","displayName":"B's own"}"#
        case ("POST", "/groups"): return #"{"name":"Secret team"}"#
        case ("POST", "/products"): return #"{"name":"Vault","kind":"wiki","url":"https://vault.b.example"}"#
        case ("POST", "/api-tokens"): return #"{"name":"b-token","role":"auditor"}"#
        case ("POST", "/scim-tokens"): return #"{"name":"b-scim"}"#
        case ("PUT", "/scim-settings"): return #"{"deleteMode":"deactivate"}"#
        case ("POST", "/authentication-policies"): return #"{"name":"B policy"}"#
        case ("PATCH", "/authentication-policies/{id}"): return #"{"settings":{"mfaRequired":true}}"#
        case ("PUT", "/users/{id}/password-hash"): return #"{"hash":"\#(AuthenticationAdminAPITests.bcryptHash)"}"#
        case ("POST", "/authentication-policies/simulate"): return #"{"settings":{"mfaRequired":true}}"#
        case ("POST", "/users/{id}/invitation"): return "{}"
        case ("POST", "/log-streams"): return #"{"name":"B SIEM","kind":"syslog","endpoint":"127.0.0.1:1"}"#
        case ("PATCH", "/log-streams/{id}"): return #"{"endpoint":"evil.example:6514"}"#
        case ("POST", "/oauth-clients"):
            return #"{"name":"B client","productId":"\#(ownProduct)","redirectUris":["https://evil.example/cb"]}"#
        case ("PATCH", "/oauth-clients/{id}"): return #"{"redirectUris":["https://evil.example/cb"]}"#
        case ("POST", "/oauth-clients/{id}/secret"): return #"{"overlapSeconds":0}"#
        case ("POST", "/ingestion-keys"): return #"{"productId":"\#(ownProduct)","name":"b-key"}"#
        case ("POST", "/domains"): return #"{"domain":"\#(freshDomain())"}"#
        case ("POST", "/domains/{id}/verify"): return #"{"method":"dns"}"#
        case ("PATCH", "/audit-retention"): return #"{"retentionDays":3650}"#
        case ("POST", "/audit-filters"): return #"{"name":"B view","action":"user."}"#
        case ("PATCH", "/audit-filters/{id}"): return #"{"name":"Taken over","q":null,"action":"user."}"#
        case ("POST", "/audit-exports"): return #"{"format":"csv"}"#
        case ("POST", "/identity-providers"):
            return #"{"preset":"oidc","name":"B IdP","issuer":"https://idp.b.example","clientId":"b"}"#
        case ("PATCH", "/identity-providers/{id}"): return #"{"name":"Taken over","issuer":"https://evil.example"}"#
        default: return nil
        }
    }

    /// What organisation A looks like from its own token: compared before and after.
    static func snapshot(_ api: API, _ r: Resources) async throws -> String {
        var parts: [String] = []
        for path in ["/organization", "/users/\(r.user)", "/users/\(r.user)/roles", "/groups/\(r.group)",
                     "/groups/\(r.group)/members", "/products/\(r.product)", "/products/\(r.product)/access",
                     "/api-tokens/\(r.token)", "/oauth-clients/\(r.oauthClient)", "/domains/\(r.domain)",
                     "/identity-providers/\(r.identityProvider)", "/identity-providers/\(r.identityProvider)/test", "/users?limit=200",
                     "/audit-exports/\(r.auditExport)", "/audit-exports/\(r.auditExport)/download",
                     "/audit-events?limit=200", "/audit-filters", "/audit-proofs/inclusion?\(r.inclusionProof)",
                     "/audit-proofs/consistency?\(r.consistencyProof)"] {
            let response = try await api.call(.get, path)
            #expect(response.status == .ok, "\(path)")
            parts.append(response.text)
        }
        return parts.joined(separator: "\n")
    }

    @Test(arguments: Backend.all)
    func otherOrganizationsIdsAreNotFoundEverywhere(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let a = try await store.createOrganization()
            let b = try await store.createOrganization()
            let apiA = API(client: client, token: a.apiToken)
            let apiB = API(client: client, token: b.apiToken)
            var resources = try await Self.seed(apiA)
            let keys = store.keys
            resources.deadLetter = try await store.database.write(org: a.organization.id) { tenant in
                let stream = try await tenant.createLogStream(name: "A refused", kind: .syslog, fields: LogStreamFields(endpoint: "127.0.0.1:1"),
                                                              caCertificate: nil, start: .beginning, keys: keys, by: .system).stream
                _ = try await tenant.leaseLogStream(stream.id, owner: "test", until: Timestamp.now().adding(seconds: 30))
                return try #require(try await tenant.deadLetterLogStreamBatch(stream.id, owner: "test", first: 1, last: 1, events: 1,
                                                                              error: "refused", attempts: 1)).id
            }
            resources.auditExport = try await apiA.object(.post, "/audit-exports", json: #"{"format":"jsonl"}"#,
                                                          expect: .accepted)["id"] as! String
            _ = try await finishedExport(apiA, resources.auditExport)
            // Both sign their trees; B asks for the proof of A's event at the size A's checkpoint signed.
            let (mine, theirs) = try await store.database.write(org: a.organization.id) { tenant in
                (try #require(try await tenant.signAuditCheckpoint(keys: keys)), try await tenant.auditHead())
            }
            #expect(mine.sequence == theirs.sequence && mine.treeRoot != nil)
            let bSigned = try await store.database.write(org: b.organization.id) { try await $0.signAuditCheckpoint(keys: keys) }
            #expect(bSigned?.sequence != mine.sequence, "B has no tree of A's size, so only A's could answer")
            resources.inclusionProof = "seq=3&treeSize=\(mine.sequence)"
            resources.consistencyProof = "first=\(mine.sequence)&second=\(mine.sequence)"
            let before = try await Self.snapshot(apiA, resources)
            let aIDs = [a.organization.id, resources.user, resources.group, resources.product, resources.token, resources.stream,
                        resources.oauthClient, resources.ingestionKey, resources.domain, resources.identityProvider, resources.deadLetter,
                        resources.auditFilter, resources.auditExport, a.admin.id]
            let bOwnProduct = try await apiB.object(.post, "/products",
                                                    json: #"{"name":"B own","kind":"wiki","url":"https://own.b.example"}"#,
                                                    expect: .created)["id"] as! String

            let services = RampartServices(configuration: AppConfiguration(dataDirectory: store.dataDirectory,
                                                                           database: store.configuration),
                                           database: store.database, keys: store.keys, logger: testLogger)
            let operations = apiOperations(services)
            #expect(operations.count >= 30)
            var checked = 0
            for (method, template) in operations {
                let path = Self.path(template, resources)
                let response = try await apiB.call(HTTPRequest.Method(method)!, path,
                                                   json: Self.body(method, template, ownProduct: bOwnProduct))
                if template == "/events" {
                    // Products send events with their own credentials; an admin token is refused
                    // (EventIngestionTests shows one organisation's key never writes into another).
                    #expect(response.status == .unauthorized, "\(response.text)")
                } else if template.hasPrefix("/audit-proofs/") {
                    #expect(response.status == .notFound && response.errorCode == "not_found", "\(response.text)")
                } else if template.contains("{") {
                    #expect(response.status == .notFound, "\(method) \(template) answered \(response.status)")
                    #expect(response.errorCode == "not_found", "\(method) \(template)")
                } else {
                    #expect([.ok, .created, .accepted].contains(response.status), "\(method) \(template): \(response.text)")
                }
                for id in aIDs { #expect(!response.text.contains(id), "\(method) \(template) leaked an id of A") }
                checked += 1
            }
            #expect(checked == operations.count)

            // Mixed: B's own group with A's user, B's own product with A's group.
            let bGroup = try await apiB.object(.post, "/groups", json: #"{"name":"B team"}"#, expect: .created)["id"] as! String
            #expect(try await apiB.call(.put, "/groups/\(bGroup)/members/\(resources.user)").status == .notFound)
            let bProduct = try await apiB.object(.post, "/products",
                                                 json: #"{"name":"B wiki","kind":"wiki","url":"https://w.b.example"}"#,
                                                 expect: .created)["id"] as! String
            #expect(try await apiB.call(.put, "/products/\(bProduct)/access/\(resources.group)").status == .notFound)
            // B cannot register a client for A's product.
            let hijack = #"{"name":"Hijack","productId":"\#(resources.product)","redirectUris":["https://evil.example/cb"]}"#
            #expect(try await apiB.call(.post, "/oauth-clients", json: hijack).status == .notFound)

            let after = try await Self.snapshot(apiA, resources)
            #expect(after == before, "organisation A changed")
        }
    }
}
