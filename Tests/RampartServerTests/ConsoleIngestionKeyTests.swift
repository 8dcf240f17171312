import Foundation
import HummingbirdTesting
import RampartCore
import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// The product page's ingestion keys: an empty or control-character name is refused beside the
/// field with nothing written; a good one shows its secret once; revoking marks it revoked.
@Suite("Console ingestion keys")
struct ConsoleIngestionKeyTests {
    @Test(arguments: Backend.all)
    func theProductPageCreatesAndRevokesKeys(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let product = try await store.database.write(org: orgID) {
                try await $0.createProduct(name: "Tracker", kind: .custom, url: "https://tracker.example.com", by: .system)
            }
            let page = try await browser.get("/console/products/\(product.id)", cookie: session)
            #expect(page.text.contains("Product events") && page.text.contains(#"id="create-ingestion-key""#))
            let csrf = try #require(ConsoleBrowser.csrf(in: page))

            let before = try await auditCount(store, orgID)
            for bad in ["", "   ", "line\nbreak"] {
                let refused = try await browser.post("/console/products/\(product.id)/ingestion-keys",
                                                     form: ["csrf": csrf, "name": bad], cookie: session)
                #expect(refused.status == .badRequest, "\(bad.debugDescription): \(refused.text)")
                #expect(refused.text.contains(#"id="name-error""#))
                #expect(!refused.text.contains("rik_"))
            }
            #expect(try await auditCount(store, orgID) == before, "a refused form writes nothing")
            let missingCSRF = try await browser.post("/console/products/\(product.id)/ingestion-keys", form: ["name": "x"], cookie: session)
            #expect(missingCSRF.status == .forbidden)

            let created = try await browser.post("/console/products/\(product.id)/ingestion-keys",
                                                 form: ["csrf": csrf, "name": "tracker prod"], cookie: session)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.text.contains(#"id="ingestion-key-secret">rik_"#))
            let key = try #require(try await store.database.read(org: orgID) { try await $0.ingestionKeys() }.first)
            #expect(key.name == "tracker prod" && key.productID == product.id && key.revokedAt == nil)
            let again = try await browser.get("/console/products/\(product.id)", cookie: session)
            #expect(again.text.contains("tracker prod") && !again.text.contains("rik_"), "the secret is shown once")

            let revoked = try await browser.post("/console/products/\(product.id)/ingestion-keys/\(key.id)/revoke",
                                                 form: ["csrf": csrf], cookie: session)
            #expect(revoked.status == .seeOther)
            #expect(try await store.database.read(org: orgID) { try await $0.requireIngestionKey(key.id) }.revokedAt != nil)
        }
    }
}
