import HummingbirdTesting
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// The audit log page names the newest signed checkpoint. (Whether there is one before is
/// up to the checkpointer every test application runs, so only the page after is checked.)
@Suite("Console audit checkpoint")
struct ConsoleAuditCheckpointTests {
    @Test(arguments: Backend.all)
    func theAuditPageShowsTheLatestCheckpoint(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let keys = store.keys
            let checkpoint = try #require(try await store.database.write(org: org.organization.id) {
                try await $0.signAuditCheckpoint(keys: keys)
            })
            let after = try await browser.get("/console/audit", cookie: session)
            #expect(after.text.contains(#"id="checkpoint""#) && after.text.contains("event \(checkpoint.sequence),"))
            #expect(after.text.contains(checkpoint.headHash))
        }
    }
}
