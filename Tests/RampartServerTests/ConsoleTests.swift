import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// A browser's view of the console, one request at a time: cookies, CSRF, headers, pages.
struct ConsoleBrowser: Sendable {
    let client: any TestClientProtocol

    func get(_ uri: String, cookie: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        return try await client.execute(uri: uri, method: .get, headers: headers)
    }

    func post(_ uri: String, form: [String: String], cookie: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        let allowed = CharacterSet.alphanumerics
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func csrf(in page: TestResponse) -> String? {
        let text = page.text
        guard let range = text.range(of: #"name="csrf" value=""#) else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }

    /// `name=value` of a Set-Cookie header, as a browser would send it back.
    static func cookie(_ name: String, in response: TestResponse) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix("\(name)=") }.map { String($0.prefix { $0 != ";" }) }
    }
}

@Suite("Console")
struct ConsoleTests {
    /// Uses the organisation's setup link, the way a new admin does; returns the session cookie.
    static func setUpAdmin(_ browser: ConsoleBrowser, _ org: OrganizationProvisioner.Result) async throws -> String {
        let token = org.setupToken
        let page = try await browser.get("/console/setup?token=\(token)")
        #expect(page.status == .ok)
        let csrf = try #require(ConsoleBrowser.csrf(in: page))
        let mismatch = try await browser.post("/console/setup", form: ["token": token, "csrf": csrf,
                                                                       "password": "correct horse battery",
                                                                       "password_confirm": "different horse"])
        #expect(mismatch.status == .badRequest)
        #expect(mismatch.text.contains("does not match"))
        let done = try await browser.post("/console/setup", form: ["token": token, "csrf": csrf,
                                                                   "password": "correct horse battery",
                                                                   "password_confirm": "correct horse battery"])
        #expect(done.status == .seeOther)
        let cookie = try #require(done.headers[values: .setCookie].first { $0.hasPrefix("rampart_session=") })
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let reused = try await browser.get("/console/setup?token=\(token)")
        #expect(reused.status == .notFound, "a setup link works once")
        return try #require(ConsoleBrowser.cookie("rampart_session", in: done))
    }

