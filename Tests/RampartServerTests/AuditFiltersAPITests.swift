import Foundation
import HummingbirdTesting
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// `/api/v1/audit-filters` and the audit page's "Save this view": the same saved filters,
/// one organisation's only, bad input refused with a stable error and nothing written.
@Suite("Audit saved filters over the API and the console")
struct AuditFiltersAPITests {
    @Test(arguments: Backend.all)
    func savedListedAndDeletedOverTheAPI(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let created = try await store.createOrganization()
            let orgID = created.organization.id
            let api = API(client: client, token: created.apiToken)
            let saved = try await api.object(.post, "/audit-filters", json: #"""
                {"name":"Sign-in failures","action":"auth.signin_failed","q":"ada  lovelace","since":"2026-11-01T00:00:00Z","actor":null}
                """#, expect: .created)
            #expect(saved["name"] as? String == "Sign-in failures" && saved["q"] as? String == "ada lovelace")
            #expect((saved["since"] as? String)?.hasPrefix("2026-11-01T00:00:00") == true && saved["actor"] is NSNull)
            let id = try #require(saved["id"] as? String)
            let listed = try await api.object(.get, "/audit-filters", expect: .ok)["data"] as? [[String: Any]]
            #expect(listed?.map { $0["id"] as? String } == [id])

            let head = try await auditCount(store, orgID)
            let refused: [(String, String)] = [
                (#"{"name":"sign-in FAILURES","action":"user."}"#, "conflict"),
                (#"{"name":"","action":"user."}"#, "invalid_field"),
                (#"{"name":"Nothing"}"#, "invalid_field"),
                (#"{"name":"Odd","colour":"red","action":"user."}"#, "unknown_field"),
                (#"{"name":"Bad time","since":"yesterday"}"#, "invalid_json"),
                (#"{"action":"user."}"#, "invalid_field"),
            ]
            for (body, code) in refused {
                let response = try await api.call(.post, "/audit-filters", json: body)
                #expect(response.status == (code == "conflict" ? .conflict : .badRequest), "\(body)")
                #expect(response.errorCode == code || (code == "invalid_json" && response.errorCode != nil), "\(body): \(response.text)")
            }
            #expect(try await api.call(.delete, "/audit-filters/\(Identifier.make())").status == .notFound)
            #expect(try await auditCount(store, orgID) == head, "nothing refused wrote an event")

            // Another organisation neither sees nor deletes it.
            let other = try await store.createOrganization()
            let theirs = API(client: client, token: other.apiToken)
            #expect((try await theirs.object(.get, "/audit-filters", expect: .ok)["data"] as? [Any])?.isEmpty == true)
            #expect(try await theirs.call(.delete, "/audit-filters/\(id)").status == .notFound)

            #expect(try await api.call(.delete, "/audit-filters/\(id)").status == .noContent)
            #expect((try await api.object(.get, "/audit-filters", expect: .ok)["data"] as? [Any])?.isEmpty == true)
            let actions = try await store.database.read(org: orgID) { try await $0.auditEvents(AuditQuery(action: "audit_filter.")) }
            #expect(actions.items.map(\.action) == ["audit_filter.deleted", "audit_filter.created"])
        }
    }

    /// `PATCH` renames and changes the view; `null` clears a field and one left out is kept;
    /// every refusal is a stable error that changes nothing; another organisation's id is 404.
    @Test(arguments: Backend.all)
    func renamedAndChangedOverTheAPI(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let created = try await store.createOrganization()
            let orgID = created.organization.id
            let api = API(client: client, token: created.apiToken)
            let saved = try await api.object(.post, "/audit-filters", json: #"""
                {"name":"Failures","action":"auth.signin_failed","q":"ada","since":"2026-11-01T00:00:00Z"}
                """#, expect: .created)
            let id = try #require(saved["id"] as? String)
            _ = try await api.object(.post, "/audit-filters", json: #"{"name":"Role changes","action":"role."}"#, expect: .created)

            let head = try await auditCount(store, orgID)
            let long = String(repeating: "n", count: AuditSavedFilter.maxNameLength + 1)
            let refused: [(String, String)] = [
                (#"{"name":"role CHANGES"}"#, "conflict"),
                (#"{"name":""}"#, "invalid_field"),
                (#"{"name":"\#(long)"}"#, "invalid_field"),
                (#"{"name":null}"#, "invalid_field"),
                (#"{}"#, "invalid_field"),
                (#"{"colour":"red"}"#, "unknown_field"),
                (#"{"until":"2026-10-01T00:00:00Z"}"#, "invalid_field"),
                (#"{"q":null,"action":null,"since":null}"#, "invalid_field"),
                (#"{"name":"Renamed","since":"yesterday"}"#, "invalid_json"),
                (#"[]"#, "invalid_json"),
            ]
            for (body, code) in refused {
                let response = try await api.call(.patch, "/audit-filters/\(id)", json: body)
                #expect(response.status == (code == "conflict" ? .conflict : .badRequest), "\(body)")
                #expect(response.errorCode == code || (code == "invalid_json" && response.errorCode != nil), "\(body): \(response.text)")
            }
            #expect(try await api.call(.patch, "/audit-filters/\(Identifier.make())", json: #"{"name":"X"}"#).status == .notFound)
            let other = try await store.createOrganization()
            let theirs = API(client: client, token: other.apiToken)
            #expect(try await theirs.call(.patch, "/audit-filters/\(id)", json: #"{"name":"Taken over"}"#).status == .notFound)
            #expect(try await auditCount(store, orgID) == head, "nothing refused wrote an event")
            let unchanged = try await api.object(.get, "/audit-filters", expect: .ok)["data"] as? [[String: Any]]
            #expect(unchanged?.first { $0["id"] as? String == id }?["name"] as? String == "Failures")

            let changed = try await api.object(.patch, "/audit-filters/\(id)", json: #"""
                {"name":"Sign-in failures","q":null,"until":"2026-12-01T00:00:00Z"}
                """#, expect: .ok)
            #expect(changed["id"] as? String == id && changed["name"] as? String == "Sign-in failures")
            #expect(changed["q"] is NSNull && changed["action"] as? String == "auth.signin_failed")
            #expect((changed["since"] as? String)?.hasPrefix("2026-11-01T00:00:00") == true)
            #expect((changed["until"] as? String)?.hasPrefix("2026-12-01T00:00:00") == true)
            let listed = try await api.object(.get, "/audit-filters", expect: .ok)["data"] as? [[String: Any]]
            #expect(listed?.map { $0["name"] as? String } == ["Role changes", "Sign-in failures"])
            let events = try await store.database.read(org: orgID) { try await $0.auditEvents(AuditQuery(action: "audit_filter.updated")) }
            #expect(events.items.count == 1 && events.items.first?.detailsJSON == #"{"changed":["name","q","until"]}"#)
            #expect(try await auditCount(store, orgID) == head + 1)
        }
    }

    /// "edit" beside a saved filter: its form holds the name and the view; a refusal comes back
    /// beside its field and changes nothing; saving goes back to the audit page.
    @Test(arguments: Backend.all)
    func theAuditPageRenamesAndEditsASavedFilter(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let filter = try await store.database.write(org: orgID) { t in
                _ = try await t.saveAuditFilter(name: "Role changes", view: .init(action: "role."), by: .system)
                return try await t.saveAuditFilter(name: "New users", view: .init(q: "ada", action: "user."), by: .system)
            }
            let audit = try await browser.get("/console/audit", cookie: session)
            #expect(Self.attribute("href", of: "edit-saved-\(filter.id)", in: audit.text) == "/console/audit/filters/\(filter.id)/edit")
            let form = try await browser.get("/console/audit/filters/\(filter.id)/edit", cookie: session)
            #expect(form.status == .ok)
            #expect(Self.attribute("value", of: "name", in: form.text) == "New users")
            #expect(Self.attribute("value", of: "q", in: form.text) == "ada" && Self.attribute("value", of: "action", in: form.text) == "user.")
            #expect(Self.attribute("href", of: "cancel", in: form.text) == "/console/audit")
            let csrf = try #require(ConsoleBrowser.csrf(in: form))
            let head = try await auditCount(store, orgID)
            let typed = ["csrf": csrf, "name": "Newcomers", "q": "", "action": "user.", "actor": "", "target": "", "since": "", "until": ""]

            let taken = try await browser.post("/console/audit/filters/\(filter.id)/edit", form: typed.merging(["name": "ROLE changes"]) { $1 },
                                               cookie: session)
            #expect(taken.status == .conflict && taken.text.contains(#"id="name-error""#), "\(taken.text)")
            let badTime = try await browser.post("/console/audit/filters/\(filter.id)/edit", form: typed.merging(["since": "yesterday"]) { $1 },
                                                 cookie: session)
            #expect(badTime.status == .badRequest && badTime.text.contains(#"id="since-error""#))
            #expect(Self.attribute("value", of: "name", in: badTime.text) == "Newcomers", "the form as it was typed")
            let empty = try await browser.post("/console/audit/filters/\(filter.id)/edit", form: typed.merging(["action": ""]) { $1 },
                                               cookie: session)
            #expect(empty.status == .badRequest && empty.text.contains("at least one of"))
            let forged = try await browser.post("/console/audit/filters/\(filter.id)/edit", form: typed.merging(["csrf": ""]) { $1 },
                                                cookie: session)
            #expect(forged.status == .forbidden)
            #expect(try await auditCount(store, orgID) == head)
            #expect(try await store.database.read(org: orgID) { try await $0.auditFilter(filter.id) } == filter)

            let saved = try await browser.post("/console/audit/filters/\(filter.id)/edit", form: typed, cookie: session)
            #expect(saved.status == .seeOther && saved.headers[.location] == "/console/audit?done=updated")
            let edited = try #require(try await store.database.read(org: orgID) { try await $0.auditFilter(filter.id) })
            #expect(edited.name == "Newcomers" && edited.view == .init(action: "user."))
            let events = try await store.database.read(org: orgID) { try await $0.auditEvents(AuditQuery(action: "audit_filter.updated")) }
            #expect(events.items.map(\.detailsJSON) == [#"{"changed":["name","q"]}"#])
            #expect(events.items.first?.actor.id == org.admin.id)
            #expect(try await browser.get("/console/audit?done=updated", cookie: session).text.contains(">Newcomers</a>"))

            let other = try await store.createOrganization()
            let otherBrowser = ConsoleBrowser(client: client)
            let otherSession = try await ConsoleTests.setUpAdmin(otherBrowser, other)
            let otherCSRF = try #require(ConsoleBrowser.csrf(in: try await otherBrowser.get("/console/audit", cookie: otherSession)))
            #expect(try await otherBrowser.get("/console/audit/filters/\(filter.id)/edit", cookie: otherSession).status == .notFound)
            let foreign = try await otherBrowser.post("/console/audit/filters/\(filter.id)/edit",
                                                      form: typed.merging(["csrf": otherCSRF, "name": "Taken over"]) { $1 }, cookie: otherSession)
            #expect(foreign.status == .notFound)
            #expect(try await store.database.read(org: orgID) { try await $0.auditFilter(filter.id) } == edited)
        }
    }

    /// Save the view on screen; an empty name comes back beside the field with the view kept;
    /// the saved list links to the view; deleting asks first.
    @Test(arguments: Backend.all)
    func theAuditPageSavesListsAndDeletesViews(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let view = "/console/audit?q=user.created+a%2Bb&action=user."
            let page = try await browser.get(view, cookie: session)
            #expect(page.text.contains(#"id="save-view-form""#))
            let action = try #require(Self.attribute("action", of: "save-view-form", in: page.text))
            #expect(action == "/console/audit/filters?action=user%2E&q=user%2Ecreated%20a%2Bb")
            let csrf = try #require(ConsoleBrowser.csrf(in: page))
            let head = try await auditCount(store, orgID)

            let empty = try await browser.post(action, form: ["csrf": csrf, "name": "  "], cookie: session)
            #expect(empty.status == .badRequest)
            #expect(empty.text.contains(#"aria-describedby="name-error""#) && empty.text.contains(#"id="name-error""#))
            #expect(empty.text.contains(#"value="user.created a+b""#), "the view is still on screen")
            #expect(try await auditCount(store, orgID) == head)

            let saved = try await browser.post(action, form: ["csrf": csrf, "name": "New users"], cookie: session)
            #expect(saved.status == .seeOther)
            let location = try #require(saved.headers[.location])
            #expect(location == "/console/audit?done=filter-saved&action=user%2E&q=user%2Ecreated%20a%2Bb")
            let filter = try #require(try await store.database.read(org: orgID) { try await $0.auditFilters() }.first)
            #expect(filter.view == .init(q: "user.created a+b", action: "user."))

            let twice = try await browser.post(action, form: ["csrf": csrf, "name": "new USERS"], cookie: session)
            #expect(twice.status == .conflict && twice.text.contains("already exists"))
            let noCSRF = try await browser.post(action, form: ["name": "Forged"], cookie: session)
            #expect(noCSRF.status == .forbidden)

            let listed = try await browser.get(location, cookie: session)
            #expect(listed.text.contains("View saved"))
            let link = try #require(Self.attribute("href", of: "saved-\(filter.id)", in: listed.text))
            #expect(link == "/console/audit?action=user%2E&q=user%2Ecreated%20a%2Bb")
            let confirm = try await browser.get("/console/audit/filters/\(filter.id)/delete", cookie: session)
            #expect(confirm.status == .ok && confirm.text.contains("Delete the saved filter New users?"))
            #expect(try await store.database.read(org: orgID) { try await $0.auditFilters() }.count == 1, "asking deletes nothing")
            let deleted = try await browser.post("/console/audit/filters/\(filter.id)/delete", form: ["csrf": csrf], cookie: session)
            #expect(deleted.status == .seeOther)
            #expect(try await store.database.read(org: orgID) { try await $0.auditFilters() }.isEmpty)
            let other = try await store.createOrganization()
            let mine = try await store.database.write(org: orgID) {
                try await $0.saveAuditFilter(name: "Mine", view: .init(action: "user."), by: .system)
            }
            let otherBrowser = ConsoleBrowser(client: client)
            let otherSession = try await ConsoleTests.setUpAdmin(otherBrowser, other)
            #expect(!(try await otherBrowser.get("/console/audit", cookie: otherSession)).text.contains(mine.id))
            #expect(try await otherBrowser.get("/console/audit/filters/\(mine.id)/delete", cookie: otherSession).status == .notFound)
        }
    }

    /// The value of `name` on the element with this id, as a browser reads it.
    static func attribute(_ name: String, of id: String, in html: String) -> String? {
        guard let element = html.range(of: #"id="\#(id)""#) else { return nil }
        let tagStart = html[..<element.lowerBound].lastIndex(of: "<") ?? element.lowerBound
        let tag = html[tagStart...].prefix { $0 != ">" }
        guard let start = tag.range(of: #" \#(name)=""#) else { return nil }
        return String(tag[start.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
    }
}
