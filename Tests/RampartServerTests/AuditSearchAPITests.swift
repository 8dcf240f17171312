import Foundation
import HummingbirdTesting
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// `GET /api/v1/audit-events?q=` and the console's search box: words over action, actor and
/// targets, within one organisation, bounded per request with a cursor to go on.
@Suite("Audit search over the API and the console")
struct AuditSearchAPITests {
    static func seeded(_ client: any TestClientProtocol, _ store: TestStore, domain: String) async throws -> (API, OrganizationProvisioner.Result) {
        let created = try await store.createOrganization()
        let api = API(client: client, token: created.apiToken)
        for name in ["ada", "grace"] {
            _ = try await api.object(.post, "/users", json: #"{"email":"\#(name)@\#(domain)","displayName":"\#(name)"}"#,
                                     expect: .created)
        }
        return (api, created)
    }

    @Test(arguments: Backend.all)
    func wordsFindEventsOfThisOrganisationOnly(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let domain = "s\(UUID().uuidString.prefix(6).lowercased()).example"
            let (api, _) = try await Self.seeded(client, store, domain: domain)
            let (theirs, _) = try await Self.seeded(client, store, domain: domain)
            // `+` is a space, as browsers send a form; `%2B` is a plus sign.
            let found = try await api.object(.get, "/audit-events?q=USER.created+grace%40\(domain)", expect: .ok)
            let events = try #require(found["data"] as? [[String: Any]])
            #expect(events.count == 1, "grace's user.created in this organisation, not the other's")
            #expect(events.first?["action"] as? String == "user.created")
            let progress = try #require(found["search"] as? [String: Any])
            #expect(progress["complete"] as? Bool == true && found["nextCursor"] is NSNull)
            #expect((progress["examined"] as? Int ?? 0) >= 3)
            #expect((try await api.object(.get, "/audit-events?q=a%2Bb+\(domain)", expect: .ok)["data"] as? [Any])?.isEmpty == true)
            #expect((try await api.object(.get, "/audit-events?q=\(domain)&action=user.created", expect: .ok)["data"] as? [Any])?.count == 2)
            #expect((try await theirs.object(.get, "/audit-events?q=\(domain)", expect: .ok)["data"] as? [Any])?.count == 2)
            let plain = try await api.object(.get, "/audit-events?q=+", expect: .ok)
            #expect(plain["search"] == nil, "no words: the plain list")

            for path in ["/audit-events?q=" + String(repeating: "x", count: 201),
                         "/audit-events?q=" + (1...11).map(String.init).joined(separator: "+"),
                         "/audit-events?q=ada&cursor=0"] {
                let response = try await api.call(.get, path)
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.errorCode == "invalid_parameter", "\(path)")
            }
        }
    }

    /// More events than a request examines: the page says how far back it searched and its
    /// link goes on to the one match beyond.
    @Test(arguments: Backend.all)
    func theConsoleSaysHowFarBackItSearchedAndContinues(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id, tag = UUID().uuidString.prefix(8).lowercased()
            try await store.database.write(org: orgID) { t in
                let product = AuditActor(type: .oauthClient, id: "wiki", name: "Wiki")
                try await t.appendAudit([AuditRecord(action: ProductEvent.contentViewed, actor: product,
                                                     targets: [AuditTarget(type: "page", id: "p-\(tag)", name: "Far Back \(tag)")])])
                try await t.appendAudit((0..<AuditSearch.defaultExamineLimit).map { i in
                    AuditRecord(action: ProductEvent.contentViewed, actor: product,
                                targets: [AuditTarget(type: "page", id: "p\(i)", name: "Page \(i)")])
                })
            }
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let first = try await browser.get("/console/audit?q=far+back+\(tag)", cookie: session)
            #expect(first.status == .ok)
            #expect(first.text.contains(#"id="q" name="q" type="search" maxlength="200" value="far back \#(tag)""#))
            #expect(first.text.contains("No events match") && first.text.contains(#"id="searched-back""#))
            #expect(first.text.contains("(\(AuditSearch.defaultExamineLimit) events)"))
            let link = try #require(Self.href(of: "continue-search", in: first.text))
            #expect(link.contains("q=far%20back%20\(tag)"))
            let second = try await browser.get(link, cookie: session)
            #expect(second.text.contains("Far Back \(tag)") && !second.text.contains(#"id="searched-back""#))

            let tooLong = try await browser.get("/console/audit?q=" + String(repeating: "x", count: 201), cookie: session)
            #expect(tooLong.status == .badRequest && tooLong.text.contains(#"id="filter-error""#))
        }
    }

    @Test(arguments: Backend.all)
    func fastFiltersAreLinksToCommonViews(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let browser = ConsoleBrowser(client: client)
            let session = try await ConsoleTests.setUpAdmin(browser, org)
            let page = try await browser.get("/console/audit", cookie: session)
            let failures = try #require(Self.href(of: "fast-signin-failures", in: page.text))
            #expect(failures == "/console/audit?action=auth%2Esignin%5Ffailed")
            let shown = try await browser.get(failures, cookie: session)
            #expect(shown.text.contains(#"id="fast-signin-failures" href="\#(failures)" aria-current="page""#))
            #expect(shown.text.contains(#"id="action" name="action" value="auth.signin_failed""#))
            let day = try #require(Self.href(of: "fast-last-24h", in: page.text))
            #expect(try await browser.get(day, cookie: session).status == .ok)
        }
    }

    /// The `href` of the element with this id, as a browser would follow it.
    static func href(of id: String, in html: String) -> String? {
        guard let start = html.range(of: #"id="\#(id)" href=""#) else { return nil }
        let rest = html[start.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]).replacingOccurrences(of: "&amp;", with: "&") }
    }
}
