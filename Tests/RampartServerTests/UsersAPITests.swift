import Foundation
import HTTPTypes
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Admin API: users")
struct UsersAPITests {
    @Test(arguments: Backend.all)
    func createReadUpdateDeactivateDelete(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)

            let created = try await api.object(.post, "/users", json: #"{"email":"Ada@Example.com","displayName":"Ada"}"#,
                                               expect: .created)
            let id = try #require(created["id"] as? String)
            #expect(created["email"] as? String == "ada@example.com")
            #expect(created["status"] as? String == "active")

            let fetched = try await api.object(.get, "/users/\(id)", expect: .ok)
            #expect(fetched["displayName"] as? String == "Ada")

            let updated = try await api.object(.patch, "/users/\(id)", json: #"{"displayName":"Ada Lovelace"}"#, expect: .ok)
            #expect(updated["displayName"] as? String == "Ada Lovelace")

            let deactivated = try await api.object(.post, "/users/\(id)/deactivate", expect: .ok)
            #expect(deactivated["status"] as? String == "deactivated")
            let filtered = try await api.object(.get, "/users?status=deactivated", expect: .ok)
            #expect((filtered["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            let reactivated = try await api.object(.post, "/users/\(id)/reactivate", expect: .ok)
            #expect(reactivated["status"] as? String == "active")

            let byEmail = try await api.object(.get, "/users?email=ADA@example.com", expect: .ok)
            #expect((byEmail["data"] as? [[String: Any]])?.count == 1)

            #expect(try await api.call(.delete, "/users/\(id)").status == .noContent)
            #expect(try await api.call(.get, "/users/\(id)").status == .notFound)

            let events = try await api.object(.get, "/audit-events?target=\(id)&limit=20", expect: .ok)
            let actions = (events["data"] as? [[String: Any]])?.compactMap { $0["action"] as? String }
            #expect(actions == ["user.deleted", "user.reactivated", "user.deactivated", "user.updated", "user.created"])
            let update = try #require((events["data"] as? [[String: Any]])?[3])
            let changes = (update["details"] as? [String: Any])?["changes"] as? [String: Any]
            #expect((changes?["displayName"] as? [String: Any])?["before"] as? String == "Ada")
            let actor = update["actor"] as? [String: Any]
            #expect(actor?["type"] as? String == "api_token")
            #expect(update["requestId"] as? String != nil)
        }
    }

    @Test(arguments: Backend.all)
    func duplicateEmailConflictsOnlyWithinOneOrganization(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let a = try await store.createOrganization()
            let b = try await store.createOrganization()
            let body = #"{"email":"same@example.com","displayName":"Same"}"#
            _ = try await API(client: client, token: a.apiToken).object(.post, "/users", json: body, expect: .created)
            let before = try await auditCount(store, a.organization.id)
            let again = try await API(client: client, token: a.apiToken).call(.post, "/users",
                                                                              json: #"{"email":"SAME@example.com","displayName":"Other"}"#)
            #expect(again.status == .conflict)
            #expect(again.errorCode == "conflict")
            #expect(try await auditCount(store, a.organization.id) == before)
            _ = try await API(client: client, token: b.apiToken).object(.post, "/users", json: body, expect: .created)
        }
    }

    @Test(arguments: Backend.all)
    func listPaginatesEveryUserExactlyOnce(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            for i in 0..<7 {
                _ = try await api.object(.post, "/users", json: #"{"email":"u\#(i)@example.com","displayName":"U\#(i)"}"#,
                                         expect: .created)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await api.object(.get, "/users?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), expect: .ok)
                seen += (page["data"] as? [[String: Any]] ?? []).compactMap { $0["email"] as? String }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.count == 8)
            #expect(Set(seen).count == 8)
        }
    }
}
