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
            #expect(after.text.contains(try #require(checkpoint.treeRoot)), "the tree root an event is proven in")
        }
    }

    /// The retention form as an admin fills it: an empty or non-numeric number of days and a
    /// hold without a reason come back with the message and change nothing; a valid form saves.
    @Test(arguments: Backend.all)
    func theRetentionFormSavesAndRefusesBadInput(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let page = try await browser.get("/console/audit", cookie: session)
            #expect(page.text.contains(#"id="retention-form""#) && page.text.contains("kept 400 days"))
            let csrf = try #require(ConsoleBrowser.csrf(in: page))
            for form in [["retentionDays": ""], ["retentionDays": "a year"], ["retentionDays": "0"],
                         ["retentionDays": "400", "legalHold": "on", "legalHoldReason": " "]] {
                let refused = try await browser.post("/console/audit/retention", form: form.merging(["csrf": csrf]) { a, _ in a },
                                                     cookie: session)
                #expect(refused.status == .badRequest, "\(form)")
                #expect(refused.text.contains(#"id="retention-error""#), "\(form)")
            }
            #expect(try await store.database.read(org: orgID) { try await $0.auditRetention() } == AuditRetention())
            let saved = try await browser.post("/console/audit/retention", form: [
                "csrf": csrf, "retentionDays": " 730 ", "legalHold": "on", "legalHoldReason": "Case 2026-114",
            ], cookie: session)
            #expect(saved.status == .seeOther)
            let retention = try await store.database.read(org: orgID) { try await $0.auditRetention() }
            #expect(retention.retentionDays == 730 && retention.legalHold && retention.legalHoldReason == "Case 2026-114")
            let after = try await browser.get(try #require(saved.headers[.location]), cookie: session)
            #expect(after.text.contains("Retention saved") && after.text.contains("Legal hold</strong>"))
            // Unticking the box releases the hold.
            _ = try await browser.post("/console/audit/retention", form: ["csrf": csrf, "retentionDays": "730"], cookie: session)
            #expect(try await store.database.read(org: orgID) { try await $0.auditRetention() }.legalHold == false)
        }
    }
}
