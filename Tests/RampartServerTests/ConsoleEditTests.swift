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
}
