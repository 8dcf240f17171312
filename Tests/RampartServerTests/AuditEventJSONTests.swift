import Foundation
import RampartCore
import RampartServer
import RampartStorage
import RampartStreams
import RampartTestSupport
import Testing

/// A log stream's JSON of an event is, byte for byte, what the API shows for it.
@Suite("Audit event JSON of log streams")
struct AuditEventJSONTests {
    @Test func theStreamsJSONIsTheAPIsJSON() async throws {
        try await withApp(.sqlite) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let user = try #require(try await api.object(.post, "/users", json: #"{"email":"zoe@example.com","displayName":"Zoë \"Z\" \\ ]"}"#,
                                                         expect: .created)["id"] as? String)
            let group = try #require(try await api.object(.post, "/groups", json: #"{"name":"Staff"}"#, expect: .created)["id"] as? String)
            _ = try await api.object(.patch, "/groups/\(group)", json: #"{"description":"line one\nline two <13>"}"#, expect: .ok)
            _ = try await api.call(.put, "/groups/\(group)/members/\(user)")
            let events = try await store.database.read(org: org.organization.id) { try await $0.auditEvents(after: 0, limit: 100) }
            #expect(events.count >= 8)
            #expect(events.contains { $0.requestID != nil } && events.contains { $0.requestID == nil })
            for event in events {
                var streamed: [UInt8] = []
                AuditEventJSON.write(event, to: &streamed)
                let shown = try JSONBodyEncoder.encode(AuditEventView(event))
                #expect(String(decoding: streamed, as: UTF8.self) == String(decoding: shown, as: UTF8.self), "\(event.action)")
            }
        }
    }
}
