import Foundation
import HummingbirdTesting
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// OAuth clients in the console: registering one from a product with its secret shown once,
/// refused input beside its field with nothing written, editing, rotating the secret with
/// overlap, rotating the signing key and deleting, each audited.
@Suite("Console OAuth clients")
struct ConsoleOAuthClientTests {
    static func secret(in page: TestResponse) -> String? {
        let text = page.text
        guard let range = text.range(of: #"id="client-secret">"#) else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "<" })
    }

    static func actions(_ store: TestStore, _ orgID: String, _ action: AuditAction) async throws -> Int {
        try await store.database.read(org: orgID) { try await $0.auditEvents(AuditQuery(action: action.rawValue)).items.count }
    }

    @Test(arguments: Backend.all)
    func registerEditRotateAndDeleteAClient(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let product = try await store.database.write(org: orgID) {
                try await $0.createProduct(name: "Reports", kind: .custom, url: "https://reports.example.com", by: .system)
            }

            let productPage = try await browser.get("/console/products/\(product.id)", cookie: session)
            #expect(productPage.text.contains("/console/oauth-clients?product=\(product.id)"), "the product links to registering")
            let list = try await browser.get("/console/oauth-clients?product=\(product.id)", cookie: session)
            #expect(list.status == .ok)
            #expect(list.text.contains("No OAuth clients yet."))
            #expect(productPage.text.contains("Not registered as an OAuth client."))
            #expect(list.text.contains(#"<option value="\#(product.id)" selected>Reports</option>"#), "the product is chosen")
            #expect(list.text.contains("/o/\(org.organization.slug)/.well-known/openid-configuration"))
            let csrf = try #require(ConsoleBrowser.csrf(in: list))
            let form = ["csrf": csrf, "product_id": product.id, "type": "confidential", "name": "Reports app",
                        "redirect_uris": "https://reports.example.com/callback\r\nhttp://reports.example.com/other",
                        "scopes": "openid profile reports:read", "third_party": "on"]

            // A redirect URI that is not https: refused beside its field, as typed, nothing written.
            let before = try await auditCount(store, orgID)
            let refused = try await browser.post("/console/oauth-clients", form: form, cookie: session)
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains(#"aria-invalid="true" aria-describedby="redirect_uris-error""#))
            #expect(refused.text.contains(#"id="redirect_uris-error""#) && refused.text.contains("must use https"))
            #expect(refused.text.contains("http://reports.example.com/other"), "the list comes back as typed")
            #expect(refused.text.contains(#"value="Reports app""#))
            let noProduct = try await browser.post("/console/oauth-clients", form: form.merging(["product_id": ""]) { $1 },
                                                   cookie: session)
            #expect(noProduct.status == .badRequest)
            #expect(noProduct.text.contains(#"id="form-error""#) && noProduct.text.contains("choose the product"))
            let badScope = try await browser.post(
                "/console/oauth-clients",
                form: form.merging(["redirect_uris": "https://reports.example.com/callback", "scopes": "openid \"x\""]) { $1 },
                cookie: session)
            #expect(badScope.status == .badRequest)
            #expect(badScope.text.contains(#"id="scopes-error""#))
            #expect(try await auditCount(store, orgID) == before, "refused forms write nothing")
            #expect(try await store.database.read(org: orgID) { try await $0.oauthClients() }.isEmpty)

            // Registered: the client id, the issuer and the secret, once.
            let created = try await browser.post(
                "/console/oauth-clients",
                form: form.merging(["redirect_uris": "https://reports.example.com/callback\r\n\r\nhttps://reports.example.com/second\r\n"]) { $1 },
                cookie: session)
            #expect(created.status == .created, "\(created.text)")
            let secret = try #require(Self.secret(in: created))
            let stored = try #require(try await store.database.read(org: orgID) { try await $0.oauthClients() }.first)
            #expect(created.text.contains(#"id="client-id">\#(stored.id)<"#))
            #expect(created.text.contains("/o/\(org.organization.slug)/.well-known/openid-configuration"))
            #expect(stored.redirectURIs == ["https://reports.example.com/callback", "https://reports.example.com/second"])
            #expect(stored.scopes == ["openid", "profile", "reports:read"])
            #expect(!stored.firstParty, "the third-party box asks for consent")
            #expect(stored.productID == product.id && stored.type == .confidential)
            #expect(try await store.database.read(org: orgID) { try await $0.verifyOAuthClientSecret(stored.id, secret) })
            #expect(try await Self.actions(store, orgID, .oauthClientCreated) == 1)

            let page = try await browser.get("/console/oauth-clients/\(stored.id)", cookie: session)
            #expect(page.status == .ok)
            #expect(Self.secret(in: page) == nil && !page.text.contains(secret), "the secret is shown once")
            #expect(page.text.contains("reports:read") && page.text.contains("https://reports.example.com/second"))
            let listed = try await browser.get("/console/oauth-clients", cookie: session)
            #expect(listed.text.contains(stored.id) && listed.text.contains("Reports app"))
            let productAfter = try await browser.get("/console/products/\(product.id)", cookie: session)
            #expect(productAfter.text.contains(#"<a href="/console/oauth-clients/\#(stored.id)">Reports app</a>"#),
                    "the product's page lists its client")

            // Editing: a fragment in a redirect URI is refused beside it; then the change is saved.
            let edit = try await browser.get("/console/oauth-clients/\(stored.id)/edit", cookie: session)
            #expect(edit.status == .ok)
            #expect(edit.text.contains("https://reports.example.com/callback\nhttps://reports.example.com/second</textarea>"))
            let changes = ["csrf": csrf, "name": "Reports", "redirect_uris": "https://reports.example.com/cb#top",
                           "scopes": "openid reports:read"]
            let eventsBeforeEdit = try await auditCount(store, orgID)
            let badEdit = try await browser.post("/console/oauth-clients/\(stored.id)/edit", form: changes, cookie: session)
            #expect(badEdit.status == .badRequest)
            #expect(badEdit.text.contains(#"id="redirect_uris-error""#) && badEdit.text.contains("fragment"))
            #expect(try await auditCount(store, orgID) == eventsBeforeEdit)
            let saved = try await browser.post("/console/oauth-clients/\(stored.id)/edit",
                                               form: changes.merging(["redirect_uris": "https://reports.example.com/cb"]) { $1 },
                                               cookie: session)
            #expect(saved.status == .seeOther)
            #expect(saved.headers[.location] == "/console/oauth-clients/\(stored.id)?done=updated")
            let edited = try await store.database.read(org: orgID) { try await $0.requireOAuthClient(stored.id) }
            #expect(edited.name == "Reports" && edited.firstParty && edited.redirectURIs == ["https://reports.example.com/cb"])
            #expect(edited.scopes == ["openid", "reports:read"])
            #expect(try await Self.actions(store, orgID, .oauthClientUpdated) == 1)

            // Rotating the secret asks first, shows the new one once; the old one works for a day.
            let confirmRotate = try await browser.get("/console/oauth-clients/\(stored.id)/secret", cookie: session)
            #expect(confirmRotate.text.contains("Rotate the secret of Reports?"))
            let rotated = try await browser.post("/console/oauth-clients/\(stored.id)/secret", form: ["csrf": csrf], cookie: session)
            #expect(rotated.status == .ok)
            let newSecret = try #require(Self.secret(in: rotated))
            #expect(newSecret != secret)
            let afterRotation = try await store.database.read(org: orgID) { tenant in
                (try await tenant.verifyOAuthClientSecret(stored.id, secret), try await tenant.verifyOAuthClientSecret(stored.id, newSecret),
                 try await tenant.requireOAuthClient(stored.id).previousSecretExpiresAt)
            }
            #expect(afterRotation.0 && afterRotation.1, "both secrets work during the overlap")
            let overlapEnd = try #require(afterRotation.2)
            #expect(abs(overlapEnd.microseconds - Timestamp.now().adding(seconds: 86_400).microseconds) < 120_000_000)
            #expect(!rotated.text.contains("no previous secret"))

            // The signing key.
            let keysBefore = try await store.database.write(org: orgID) { tenant in
                try await tenant.ensureOAuthSigningKey(keys: store.keys)
                return Set(try await tenant.oauthSigningKeys(keys: store.keys).map(\.kid))
            }
            let confirmKey = try await browser.get("/console/oauth-signing-key/rotate", cookie: session)
            #expect(confirmKey.text.contains("Rotate the token signing key?"))
            let keyRotated = try await browser.post("/console/oauth-signing-key/rotate", form: ["csrf": csrf], cookie: session)
            #expect(keyRotated.status == .seeOther)
            #expect(keyRotated.headers[.location] == "/console/oauth-clients?done=signing-key-rotated")
            let keysAfter = try await store.database.read(org: orgID) { Set(try await $0.oauthSigningKeys(keys: store.keys).map(\.kid)) }
            #expect(!keysAfter.subtracting(keysBefore).isEmpty, "a new key")
            #expect(try await Self.actions(store, orgID, .oauthSigningKeyRotated) == 1)

            // Deleting asks first; afterwards no secret works.
            let confirmDelete = try await browser.get("/console/oauth-clients/\(stored.id)/delete", cookie: session)
            #expect(confirmDelete.text.contains("Delete the OAuth client Reports?"))
            let deleted = try await browser.post("/console/oauth-clients/\(stored.id)/delete", form: ["csrf": csrf], cookie: session)
            #expect(deleted.status == .seeOther)
            #expect(try await store.database.read(org: orgID) { try await $0.oauthClients() }.isEmpty)
            #expect(!(try await store.database.read(org: orgID) { try await $0.verifyOAuthClientSecret(stored.id, newSecret) }))
            #expect(try await Self.actions(store, orgID, .oauthClientDeleted) == 1)
            #expect(try await browser.get("/console/oauth-clients/\(stored.id)", cookie: session).status == .notFound)
        }
    }

