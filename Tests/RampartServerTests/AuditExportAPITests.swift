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

    /// Another organisation's credential exports its own log, and nothing of this one.
    @Test(arguments: Backend.all)
    func anotherOrganisationExportsOnlyItsOwnLog(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let (_, orgA, _) = try await seeded(client, store)
            let b = try await store.createOrganization()
            let apiB = API(client: client, token: b.apiToken)
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