    @Test(arguments: Backend.all)
    func setupLinkThenCreateUserThenSeeItInTheAuditLog(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            #expect(try await browser.get("/console").headers[.location] == "/console/signin")
            let session = try await Self.setUpAdmin(browser, org)

            let users = try await browser.get("/console/users", cookie: session)
            #expect(users.status == .ok)
            let csp = try #require(users.headers[.contentSecurityPolicy])
            #expect(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline") && !csp.contains("script-src"))
            #expect(users.headers[.init("X-Frame-Options")!] == "DENY")
            let csrf = try #require(ConsoleBrowser.csrf(in: users))

            let before = try await auditCount(store, org.organization.id)
            let forged = try await browser.post("/console/users", form: ["email": "eve@example.com", "display_name": "Eve",
                                                                         "csrf": "forged"], cookie: session)
            #expect(forged.status == .forbidden)
            #expect(try await auditCount(store, org.organization.id) == before)

            let invalid = try await browser.post("/console/users", form: ["email": "nope", "display_name": "Bad",
                                                                          "csrf": csrf], cookie: session)
            #expect(invalid.status == .badRequest)
            #expect(invalid.text.contains("must be an email address"))
            #expect(invalid.text.contains(#"value="nope""#), "the form keeps what was typed")

            let created = try await browser.post("/console/users", form: ["email": "grace@example.com",
                                                                          "display_name": "Grace Hopper", "csrf": csrf],
                                                 cookie: session)
            #expect(created.status == .seeOther)
            let detail = try await browser.get(try #require(created.headers[.location]), cookie: session)
            #expect(detail.text.contains("grace@example.com"))
            #expect(detail.text.contains(#"id="notice""#) && detail.text.contains("User created."), "a banner after creating")
            for (path, form, banner) in [("/console/groups", ["name": "Staff"], "Group created."),
                                         ("/console/products", ["name": "Wiki", "kind": "wiki", "url": "https://wiki.example.com"],
                                          "Product created.")] {
                let made = try await browser.post(path, form: form.merging(["csrf": csrf]) { $1 }, cookie: session)
                #expect(made.status == .seeOther, "\(path): \(made.text)")
                let page = try await browser.get(try #require(made.headers[.location]), cookie: session)
                #expect(page.text.contains(banner), "\(path)")
            }

            let audit = try await browser.get("/console/audit?action=user.created", cookie: session)
            #expect(audit.status == .ok)
            #expect(audit.text.contains("user.created") && audit.text.contains("grace@example.com"))
        }
    }

    @Test(arguments: Backend.all)
    func signInSignOutAndFailures(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            _ = try await Self.setUpAdmin(browser, org)

            let form = try await browser.get("/console/signin")
            let csrfCookie = try #require(ConsoleBrowser.cookie("rampart_signin_csrf", in: form))
            let csrf = try #require(ConsoleBrowser.csrf(in: form))
            let fields = ["organization": org.organization.slug, "email": "admin@example.com", "csrf": csrf]

            let noCookie = try await browser.post("/console/signin", form: fields.merging(["password": "correct horse battery"]) { $1 })
            #expect(noCookie.status == .forbidden, "the CSRF cookie must accompany the form")

            let wrong = try await browser.post("/console/signin", form: fields.merging(["password": "wrong password!"]) { $1 },
                                               cookie: csrfCookie)
            #expect(wrong.status == .unauthorized)
            let unknown = try await browser.post("/console/signin",
                                                 form: fields.merging(["email": "nobody@example.com", "password": "x"]) { $1 },
                                                 cookie: csrfCookie)
            #expect(unknown.status == .unauthorized)
            #expect(Self.errorText(wrong) == Self.errorText(unknown), "no user enumeration")

            let ok = try await browser.post("/console/signin", form: fields.merging(["password": "correct horse battery"]) { $1 },
                                            cookie: csrfCookie)
            #expect(ok.status == .seeOther)
            let session = try #require(ConsoleBrowser.cookie("rampart_session", in: ok))
            let overview = try await browser.get("/console", cookie: session)
            #expect(overview.status == .ok)
            #expect(overview.text.contains(org.organization.name))

            let failures = try await store.database.read(org: org.organization.id) {
                try await $0.auditEvents(AuditQuery(action: "auth.signin_failed")).items
            }
            #expect(failures.count == 2)
            #expect(failures.allSatisfy { $0.outcome == "failure" })

            let signOutCSRF = try #require(ConsoleBrowser.csrf(in: overview))
            let out = try await browser.post("/console/signout", form: ["csrf": signOutCSRF], cookie: session)
            #expect(out.status == .seeOther)
            #expect(try await browser.get("/console", cookie: session).headers[.location] == "/console/signin")
        }
    }

    @Test(arguments: Backend.all)
    func deactivationEndsSessionsAndAuditorsCannotChangeAnything(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let before = try await Self.setUpAdmin(browser, org)
            try await store.database.write(org: org.organization.id) { tenant in
                let successor = try await tenant.createUser(email: "next@example.com", displayName: "Next", by: .system)
                try await tenant.assignRole(.orgAdmin, to: successor.id, by: .system)
                try await tenant.assignRole(.auditor, to: org.admin.id, by: .system)
                try await tenant.revokeRole(.orgAdmin, from: org.admin.id, by: .system)
            }
            #expect(try await browser.get("/console/users", cookie: before).headers[.location] == "/console/signin",
                    "a granted role ends the sessions from before it")
            let signedIn = try await SignInTests.signIn(browser, slug: org.organization.slug, email: "admin@example.com",
                                                        password: "correct horse battery")
            let session = try #require(ConsoleBrowser.cookie("rampart_session", in: signedIn))
            let users = try await browser.get("/console/users", cookie: session)
            #expect(users.status == .ok)
            #expect(!users.text.contains("create-user"), "auditors see no create form")
            let csrf = try #require(ConsoleBrowser.csrf(in: users))
            let denied = try await browser.post("/console/users", form: ["email": "x@example.com", "display_name": "X",
                                                                         "csrf": csrf], cookie: session)
            #expect(denied.status == .forbidden)

