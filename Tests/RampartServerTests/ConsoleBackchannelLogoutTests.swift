import Foundation
import HummingbirdTesting
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// The console's OAuth client form sets a back-channel logout URI and whether logout tokens
/// must carry `sid`, as the API does: a bad URI is refused beside its field with nothing
/// written, a good one is shown on the client's page and in the edit form, and emptying the
/// field removes it.
@Suite("Console back-channel logout")
struct ConsoleBackchannelLogoutTests {
    @Test(arguments: Backend.all)
    func theClientFormSetsAndRemovesTheLogoutURI(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let product = try await store.database.write(org: orgID) {
                try await $0.createProduct(name: "Tracker", kind: .custom, url: "https://tracker.example.com", by: .system)
            }
            let list = try await browser.get("/console/oauth-clients", cookie: session)
            #expect(list.text.contains(#"name="backchannel_logout_uri""#))
            let csrf = try #require(ConsoleBrowser.csrf(in: list))
            let form = ["csrf": csrf, "product_id": product.id, "type": "confidential", "name": "Tracker",
                        "redirect_uris": "https://tracker.example.com/callback", "scopes": "openid",
                        "backchannel_logout_uri": "https://tracker.example.com/logout#now"]

            let before = try await auditCount(store, orgID)
            let refused = try await browser.post("/console/oauth-clients", form: form, cookie: session)
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains(#"id="backchannel_logout_uri-error""#) && refused.text.contains("fragment"))
            #expect(try await auditCount(store, orgID) == before, "a refused form writes nothing")
            #expect(try await store.database.read(org: orgID) { try await $0.oauthClients() }.isEmpty)

            let created = try await browser.post(
                "/console/oauth-clients",
                form: form.merging(["backchannel_logout_uri": "https://tracker.example.com/logout",
                                    "backchannel_logout_session_required": "on"]) { $1 },
                cookie: session)
            #expect(created.status == .created, "\(created.text)")
            let stored = try #require(try await store.database.read(org: orgID) { try await $0.oauthClients() }.first)
            let setting = try await store.database.read(org: orgID) { try await $0.oauthBackchannelLogout(of: stored.id) }
            #expect(setting == OAuthBackchannelLogout(uri: "https://tracker.example.com/logout", sessionRequired: true))
            #expect(created.text.contains(#"id="backchannel-logout-uri"><code>https://tracker.example.com/logout</code>"#))

            let edit = try await browser.get("/console/oauth-clients/\(stored.id)/edit", cookie: session)
            #expect(edit.text.contains(#"value="https://tracker.example.com/logout""#))
            #expect(edit.text.contains(#"id="backchannel_logout_session_required" checked"#))
            let removed = try await browser.post("/console/oauth-clients/\(stored.id)/edit",
                                                 form: ["csrf": csrf, "name": "Tracker", "scopes": "openid",
                                                        "redirect_uris": "https://tracker.example.com/callback",
                                                        "backchannel_logout_uri": ""],
                                                 cookie: session)
            #expect(removed.status == .seeOther)
            #expect(try await store.database.read(org: orgID) { try await $0.oauthBackchannelLogout(of: stored.id) } == nil)
            let updates = try await store.database.read(org: orgID) {
                try await $0.auditEvents(AuditQuery(action: AuditAction.oauthClientUpdated.rawValue)).items
            }
            #expect(updates.count == 1 && updates[0].detailsJSON.contains("backchannelLogoutUri"))
        }
    }
}
