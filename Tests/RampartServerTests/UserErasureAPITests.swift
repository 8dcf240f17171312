import Foundation
import HTTPTypes
import HummingbirdTesting
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// `POST /api/v1/users/{id}/erase`: org-admins only; afterwards the API and every export
/// format read the person as erased, and the log still verifies.
@Suite("User erasure over the API")
struct UserErasureAPITests {
    @Test(arguments: Backend.all)
    func anOrgAdminErasesAndEveryReadShowsAnErasedUser(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let created = try await store.createOrganization()
            let api = API(client: client, token: created.apiToken)
            let tag = UUID().uuidString.prefix(8).lowercased()
            let email = "gone.\(tag)@example.com", name = "Gone Person \(tag)"
            let user = try await api.object(.post, "/users", json: #"{"email":"\#(email)","displayName":"\#(name)"}"#, expect: .created)
            let id = try #require(user["id"] as? String)
            _ = try await api.object(.patch, "/users/\(id)", json: #"{"displayName":"\#(name) Jr"}"#, expect: .ok)
            let auditor = try await api.object(.post, "/api-tokens", json: #"{"name":"aud","role":"auditor"}"#, expect: .created)
            let userAdmin = try await api.object(.post, "/api-tokens", json: #"{"name":"ua","role":"user-admin"}"#, expect: .created)
            let before = try await auditCount(store, created.organization.id)
            for token in [auditor["secret"], userAdmin["secret"]].compactMap({ $0 as? String }) {
                let refused = try await api.call(.post, "/users/\(id)/erase", token: token)
                #expect(refused.status == .forbidden && refused.errorCode == "forbidden")
            }
            #expect(try await auditCount(store, created.organization.id) == before, "a refused erasure writes nothing")

            let erased = try await api.object(.post, "/users/\(id)/erase", expect: .ok)
            #expect(erased["userId"] as? String == id && erased["userDeleted"] as? Bool == true)
            #expect(erased["subjectKeysDestroyed"] as? Int == 1 && erased["legacyEvents"] as? Int == 0)

            let listed = try await api.object(.get, "/audit-events?target=\(id)", expect: .ok)
            let events = try #require(listed["data"] as? [[String: Any]])
            #expect(events.first?["action"] as? String == "user.erased")
            for event in events.dropFirst() {
                let targets = try #require(event["targets"] as? [[String: Any]])
                let person = try #require(targets.first { $0["id"] as? String == id })
                #expect(person["erased"] as? Bool == true && person["name"] is NSNull)
            }
            for format in ["jsonl", "csv", "cef", "leef", "ocsf", "bundle"] {
                let export = try await api.call(.get, "/audit-events/export?format=\(format)")
                #expect(export.status == .ok)
                #expect(!export.text.contains(email) && !export.text.contains(name), "\(format) still names the person")
                if format == "bundle" {
                    let lines = try export.text.split(separator: "\n")
                        .map { try JSONDecoder().decode(AuditBundle.Line.self, from: Data($0.utf8)) }
                    // The checkpointer every test application runs may have signed a checkpoint too.
                    #expect(try AuditBundle.verify(lines).events == Int64(lines.filter { $0.event != nil }.count))
                }
            }
            #expect(try await AuditVerifier(database: store.database).verify(created.organization).failure == nil)

            let again = try await api.call(.post, "/users/\(id)/erase")
            #expect(again.status == .conflict && again.errorCode == "already_erased")
            let unknown = try await api.call(.post, "/users/\(Identifier.make())/erase")
            #expect(unknown.status == .notFound && unknown.errorCode == "not_found")
            let other = try await store.createOrganization()
            let stranger = try await API(client: client, token: other.apiToken)
                .object(.post, "/users", json: #"{"email":"s.\#(tag)@example.com","displayName":"S"}"#, expect: .created)
            let foreign = try await api.call(.post, "/users/\(try #require(stranger["id"] as? String))/erase")
            #expect(foreign.status == .notFound && foreign.errorCode == "not_found")
            let strangerID = try #require(stranger["id"] as? String)
            #expect(try await API(client: client, token: other.apiToken).call(.get, "/users/\(strangerID)").status == .ok)
        }
    }
}
