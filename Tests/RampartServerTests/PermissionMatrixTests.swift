import Foundation
import HTTPTypes
import RampartAuthn
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// Every admin API route × every role × (for changes to an account) a target holding each
/// role: the answer is 403 exactly when the route's "Roles:" line in docs/openapi.yaml leaves
/// the caller out, or when the target holds a role the caller cannot grant (`RoleAuthority`).
/// The document and `Role.permissions` + `RoleAuthority` are so held to one permission model.
@Suite("Permission matrix: routes × roles × targets")
struct PermissionMatrixTests {
    /// "METHOD /path" → the roles its description's `Roles:` line names.
    static func documentedRoles() throws -> [String: Set<Role>] {
        let text = try String(contentsOf: OpenAPIDocumentTests.documentPath, encoding: .utf8)
        let methods: Set<String> = ["get", "put", "post", "patch", "delete"]
        var out: [String: Set<Role>] = [:]
        var path: String?
        var operation: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("components:") { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"),
                      methods.contains(line.trimmingCharacters(in: .whitespaces).dropLast().description), let path {
                operation = "\(line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()) \(path)"
            } else if let current = operation, let range = line.range(of: "Roles: ") {
                // The roles come before the first full stop, semicolon or bracket; what follows
                // qualifies them by the target's roles, which `RoleAuthority` decides.
                let named = line[range.upperBound...].prefix { !".;(".contains($0) }
                out[current] = Set(named.split(separator: ",").compactMap {
                    Role(rawValue: $0.trimmingCharacters(in: .whitespaces))
                })
                operation = nil
            }
        }
        return out
    }

    /// Changes to one account: an admin may make them only to accounts within their reach.
    static func changesAnAccount(_ method: String, _ path: String) -> Bool {
        method != "GET" && path.hasPrefix("/users/{id}")
    }

    /// A valid body for each route that takes one, so that a refusal can only be the role's.
    static func body(_ method: String, _ path: String, fixture: Fixture) -> String? {
        let unique = UUID().uuidString.prefix(8)
        switch "\(method) \(path)" {
        case "POST /users": return #"{"email":"new-\#(unique)@example.com","displayName":"New"}"#
        case "PATCH /users/{id}": return #"{"displayName":"Renamed"}"#
        case "POST /groups": return #"{"name":"Group \#(unique)"}"#
        case "PATCH /groups/{id}": return #"{"description":"Changed"}"#
        case "POST /products": return #"{"name":"Product \#(unique)","kind":"wiki","url":"https://wiki.example.com"}"#
        case "PATCH /products/{id}": return #"{"name":"Product \#(unique)"}"#
        case "POST /api-tokens": return #"{"name":"token \#(unique)","role":"auditor"}"#
        case "POST /scim-tokens": return #"{"name":"scim \#(unique)"}"#
        case "PUT /scim-settings": return #"{"deleteMode":"deactivate"}"#
        case "POST /audit-exports": return #"{"format":"csv"}"#
        case "POST /authentication-policies": return #"{"name":"Policy \#(unique)"}"#
        case "PATCH /authentication-policies/{id}": return #"{"settings":{"mfaRequired":true}}"#
        case "POST /authentication-policies/simulate": return #"{"settings":{"mfaRequired":true}}"#
        case "PUT /users/{id}/password-hash": return #"{"hash":"\#(AuthenticationAdminAPITests.bcryptHash)"}"#
        case "POST /users/{id}/invitation": return #"{"expiresInDays":3}"#
        case "POST /log-streams": return #"{"name":"stream \#(unique)","kind":"syslog","endpoint":"127.0.0.1:1"}"#
        case "PATCH /log-streams/{id}": return #"{"status":"paused"}"#
        case "POST /oauth-clients":
            return #"{"name":"client \#(unique)","productId":"\#(fixture.ids["/products/{id}"]!)","redirectUris":["https://wiki.example.com/cb"]}"#
        case "PATCH /oauth-clients/{id}": return #"{"name":"client \#(unique)"}"#
        case "POST /oauth-clients/{id}/secret": return #"{"overlapSeconds":0}"#
        case "POST /domains": return #"{"domain":"d\#(unique.lowercased()).example.org"}"#
        // The fixture's claim is verified already: verifying it again looks nothing up.
        case "POST /domains/{id}/verify": return #"{"method":"dns"}"#
        case "PATCH /audit-retention": return #"{"retentionDays":500}"#
        case "POST /audit-filters": return #"{"name":"view \#(unique)","action":"user."}"#
        case "PATCH /audit-filters/{id}": return #"{"name":"view \#(unique)"}"#
        case "POST /ingestion-keys": return #"{"productId":"\#(fixture.ids["/products/{id}"]!)","name":"key \#(unique)"}"#
        case "POST /identity-providers": return #"{"preset":"okta","name":"Okta \#(unique)","issuer":"https://acme.okta.com","clientId":"c"}"#
        case "PATCH /identity-providers/{id}": return #"{"jit":true}"#
        default: return nil
        }
    }