            // Every state-changing form of the console, posted by the auditor: 403, nothing written.
            let ids = try await store.database.write(org: org.organization.id) { tenant in
                let user = try await tenant.createUser(email: "target@example.com", displayName: "Target", by: .system)
                let group = try await tenant.createGroup(name: "Staff", description: nil, by: .system)
                let product = try await tenant.createProduct(name: "Wiki", kind: .wiki, url: "https://wiki.example.com", by: .system)
                let policy = try await tenant.createAuthenticationPolicy(name: "Strict", settings: .standard, by: .system)
                let stream = try await tenant.createLogStream(name: "SIEM", kind: .syslog,
                                                              fields: LogStreamFields(endpoint: "127.0.0.1:1"), caCertificate: nil,
                                                              start: .now, keys: store.keys, by: .system).stream
                let token = try await tenant.createAPIToken(name: "bot", role: .auditor, expiresAt: nil, by: .system).0
                let scim = try await tenant.createSCIMToken(name: "idp", by: .system).0
                let client = try await tenant.createOAuthClient(
                    productID: product.id, name: "Wiki client", type: .confidential, authMethod: nil, firstParty: true,
                    redirectURIs: ["https://wiki.example.com/callback"], postLogoutRedirectURIs: [], scopes: nil, by: .system).0
                return ["{user}": user.id, "{group}": group.id, "{product}": product.id, "{policy}": policy.id,
                        "{stream}": stream.id, "{token}": token.id, "{scim}": scim.id, "{client}": client.id]
            }
            let eventsBefore = try await auditCount(store, org.organization.id)
            let forms = [
                "users/{user}/edit", "users/{user}/deactivate", "users/{user}/reactivate", "users/{user}/invitation",
                "users/{user}/mfa/reset", "users/{user}/password-reset", "users/{user}/roles", "users/{user}/roles/auditor/revoke",
                "users/{user}/sessions/end", "users/{user}/sessions/{token}/end", "users/{user}/delete",
                "groups", "groups/{group}/edit", "groups/{group}/members", "groups/{group}/members/{user}/remove", "groups/{group}/delete",
                "products", "products/{product}/edit", "products/{product}/access", "products/{product}/access/{group}/revoke",
                "products/{product}/delete", "api-tokens", "api-tokens/{token}/revoke", "scim/tokens", "scim/tokens/{scim}/revoke",
                "scim/settings", "policies", "policies/{policy}", "policies/{policy}/assignments",
                "policies/{policy}/assignments/group/{group}/remove", "policies/{policy}/delete",
                "log-streams", "log-streams/{stream}/status", "log-streams/{stream}/test", "log-streams/{stream}/delete",
                "oauth-clients", "oauth-clients/{client}/edit", "oauth-clients/{client}/secret", "oauth-clients/{client}/delete",
                "oauth-signing-key/rotate", "audit/retention",
            ]
            for template in forms {
                let path = ids.reduce("/console/" + template) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
                let answer = try await browser.post(path, form: ["csrf": csrf, "name": "X", "email": "x@example.com",
                                                                 "display_name": "X", "url": "https://x.example.com",
                                                                 "endpoint": "siem:514", "status": "paused", "role": "auditor",
                                                                 "kind": "wiki", "delete_mode": "deactivate",
                                                                 "product_id": ids["{product}"]!, "type": "confidential",
                                                                 "redirect_uris": "https://x.example.com/cb"], cookie: session)
                #expect(answer.status == .forbidden, "an auditor posting \(template): \(answer.status)")
            }
            #expect(try await auditCount(store, org.organization.id) == eventsBefore, "the auditor's posts wrote nothing")

            _ = try await store.database.write(org: org.organization.id) {
                try await $0.setUserStatus(org.admin.id, .deactivated, by: .system)
            }
            #expect(try await browser.get("/console/users", cookie: session).headers[.location] == "/console/signin")
        }
    }

    static func errorText(_ response: TestResponse) -> String? {
        let text = response.text
        guard let start = text.range(of: #"id="signin-error">"#) else { return nil }
        return String(text[start.upperBound...].prefix { $0 != "<" })
    }
}
