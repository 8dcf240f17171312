import Foundation
import HummingbirdTesting
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// The audit page's "Prepare export" buttons: a job with the page's filters, a page that
/// reloads itself while it runs, then the download.
@Suite("Console audit exports")
struct ConsoleAuditExportTests {
    @Test(arguments: Backend.all)
    func aPreparedExportIsFollowedToItsDownload(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let page = try await browser.get("/console/audit?action=user.", cookie: session)
            #expect(page.text.contains(#"id="prepare-csv""#) && page.text.contains(#"name="action" value="user.""#))
            #expect(!page.text.contains(#"id="prepare-bundle""#), "a filtered page offers no bundle")
            let csrf = try #require(ConsoleBrowser.csrf(in: page))

            let prepared = try await browser.post("/console/audit/exports", form: [
                "csrf": csrf, "format": "csv", "action": "user.", "actor": "", "target": "", "since": "", "until": "",
            ], cookie: session)
            #expect(prepared.status == .seeOther, "\(prepared.text)")
            let location = try #require(prepared.headers[.location])
            #expect(location.hasPrefix("/console/audit/exports/"))
            let deadline = ContinuousClock.now + .seconds(30)
            var job = try await browser.get(location, cookie: session)
            while !job.text.contains(#"id="download-export""#), ContinuousClock.now < deadline {
                #expect(job.text.contains(#"<meta http-equiv="refresh" content="2">"#))
                try await Task.sleep(for: .milliseconds(100))
                job = try await browser.get(location, cookie: session)
            }
            #expect(!job.text.contains("http-equiv=\"refresh\""), "a finished job's page stays still")
            let total = try await auditCount(store, orgID)
            #expect(job.text.contains("\(total) of \(total) events (100 %)"), "\(job.text)")
            #expect(job.text.contains("action user."))
            let link = try #require(job.text.firstMatch(of: #/href="(/console/audit/exports/[^"]+/download)"/#)?.output.1)
            let download = try await browser.get(String(link), cookie: session)
            #expect(download.status == .ok && download.headers[.contentType] == "text/csv; charset=utf-8")
            let streamed = try await browser.get("/console/audit/export?format=csv&action=user.", cookie: session)
            #expect(download.text == streamed.text && download.text.contains("user.created"))

            let audit = try await browser.get("/console/audit", cookie: session)
            #expect(audit.text.contains(#"id="recent-exports""#) && audit.text.contains(location))
            #expect(try await browser.get(String(link)).status != .ok, "no download without a session")
        }
    }

    /// A saved view with search words: its page's export forms and download links carry the
    /// words, the job keeps them and shows them, and its file holds only the events they find.
    @Test(arguments: Backend.all)
    func anExportOfASavedSearchKeepsItsWords(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id, tag = UUID().uuidString.prefix(8).lowercased()
            try await store.database.write(org: orgID) { t in
                for name in ["ada", "grace"] {
                    _ = try await t.createUser(email: "\(name).\(tag)@example.com", displayName: name.capitalized, by: .system)
                }
            }
            let saved = try await store.database.write(org: orgID) {
                try await $0.saveAuditFilter(name: "Ada", view: .init(q: "ADA.\(tag)@example.com"), by: .system)
            }
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let audit = try await browser.get("/console/audit", cookie: session)
            let view = try #require(AuditFiltersAPITests.attribute("href", of: "saved-\(saved.id)", in: audit.text))
            let page = try await browser.get(view, cookie: session)
            #expect(page.text.contains(#"<input type="hidden" name="q" value="ADA.\#(tag)@example.com">"#), "\(page.text)")
            #expect(!page.text.contains("not the search words"))
            let link = try #require(AuditFiltersAPITests.attribute("href", of: "download-csv", in: page.text))
            let streamed = try await browser.get(link, cookie: session)
            let rows = streamed.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.count == 2 && rows[1].contains("ada.\(tag)@example.com"), "\(rows)")

            let csrf = try #require(ConsoleBrowser.csrf(in: page))
            let prepared = try await browser.post("/console/audit/exports", form: [
                "csrf": csrf, "format": "csv", "q": "ADA.\(tag)@example.com", "action": "", "actor": "", "target": "",
                "since": "", "until": "",
            ], cookie: session)
            let location = try #require(prepared.headers[.location])
            let id = String(location.split(separator: "/").last!)
            let deadline = ContinuousClock.now + .seconds(30)
            var job = try await browser.get(location, cookie: session)
            while !job.text.contains(#"id="download-export""#), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                job = try await browser.get(location, cookie: session)
            }
            #expect(job.text.contains(#"<dd id="export-search">ada.\#(tag)@example.com</dd>"#), "\(job.text)")
            #expect(job.text.contains("1 kept by the filters and search words"), "\(job.text)")
            let download = try await browser.get("/console/audit/exports/\(id)/download", cookie: session)
            #expect(download.text == streamed.text)
            let list = try await browser.get("/console/audit", cookie: session)
            #expect(list.text.contains("search ada.\(tag)@example.com"))
        }
    }

    /// A running job's page shows how far it is and reloads itself; no download yet.
    @Test(arguments: Backend.all)
    func aRunningJobsPageShowsItsProgressAndReloads(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            // Held by a node that is still alive (its lease runs), part way through.
            let job = try await store.database.write(org: org.organization.id) { tenant in
                let job = try await tenant.createAuditExport(format: "jsonl", filter: .init(), by: .system)
                let until = Timestamp.now().adding(seconds: 120)
                _ = try #require(try await tenant.claimAuditExport(job.id, owner: "another-node", until: until))
                _ = try await tenant.recordAuditExportProgress(job.id, owner: "another-node", until: until, eventsRead: 1,
                                                               eventsWritten: 1, output: [], done: false)
                return job
            }
            let page = try await browser.get("/console/audit/exports/\(job.id)", cookie: session)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<meta http-equiv="refresh" content="2">"#))
            #expect(page.text.contains("1 of \(job.eventsTotal) events (\(100 / job.eventsTotal) %)"), "\(page.text)")
            #expect(!page.text.contains(#"id="download-export""#))
            let early = try await browser.get("/console/audit/exports/\(job.id)/download", cookie: session)
            #expect(early.status == .conflict)
        }
    }

    /// Delete on the job page asks first, then removes the job as `DELETE /audit-exports/{id}`
    /// does, with its event; another organisation's job is not found, and nothing of it changes.
    @Test(arguments: Backend.all)
    func aJobIsDeletedFromItsPageAfterConfirmation(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let job = try await store.database.write(org: orgID) {
                try await $0.createAuditExport(format: "csv", filter: .init(action: "user."), by: .system)
            }
            let page = try await browser.get("/console/audit/exports/\(job.id)", cookie: session)
            #expect(page.text.contains(#"<form method="get" action="/console/audit/exports/\#(job.id)/delete">"#))
            let list = try await browser.get("/console/audit", cookie: session)
            #expect(list.text.contains(#"id="delete-export-\#(job.id)" href="/console/audit/exports/\#(job.id)/delete""#))
            let csrf = try #require(ConsoleBrowser.csrf(in: page))

            let confirm = try await browser.get("/console/audit/exports/\(job.id)/delete", cookie: session)
            #expect(confirm.status == .ok && confirm.text.contains("Delete the csv export requested"), "\(confirm.text)")
            #expect(confirm.text.contains(#"action="/console/audit/exports/\#(job.id)/delete""#))
            let head = try await auditCount(store, orgID)
            #expect(try await browser.post("/console/audit/exports/\(job.id)/delete", form: [:], cookie: session).status == .forbidden)

            // Another organisation's admin neither sees the question nor deletes the job.
            let other = try await store.createOrganization()
            let otherBrowser = ConsoleBrowser(client: client)
            let otherSession = try await ConsoleTests.setUpAdmin(otherBrowser, other)
            let otherCSRF = try #require(ConsoleBrowser.csrf(in: try await otherBrowser.get("/console/audit", cookie: otherSession)))
            #expect(try await otherBrowser.get("/console/audit/exports/\(job.id)/delete", cookie: otherSession).status == .notFound)
            let foreign = try await otherBrowser.post("/console/audit/exports/\(job.id)/delete", form: ["csrf": otherCSRF],
                                                      cookie: otherSession)
            #expect(foreign.status == .notFound)
            #expect(try await store.database.read(org: orgID) { try await $0.auditExports() }.map(\.id) == [job.id])
            #expect(try await auditCount(store, orgID) == head, "asking and refusing wrote nothing")

            let deleted = try await browser.post("/console/audit/exports/\(job.id)/delete", form: ["csrf": csrf], cookie: session)
            #expect(deleted.status == .seeOther && deleted.headers[.location] == "/console/audit?done=export-deleted")
            #expect(try await store.database.read(org: orgID) { try await $0.auditExports() }.isEmpty)
            #expect(try await browser.get("/console/audit/exports/\(job.id)", cookie: session).status == .notFound)
            let events = try await store.database.read(org: orgID) { try await $0.auditEvents(AuditQuery(action: "audit.export_deleted")) }
            let event = try #require(events.items.first)
            #expect(event.action == "audit.export_deleted" && event.targetsJSON.contains(job.id))
            #expect(event.actor.type == .user && event.actor.id == org.admin.id, "the console's admin deleted it")
            #expect(try await auditCount(store, orgID) == head + 1)
        }
    }

    @Test(arguments: Backend.all)
    func badFormsMakeNoJob(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let csrf = try #require(ConsoleBrowser.csrf(in: try await browser.get("/console/audit", cookie: session)))
            let before = try await auditCount(store, org.organization.id)
            for form in [["format": "csv"], ["csrf": csrf, "format": "xml"], ["csrf": csrf, "format": "bundle", "action": "user."],
                         ["csrf": csrf, "format": "csv", "since": "yesterday"], ["csrf": csrf, "format": "bundle", "q": "ada"],
                         ["csrf": csrf, "format": "csv", "q": String(repeating: "x", count: 201)]] {
                let refused = try await browser.post("/console/audit/exports", form: form, cookie: session)
                #expect([.forbidden, .badRequest].contains(refused.status), "\(form): \(refused.status)")
            }
            #expect(try await store.database.read(org: org.organization.id) { try await $0.auditExports() }.isEmpty)
            #expect(try await auditCount(store, org.organization.id) == before)
        }
    }
}
