import Foundation
import HTTPTypes
import HummingbirdTesting
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// `GET /api/v1/audit-events/export`: the log as one streamed download, in the CLI's formats.
@Suite("Audit export over the API")
struct AuditExportAPITests {
    static let exportHead = HTTPField.Name("Rampart-Export-Head")!

    /// An organisation with a few users made through the API, so its log has several actions.
    func seeded(_ client: any TestClientProtocol, _ store: TestStore) async throws -> (API, String, Int64) {
        let created = try await store.createOrganization()
        let api = API(client: client, token: created.apiToken)
        for name in ["ada", "grace", "linus"] {
            _ = try await api.object(.post, "/users", json: #"{"email":"\#(name)@export.example","displayName":"\#(name)"}"#,
                                     expect: .created)
        }
        return (api, created.organization.id, try await auditCount(store, created.organization.id))
    }

    @Test(arguments: Backend.all)
    func jsonLinesHoldEveryEventOldestFirst(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID, head) = try await seeded(client, store)
            let response = try await api.call(.get, "/audit-events/export")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/x-ndjson")
            #expect(response.headers[Self.exportHead] == String(head))
            #expect(response.headers[HTTPField.Name("Content-Disposition")!] == "attachment; filename=\"audit-\(orgID)-\(head).jsonl\"")
            let lines = response.text.split(separator: "\n").map {
                try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
            #expect(lines.map { $0["sequence"] as? Int } == (1...Int(head)).map { $0 })
            // The organisation's first admin, then the three made above.
            #expect(lines.filter { $0["action"] as? String == "user.created" }.count == 4)
        }
    }

    @Test(arguments: Backend.all)
    func filtersKeepWhatTheListWouldShow(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, _, _) = try await seeded(client, store)
            let response = try await api.call(.get, "/audit-events/export?format=csv&action=user.")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
            let rows = response.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.first?.hasPrefix("sequence,occurredAt,action,") == true)
            let listed = try await api.object(.get, "/audit-events?action=user.&limit=200", expect: .ok)["data"] as! [[String: Any]]
            #expect(rows.count - 1 == listed.count)
            #expect(rows.dropFirst().allSatisfy { $0.split(separator: ",")[2].hasPrefix("user.") })
            let user = try #require(listed.first(where: { $0["action"] as? String == "user.created" }))
            let target = try #require((user["targets"] as? [[String: Any]])?.first?["id"] as? String)
            let byTarget = try await api.call(.get, "/audit-events/export?format=jsonl&target=\(target)")
            #expect(byTarget.text.split(separator: "\n").count
                == (try await api.object(.get, "/audit-events?target=\(target)&limit=200", expect: .ok)["data"] as! [Any]).count)
        }
    }

    @Test(arguments: Backend.all)
    func aBundleHoldsEveryEventAsStoredAndVerifies(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID, head) = try await seeded(client, store)
            let response = try await api.call(.get, "/audit-events/export?format=bundle")
            #expect(response.status == .ok)
            let lines = try response.text.split(separator: "\n").map {
                try JSONDecoder().decode(AuditBundle.Line.self, from: Data($0.utf8))
            }
            #expect(lines.first?.header?.events == head)
            #expect(lines.first?.header?.orgId == orgID)
            let events = lines.compactMap(\.event).map { $0.event(orgID: orgID) }
            #expect(events.map(\.sequence) == Array(1...head))
            var previous = AuditChain.genesisHash
            for event in events {
                #expect(event.previousHash == previous)
                previous = event.hash
            }
            let stored = try await store.database.read(org: orgID) { try await $0.auditEvents(after: 0, limit: 1000, as: .stored) }
            #expect(events == stored)
        }
    }

    @Test(arguments: Backend.all)
    func badRequestsAreRefusedBeforeAnythingIsSent(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, _, _) = try await seeded(client, store)
            for path in ["/audit-events/export?format=xml", "/audit-events/export?format=bundle&action=user.",
                         "/audit-events/export?since=yesterday"] {
                let response = try await api.call(.get, path)
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.errorCode == "invalid_parameter", "\(path)")
            }
            #expect(try await api.call(.get, "/audit-events/export", token: "rmp_not_a_token").status == .unauthorized)
        }
    }

    /// `q` keeps exactly the events the list's search finds, in every format, oldest first.
    @Test(arguments: Backend.all)
    func searchWordsKeepExactlyWhatTheListFinds(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, _, _) = try await seeded(client, store)
            let listed = try await api.object(.get, "/audit-events?q=GRACE+export.example&limit=200", expect: .ok)["data"] as! [[String: Any]]
            let sequences = listed.compactMap { $0["sequence"] as? Int }.sorted()
            #expect(!sequences.isEmpty)
            #expect(sequences.count < (try await api.object(.get, "/audit-events?limit=200", expect: .ok)["data"] as! [Any]).count)

            let jsonl = try await api.call(.get, "/audit-events/export?format=jsonl&q=GRACE+export.example")
            #expect(jsonl.status == .ok)
            #expect(jsonl.text.split(separator: "\n").map {
                (try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["sequence"] as? Int
            } == sequences)
            let csv = try await api.call(.get, "/audit-events/export?format=csv&q=GRACE+export.example")
            let rows = csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.dropFirst()
            #expect(rows.map { Int($0.split(separator: ",")[0]) } == sequences)
            for format in ["cef", "ocsf"] {
                let response = try await api.call(.get, "/audit-events/export?format=\(format)&q=GRACE+export.example")
                #expect(response.status == .ok)
                let lines = response.text.split(separator: "\n")
                #expect(lines.count == sequences.count, "\(format)")
                #expect(lines.allSatisfy { $0.contains("grace@export.example") }, "\(format)")
            }
            // Words and filters together, as on the list.
            let both = try await api.call(.get, "/audit-events/export?format=jsonl&q=grace&action=user.updated")
            #expect(both.status == .ok && both.text.isEmpty)
        }
    }

    /// Search words are checked as the list checks them, with the same message; a bundle,
    /// which must hold the whole log to verify, refuses them.
    @Test(arguments: Backend.all)
    func searchWordsAreCheckedAsTheListChecksThem(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, _, _) = try await seeded(client, store)
            for q in [String(repeating: "x", count: 201), (1...11).map(String.init).joined(separator: "+"), "a%00b"] {
                let list = try await api.call(.get, "/audit-events?q=\(q)")
                let export = try await api.call(.get, "/audit-events/export?format=csv&q=\(q)")
                #expect(export.status == .badRequest && export.errorCode == "invalid_parameter", "\(q)")
                #expect(export.text == list.text, "\(q)")
            }
            let bundle = try await api.call(.get, "/audit-events/export?format=bundle&q=grace")
            #expect(bundle.status == .badRequest && bundle.text.contains("leave out the filters and search words"))
            #expect(try await api.call(.get, "/audit-events/export?format=bundle&q=+").status == .ok, "spaces are no search")
        }
    }

    /// A person erased from the log is no longer found by their email in an export.
    @Test(arguments: Backend.all)
    func anErasedPersonNoLongerMatches(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (api, orgID, _) = try await seeded(client, store)
            let users = try await api.object(.get, "/users?email=linus@export.example", expect: .ok)["data"] as! [[String: Any]]
            let id = try #require(users.first?["id"] as? String)
            #expect(try await api.call(.get, "/audit-events/export?q=linus@export.example").text.contains(id))
            _ = try await store.database.write(org: orgID) { try await $0.eraseUser(id, by: .system) }
            await store.database.scrubAfterErasure()
            for format in ["jsonl", "csv"] {
                let response = try await api.call(.get, "/audit-events/export?format=\(format)&q=linus@export.example")
                #expect(response.status == .ok)
                #expect(!response.text.contains("linus") && !response.text.contains(id), "\(format): \(response.text)")
            }
            #expect(try await api.call(.get, "/audit-events/export?q=\(id)").text.contains("user.erased"),
                    "the events are still found by what they say now")
        }
    }

    /// Another organisation's credential exports its own log, and nothing of this one.
    @Test(arguments: Backend.all)
    func anotherOrganisationExportsOnlyItsOwnLog(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (_, orgA, _) = try await seeded(client, store)
            let b = try await store.createOrganization()
            let apiB = API(client: client, token: b.apiToken)
            let searched = try await apiB.call(.get, "/audit-events/export?format=jsonl&q=export.example")
            #expect(searched.status == .ok && searched.text.isEmpty, "its search finds nothing of the other's")
            for format in ["jsonl", "csv", "bundle"] {
                let response = try await apiB.call(.get, "/audit-events/export?format=\(format)")
                #expect(response.status == .ok)
                #expect(!response.text.contains("export.example"))
                #expect(!response.text.contains(orgA))
                #expect(response.headers[Self.exportHead] == String(try await auditCount(store, b.organization.id)))
            }
        }
    }
}
