import Foundation
import HTTPTypes
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Invitations")
struct InvitationTests {
    @Test(arguments: Backend.all)
    func anInvitationIsShownOnceReissuableExpiringAndOnlyForPeopleWithoutAPassword(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let api = API(client: client, token: org.apiToken)
            let user = try #require(try await api.object(.post, "/users", json: #"{"email":"new@example.com","displayName":"New"}"#,
                                                         expect: .created)["id"] as? String)
            let first = try await api.object(.post, "/users/\(user)/invitation", json: #"{"expiresInDays":3}"#, expect: .created)
            let firstToken = try #require(first["token"] as? String)
            #expect((first["url"] as? String)?.hasSuffix("/console/setup?token=\(firstToken)") == true)
            #expect(first["reissued"] as? Bool == false && first["mailed"] as? Bool == false)
            let expires = try #require(Timestamp(rfc3339: first["expiresAt"] as? String ?? ""))
            #expect(abs(expires.microseconds - Timestamp.now().adding(days: 3).microseconds) < 60_000_000)

            // Re-issued: the first link stops working, the second works.
            let second = try await api.object(.post, "/users/\(user)/invitation", json: "{}", expect: .created)
            #expect(second["reissued"] as? Bool == true)
            let secondToken = try #require(second["token"] as? String)
            let firstSecret = try #require(SecretToken(parsing: firstToken, as: .setupLink))
            let secondSecret = try #require(SecretToken(parsing: secondToken, as: .setupLink))
            let holders = try await store.database.read(org: orgID) { tenant in
                (try await tenant.setupLinkUser(firstSecret)?.id, try await tenant.setupLinkUser(secondSecret)?.id)
            }
            #expect(holders.0 == nil && holders.1 == user)
            let events = try await api.object(.get, "/audit-events?action=user.invited", expect: .ok)["data"] as? [[String: Any]]
            #expect(events?.count == 2)
            #expect(events?.contains { "\($0)".contains(firstToken) } == false, "the link is never in the log")

            // Refused, changing nothing: bad lifetimes, mail from a server that sends none, a
            // person who has a password, a deactivated person.
            let before = try await auditCount(store, orgID)
            for (body, status) in [(#"{"expiresInDays":0}"#, HTTPResponse.Status.badRequest),
                                   (#"{"expiresInDays":31}"#, .badRequest), (#"{"send":true}"#, .badRequest),
                                   (#"{"colour":1}"#, .badRequest)] {
                #expect(try await api.call(.post, "/users/\(user)/invitation", json: body).status == status, "\(body)")
            }
            try await store.database.write(org: orgID) { try await $0.setPasswordHash("$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", for: user) }
            #expect(try await api.call(.post, "/users/\(user)/invitation", json: "{}").status == .conflict)
            let other = try #require(try await api.object(.post, "/users", json: #"{"email":"gone@example.com","displayName":"Gone"}"#,
                                                          expect: .created)["id"] as? String)
            _ = try await api.call(.post, "/users/\(other)/deactivate")
            let afterDeactivation = try await auditCount(store, orgID)
            #expect(try await api.call(.post, "/users/\(other)/invitation", json: "{}").status == .conflict)
            #expect(try await auditCount(store, orgID) == afterDeactivation)
            #expect(afterDeactivation == before + 2, "only the second user's creation and deactivation were written")
        }
    }
}
