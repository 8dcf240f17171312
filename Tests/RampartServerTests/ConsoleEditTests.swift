import Foundation
import HTTPTypes
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// Editing users, groups and products in the console: saved and audited, refused values shown
/// beside their field with the form as typed, and a user-admin cannot edit an org-admin.
@Suite("Console edit forms")
struct ConsoleEditTests {
    @Test(arguments: Backend.all)
    func usersGroupsAndProductsAreEditedAndBadValuesComeBackBesideTheirField(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let api = API(client: client, token: org.apiToken)
            let user = try #require(try await api.object(.post, "/users", json: #"{"email":"ada@example.com","displayName":"Ada"}"#,
                                                         expect: .created)["id"] as? String)
            _ = try await api.object(.post, "/users", json: #"{"email":"taken@example.com","displayName":"T"}"#, expect: .created)
            let group = try #require(try await api.object(.post, "/groups", json: #"{"name":"Staff"}"#, expect: .created)["id"] as? String)
            let product = try #require(try await api.object(.post, "/products",
                                                            json: #"{"name":"Wiki","kind":"wiki","url":"https://wiki.example.com"}"#,
                                                            expect: .created)["id"] as? String)
            let form = try await browser.get("/console/users/\(user)/edit", cookie: session)
            #expect(form.text.contains(#"value="ada@example.com""#))
            let csrf = try #require(ConsoleBrowser.csrf(in: form))

            let saved = try await browser.post("/console/users/\(user)/edit",
                                               form: ["csrf": csrf, "email": "ada.l@example.com", "display_name": "Ada Lovelace"],
                                               cookie: session)
            #expect(saved.headers[.location] == "/console/users/\(user)?done=updated")
            #expect(try await api.object(.get, "/users/\(user)", expect: .ok)["displayName"] as? String == "Ada Lovelace")

            let before = try await auditCount(store, org.organization.id)
            let taken = try await browser.post("/console/users/\(user)/edit",
                                               form: ["csrf": csrf, "email": "taken@example.com", "display_name": "Ada"], cookie: session)
            #expect(taken.status == .conflict)
            #expect(taken.text.contains(#"id="email-error""#) && taken.text.contains(#"value="taken@example.com""#))
            let empty = try await browser.post("/console/groups/\(group)/edit", form: ["csrf": csrf, "name": "", "description": "x"],
                                               cookie: session)
            #expect(empty.status == .badRequest && empty.text.contains(#"id="name-error""#))
            let badURL = try await browser.post("/console/products/\(product)/edit",
                                                form: ["csrf": csrf, "name": "Wiki", "url": "javascript:alert(1)"], cookie: session)
            #expect(badURL.status == .badRequest && badURL.text.contains(#"id="url-error""#))
            #expect(try await auditCount(store, org.organization.id) == before, "refused edits change nothing")

            let renamed = try await browser.post("/console/groups/\(group)/edit",
                                                 form: ["csrf": csrf, "name": "Staff + Friends", "description": "Everyone"], cookie: session)
            #expect(renamed.status == .seeOther)
            #expect(try await api.object(.get, "/groups/\(group)", expect: .ok)["name"] as? String == "Staff + Friends")
            let moved = try await browser.post("/console/products/\(product)/edit",
                                               form: ["csrf": csrf, "name": "Wiki", "url": "https://docs.example.com"], cookie: session)
            #expect(moved.status == .seeOther)
            #expect(try await api.object(.get, "/products/\(product)", expect: .ok)["url"] as? String == "https://docs.example.com")
        }
    }

    /// The create forms under the users, groups and products lists show a refused value beside
    /// its field, refill what was typed, and write nothing; an error no text field owns (a
    /// product kind sent by hand) is shown above the button.
    @Test(arguments: Backend.all)
    func createFormsShowARefusedValueBesideItsField(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let api = API(client: client, token: org.apiToken)
            _ = try await api.object(.post, "/users", json: #"{"email":"taken@example.com","displayName":"T"}"#, expect: .created)
            _ = try await api.object(.post, "/groups", json: #"{"name":"Staff"}"#, expect: .created)
            let csrf = try #require(ConsoleBrowser.csrf(in: try await browser.get("/console/users", cookie: session)))
            let before = try await auditCount(store, org.organization.id)

            let taken = try await browser.post("/console/users", form: ["csrf": csrf, "email": "taken@example.com",
                                                                        "display_name": "Grace Allen"], cookie: session)
            #expect(taken.status == .conflict)
            #expect(taken.text.contains(#"<p class="error field-error" id="email-error" role="alert">A user with this email"#))
            #expect(taken.text.contains(#"aria-describedby="email-error""#) && taken.text.contains(#"value="Grace Allen""#))
            #expect(!taken.text.contains(#"id="display_name-error""#) && !taken.text.contains(#"id="form-error""#))
            let badEmail = try await browser.post("/console/users", form: ["csrf": csrf, "email": "not-an-email",
                                                                           "display_name": "Grace"], cookie: session)
            #expect(badEmail.status == .badRequest && badEmail.text.contains(#"id="email-error""#))
            let noName = try await browser.post("/console/users", form: ["csrf": csrf, "email": "g@example.com",
                                                                         "display_name": "  "], cookie: session)
            #expect(noName.status == .badRequest && noName.text.contains(#"id="display_name-error""#))
            #expect(noName.text.contains(#"value="g@example.com""#))

            let group = try await browser.post("/console/groups", form: ["csrf": csrf, "name": "Staff", "description": "Again"],
                                               cookie: session)
            #expect(group.status == .conflict && group.text.contains(#"id="name-error""#) && group.text.contains(#"value="Again""#))

            let badURL = try await browser.post("/console/products", form: ["csrf": csrf, "name": "Wiki", "kind": "wiki",
                                                                            "url": "ftp://wiki"], cookie: session)
            #expect(badURL.status == .badRequest && badURL.text.contains(#"id="url-error""#))
            #expect(badURL.text.contains(#"value="Wiki""#) && badURL.text.contains(#"<option value="wiki" selected>"#))
            let badKind = try await browser.post("/console/products", form: ["csrf": csrf, "name": "Wiki", "kind": "spaceship",
                                                                             "url": "https://wiki.example.com"], cookie: session)
            #expect(badKind.status == .badRequest && badKind.text.contains(#"id="form-error""#))
            #expect(badKind.text.contains("must be one of") && !badKind.text.contains(#"id="name-error""#))
            #expect(try await auditCount(store, org.organization.id) == before, "refused creations write nothing")
        }
    }
}