    @Test(arguments: Backend.all)
    func aPublicClientHasNoSecretAndAForgedFormWritesNothing(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let product = try await store.database.write(org: orgID) {
                try await $0.createProduct(name: "App", kind: .custom, url: "https://app.example.com", by: .system)
            }
            let list = try await browser.get("/console/oauth-clients", cookie: session)
            let csrf = try #require(ConsoleBrowser.csrf(in: list))
            let form = ["product_id": product.id, "type": "public", "name": "Single-page app",
                        "redirect_uris": "http://localhost:8080/callback", "scopes": "openid"]
            let before = try await auditCount(store, orgID)
            let forged = try await browser.post("/console/oauth-clients", form: form.merging(["csrf": "forged"]) { $1 }, cookie: session)
            #expect(forged.status == .forbidden)
            #expect(try await auditCount(store, orgID) == before)

            let created = try await browser.post("/console/oauth-clients", form: form.merging(["csrf": csrf]) { $1 }, cookie: session)
            #expect(created.status == .created)
            #expect(Self.secret(in: created) == nil, "a public client has no secret")
            #expect(!created.text.contains("rotate-secret"), "nor a secret to rotate")
            let stored = try #require(try await store.database.read(org: orgID) { try await $0.oauthClients() }.first)
            #expect(stored.type == .public && stored.authMethod == .none && stored.firstParty)
            #expect(stored.redirectURIs == ["http://localhost:8080/callback"])
            let rotate = try await browser.post("/console/oauth-clients/\(stored.id)/secret", form: ["csrf": csrf], cookie: session)
            #expect(rotate.status == .conflict)
        }
    }

    @Test(arguments: Backend.all)
    func anotherOrganisationSeesNothingAndAnAuditorOnlyReads(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let orgA = try await store.createOrganization()
            let orgB = try await store.createOrganization(adminEmail: "admin-b@example.com")
            let browser = ConsoleBrowser(client: client)
            let sessionB = try await ConsoleTests.setUpAdmin(browser, orgB)
            let clientA = try await store.database.write(org: orgA.organization.id) { tenant in
                let product = try await tenant.createProduct(name: "Wiki", kind: .wiki, url: "https://wiki.example.com", by: .system)
                return try await tenant.createOAuthClient(
                    productID: product.id, name: "Wiki of A", type: .confidential, authMethod: nil, firstParty: true,
                    redirectURIs: ["https://wiki.example.com/callback"], postLogoutRedirectURIs: [], scopes: nil, by: .system).0
            }

            // B's admin: A's client is not in B's list, and its pages and forms answer 404.
            let listB = try await browser.get("/console/oauth-clients", cookie: sessionB)
            #expect(listB.status == .ok && !listB.text.contains(clientA.id) && !listB.text.contains("Wiki of A"))
            let csrf = try #require(ConsoleBrowser.csrf(in: listB))
            for path in ["", "/edit", "/secret", "/delete"] {
                let page = try await browser.get("/console/oauth-clients/\(clientA.id)\(path)", cookie: sessionB)
                #expect(page.status == .notFound, "GET \(path): \(page.status)")
            }
            let eventsA = try await auditCount(store, orgA.organization.id)
            for path in ["/edit", "/secret", "/delete"] {
                let answer = try await browser.post("/console/oauth-clients/\(clientA.id)\(path)",
                                                    form: ["csrf": csrf, "name": "Taken over", "redirect_uris": "https://evil.example.com/cb"],
                                                    cookie: sessionB)
                #expect(answer.status == .notFound, "POST \(path): \(answer.status)")
            }
            #expect(try await auditCount(store, orgA.organization.id) == eventsA)
            #expect(try await store.database.read(org: orgA.organization.id) { try await $0.requireOAuthClient(clientA.id) } == clientA)

            // An auditor of A reads the list and the client's page, without a control to change them.
            _ = try await ConsoleTests.setUpAdmin(browser, orgA)
            try await store.database.write(org: orgA.organization.id) { tenant in
                let successor = try await tenant.createUser(email: "next@example.com", displayName: "Next", by: .system)
                try await tenant.assignRole(.orgAdmin, to: successor.id, by: .system)
                try await tenant.assignRole(.auditor, to: orgA.admin.id, by: .system)
                try await tenant.revokeRole(.orgAdmin, from: orgA.admin.id, by: .system)
            }
            let signedIn = try await SignInTests.signIn(browser, slug: orgA.organization.slug, email: "admin@example.com",
                                                        password: "correct horse battery")
            let auditor = try #require(ConsoleBrowser.cookie("rampart_session", in: signedIn))
            let list = try await browser.get("/console/oauth-clients", cookie: auditor)
            #expect(list.status == .ok && list.text.contains("Wiki of A"))
            #expect(!list.text.contains("create-client") && !list.text.contains("rotate-signing-key"))
            let page = try await browser.get("/console/oauth-clients/\(clientA.id)", cookie: auditor)
            #expect(page.status == .ok && page.text.contains("https://wiki.example.com/callback"))
            #expect(!page.text.contains("rotate-secret") && !page.text.contains(#"id="delete""#) && !page.text.contains(#"id="edit""#))
            for path in ["/console/oauth-clients/\(clientA.id)/edit", "/console/oauth-clients/\(clientA.id)/secret",
                         "/console/oauth-clients/\(clientA.id)/delete", "/console/oauth-signing-key/rotate"] {
                #expect(try await browser.get(path, cookie: auditor).status == .forbidden, "GET \(path)")
            }
        }
    }
}