    /// One organisation with something behind every path parameter.
    struct Fixture: Sendable {
        let tokens: [Role: String]
        let ids: [String: String]

        static func make(_ store: TestStore, target role: Role?) async throws -> Fixture {
            let org = try await store.createOrganization()
            return try await store.database.write(org: org.organization.id) { tenant in
                var tokens: [Role: String] = [:]
                for caller in Role.allCases {
                    tokens[caller] = try await tenant.createAPIToken(name: "caller \(caller.rawValue)", role: caller,
                                                                     expiresAt: nil, by: .system).1
                }
                let target = try await tenant.createUser(email: "target@example.com", displayName: "Target", by: .system)
                if let role { try await tenant.assignRole(role, to: target.id, by: .system) }
                let group = try await tenant.createGroup(name: "Staff", description: nil, by: .system)
                try await tenant.addMember(target.id, to: group.id, by: .system)
                let product = try await tenant.createProduct(name: "Wiki", kind: .wiki, url: "https://wiki.example.com", by: .system)
                let spare = try await tenant.createAPIToken(name: "spare", role: .auditor, expiresAt: nil, by: .system).0
                let scim = try await tenant.createSCIMToken(name: "idp", by: .system).0
                let policy = try await tenant.createAuthenticationPolicy(name: "Strict", settings: .standard, by: .system)
                let stream = try await tenant.createLogStream(name: "SIEM", kind: .syslog,
                                                              fields: LogStreamFields(endpoint: "127.0.0.1:1"), caCertificate: nil,
                                                              start: .now, keys: store.keys, by: .system).stream
                let client = try await tenant.createOAuthClient(
                    productID: product.id, name: "Wiki client", type: .confidential, authMethod: nil, firstParty: true,
                    redirectURIs: ["https://wiki.example.com/cb"], postLogoutRedirectURIs: [], scopes: nil, by: .system).0
                let session = try await tenant.startUserSession(for: target.id, mfaCompleted: true, lifetimeSeconds: 3600,
                                                                idleTimeoutSeconds: 600, ip: nil, userAgent: nil).session
                let codeRequest = AuthorizationCodeRequest(
                    clientID: client.id, userID: target.id, redirectURI: "https://wiki.example.com/cb", scope: ["openid"],
                    nonce: nil, codeChallenge: String(repeating: "a", count: 43), authTime: .now(), amr: ["pwd"])
                let code = try await tenant.issueAuthorizationCode(codeRequest, client: client, user: target, by: .system)
                let ingestionKey = try await tenant.createIngestionKey(product: product.id, name: "wiki", by: .system).0
                let savedFilter = try await tenant.saveAuditFilter(name: "Failures", view: .init(action: "auth.signin_failed"),
                                                                   by: .system)
                // The stream's creation event, given up on as if its receiver had refused it.
                _ = try await tenant.leaseLogStream(stream.id, owner: "fixture", until: Timestamp.now().adding(seconds: 30))
                let deadLetter = try #require(try await tenant.deadLetterLogStreamBatch(
                    stream.id, owner: "fixture", first: stream.cursor + 1, last: stream.cursor + 1, events: 1, error: "refused",
                    attempts: 1))
                let domain = try await tenant.claimDomain(
                    try DomainName(parsing: "d\(UUID().uuidString.prefix(8).lowercased()).example.org", publicSuffixes: .empty),
                    by: .system)
                _ = try await tenant.recordDomainCheck(domain.id, method: .dns, result: .proven, by: .system)
                var idp = IdentityProviderInput()
                idp.preset = .oidc; idp.name = "IdP"; idp.issuer = "https://idp.example.com"; idp.clientId = "rampart"
                let identityProvider = try await tenant.createIdentityProvider(idp, keys: store.keys, by: .system)
                let export = try await tenant.createAuditExport(format: "jsonl", filter: .init(), by: .system)
                let grant = try await tenant.startOAuthGrant(codeRequest, code: SecretToken(parsing: code, as: .authorizationCode)!,
                                                             client: client, by: .system).0
                return Fixture(tokens: tokens, ids: [
                    "/users/{id}": target.id, "/groups/{id}": group.id, "/products/{id}": product.id,
                    "/api-tokens/{id}": spare.id, "/scim-tokens/{id}": scim.id, "/authentication-policies/{id}": policy.id,
                    "/log-streams/{id}": stream.id, "/oauth-clients/{id}": client.id, "/oauth-grants/{id}": grant.id,
                    "/ingestion-keys/{id}": ingestionKey.id, "/domains/{id}": domain.id, "/audit-filters/{id}": savedFilter.id,
                    "/identity-providers/{id}": identityProvider.id, "/audit-exports/{id}": export.id,
                    "{deadLetterId}": deadLetter.id, "{userId}": target.id, "{groupId}": group.id, "{sessionId}": session.id, "{role}": Role.auditor.rawValue,
                ])
            }
        }

        /// The path with every parameter replaced; nil when a parameter is unknown here.
        func resolve(_ path: String) -> String? {
            var out = path
            for (pattern, id) in ids where pattern.hasPrefix("/") && out.hasPrefix(pattern) {
                out = pattern.replacingOccurrences(of: "{id}", with: id) + out.dropFirst(pattern.count)
            }
            for (parameter, id) in ids where parameter.hasPrefix("{") {
                out = out.replacingOccurrences(of: parameter, with: id)
            }
            return out.contains("{") ? nil : out
        }
    }

    @Test func everyRouteAnswersEveryRoleAsItsDocumentedRolesAndRoleAuthoritySay() async throws {
        let documented = try Self.documentedRoles()
        try await withApp(.sqlite) { client, store in
            let services = RampartServices(configuration: AppConfiguration(dataDirectory: store.dataDirectory,
                                                                           database: store.configuration),
                                           database: store.database, keys: store.keys, logger: testLogger)
            let operations = apiOperations(services)
            #expect(operations.count >= 50)
            var checked = 0
            // Products send events with their own credentials, never an admin role's token.
            for (method, path) in operations where path != "/events" {
                let key = "\(method) \(path)"
                guard let allowed = documented[key], !allowed.isEmpty else {
                    Issue.record("\(key) has no 'Roles:' line in docs/openapi.yaml")
                    continue
                }
                let targets: [Role?] = Self.changesAnAccount(method, path) ? [nil] + Role.allCases.map { $0 } : [nil]
                for target in targets {
                    for caller in Role.allCases {
                        let fixture = try await Fixture.make(store, target: target)
                        guard let uri = fixture.resolve(path) else {
                            Issue.record("\(key): no fixture for a parameter of \(path)")
                            continue
                        }
                        var permitted = allowed.contains(caller)
                        if Self.changesAnAccount(method, path) {
                            permitted = permitted && RoleAuthority.mayChange(account: target.map { [$0] } ?? [], actor: [caller])
                        }
                        let response = try await API(client: client, token: fixture.tokens[caller]!)
                            .call(HTTPRequest.Method(method)!, uri, json: Self.body(method, path, fixture: fixture))
                        let who = "\(caller.rawValue) on \(key) (target \(target?.rawValue ?? "without roles"))"
                        // The fixture's stream points at a closed port: its test record and replays are refused (502).
                        let receiverRefused = ["POST /log-streams/{id}/test", "POST /log-streams/{id}/dead-letters/{deadLetterId}/replay"]
                            .contains(key) && response.status == .badGateway
                        if permitted {
                            #expect(response.status != .forbidden && (response.status.code < 500 || receiverRefused),
                                    "\(who): \(response.text)")
                        } else {
                            #expect(response.status == .forbidden, "\(who): \(response.status.code) \(response.text)")
                        }
                        checked += 1
                    }
                }
            }
            #expect(checked >= (operations.count - 1) * Role.allCases.count)
        }
    }
}
