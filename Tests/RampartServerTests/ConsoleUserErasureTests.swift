import Foundation
import HummingbirdTesting
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// The user page's "Erase from the audit log…": a confirmation, then the same erasure as the
/// API; the audit page then reads the person as "erased user".
@Suite("Console user erasure")
struct ConsoleUserErasureTests {
    @Test(arguments: Backend.all)
    func anAdminConfirmsAndTheAuditPageShowsAnErasedUser(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let email = "console.erase.\(UUID().uuidString.prefix(6).lowercased())@example.com"
            let user = try await store.database.write(org: orgID) {
                try await $0.createUser(email: email, displayName: "Console Erase", by: .system)
            }
            let page = try await browser.get("/console/users/\(user.id)", cookie: session)
            #expect(page.text.contains(#"action="/console/users/\#(user.id)/erase""#))
            let confirm = try await browser.get("/console/users/\(user.id)/erase", cookie: session)
            #expect(confirm.status == .ok && confirm.text.contains("Erase \(email) from the audit log?"))
            let csrf = try #require(ConsoleBrowser.csrf(in: confirm))
            let before = try await auditCount(store, orgID)
            let forged = try await browser.post("/console/users/\(user.id)/erase", form: ["csrf": "forged"], cookie: session)
            #expect(forged.status != .seeOther)
            #expect(try await auditCount(store, orgID) == before, "a forged form erases nothing")

            let done = try await browser.post("/console/users/\(user.id)/erase", form: ["csrf": csrf], cookie: session)
            #expect(done.status == .seeOther && done.headers[.location] == "/console/users?done=user-erased")
            let audit = try await browser.get("/console/audit", cookie: session)
            #expect(audit.text.contains("user.erased") && audit.text.contains("erased user"))
            #expect(!audit.text.contains(email))
            #expect(try await store.database.read(org: orgID) { try await $0.user(user.id) } == nil)
        }
    }
}
