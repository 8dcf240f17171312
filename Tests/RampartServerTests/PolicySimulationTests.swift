import Foundation
import HTTPTypes
import RampartAuthn
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// The what-if simulation of authentication policies, and the lockout guard every save runs.
@Suite("Authentication policy simulation")
struct PolicySimulationTests {
    /// People with passwords, recent sign-ins and sessions from known addresses.
    struct People {
        let alice: String  // org-admin, signs in from 10.1.2.3
        let bob: String  // member, 203.0.113.7, with a session started two hours ago
        let carol: String  // org-admin, 198.51.100.9, no session
        let aliceSession: String
        let bobSession: String
    }

    static func people(_ store: TestStore, _ orgID: String) async throws -> People {
        try await store.database.write(org: orgID) { tenant in
            func person(_ email: String, _ role: Role?, address: String, sessionAge: Double?) async throws -> (String, String?) {
                let user = try await tenant.createUser(email: email, displayName: email, by: .system)
                if let role { try await tenant.assignRole(role, to: user.id, by: .system) }
                try await tenant.setPasswordHash("$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", for: user.id)
                let signedIn = AuditContext(actor: AuditActor(type: .user, id: user.id, name: email, ip: address))
                try await tenant.appendAudit([signedIn.record(.signinSucceeded, [.user(user)])])
                guard let sessionAge else { return (user.id, nil) }
                let started = Timestamp.now().adding(seconds: -sessionAge)
                let session = try await tenant.with(clock: { started }).startUserSession(
                    for: user.id, mfaCompleted: false, lifetimeSeconds: 8 * 3600, idleTimeoutSeconds: 8 * 3600,
                    ip: address, userAgent: "test")
                return (user.id, session.session.id)
            }
            let (alice, aliceSession) = try await person("alice@example.com", .orgAdmin, address: "10.1.2.3", sessionAge: 60)
            let (bob, bobSession) = try await person("bob@example.com", nil, address: "203.0.113.7", sessionAge: 7200)
            let (carol, _) = try await person("carol@example.com", .orgAdmin, address: "198.51.100.9", sessionAge: nil)
            return People(alice: alice, bob: bob, carol: carol, aliceSession: aliceSession!, bobSession: bobSession!)
        }
    }

    /// The user ids in a list of entries that each name a `user`.
    static func ids(_ list: Any?) -> [String] {
        ((list as? [[String: Any]]) ?? []).compactMap { ($0["user"] as? [String: Any])?["id"] as? String }
    }

    /// The ids in a list of people.
    static func personIDs(_ list: Any?) -> Set<String> {
        Set(((list as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
    }

    static func sessionCount(_ store: TestStore, _ orgID: String) async throws -> Int {
        try await store.database.read(org: orgID) { tenant in
            try await tenant.sql.raw("SELECT COUNT(*) AS n FROM user_sessions").first()!.decode(column: "n", as: Int.self)
        }
    }

    @Test(arguments: Backend.all)
    func aProposedAllowlistAndMFARequirementNameWhoIsAffectedAndChangeNothing(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let api = API(client: client, token: org.apiToken)
            let people = try await Self.people(store, orgID)
            let before = try await auditCount(store, orgID)

            let report = try await api.object(.post, "/authentication-policies/simulate", json: """
                {"policyId":"default","settings":{"ipAllowlist":["10.0.0.0/8"],"mfaRequired":true,"mfaEnrolmentGraceDays":0}}
                """, expect: .ok)
            #expect(Self.personIDs(report["affectedUsers"]).isSuperset(of: [people.alice, people.bob, people.carol]))
            let blocked = try #require(report["blockedByIpAllowlist"] as? [[String: Any]])
            #expect(Set(Self.ids(blocked)) == [people.bob, people.carol])
            #expect(blocked.first { ($0["user"] as? [String: Any])?["id"] as? String == people.bob }?["addresses"] as? [String]
                    == ["203.0.113.7"])
            let withoutMFA = try #require(report["usersWithoutMfa"] as? [[String: Any]])
            #expect(Set(Self.ids(withoutMFA)).isSuperset(of: [people.alice, people.bob, people.carol]))
            #expect(withoutMFA.allSatisfy { $0["overdue"] as? Bool == true }, "a grace of 0 days is over at once")
            let ending = try #require(report["sessionsEnding"] as? [[String: Any]])
            #expect(ending.map { $0["sessionId"] as? String } == [people.bobSession])
            #expect(ending.first?["reason"] as? String == "address_not_allowed")
            let losing = try #require(report["adminsLosingAccess"] as? [[String: Any]])
            #expect(Self.ids(losing) == [people.carol])
            #expect(losing.first?["reason"] as? String == "address_not_allowed")
            #expect(report["leavesNoOrgAdminAbleToSignIn"] as? Bool == false, "alice still signs in from 10.1.2.3")
            #expect(report["windowDays"] as? Int == 30)

            // A simulation writes nothing and ends nothing.
            #expect(try await auditCount(store, orgID) == before)
            #expect(try await Self.sessionCount(store, orgID) == 2)
        }
    }

    @Test(arguments: Backend.all)
    func aSaveThatLocksOutEveryOrgAdminNeedsTheOverrideAndThenEndsTheSessionsItListed(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let api = API(client: client, token: org.apiToken)
            let people = try await Self.people(store, orgID)
            let change = #"{"settings":{"ipAllowlist":["192.0.2.0/24"]}}"#

            let report = try await api.object(.post, "/authentication-policies/simulate",
                                              json: #"{"policyId":"default","settings":{"ipAllowlist":["192.0.2.0/24"]}}"#,
                                              expect: .ok)
            #expect(report["leavesNoOrgAdminAbleToSignIn"] as? Bool == true)
            #expect(Set(Self.ids(report["adminsLosingAccess"])) == [people.alice, people.carol])
            let listed = Set((report["sessionsEnding"] as? [[String: Any]] ?? []).compactMap { $0["sessionId"] as? String })
            #expect(listed == [people.aliceSession, people.bobSession])

            // Refused with a stable code, and nothing changes.
            let before = try await auditCount(store, orgID)
            let refused = try await api.call(.patch, "/authentication-policies/default", json: change)
            #expect(refused.status == .conflict)
            #expect(refused.errorCode == "admin_lockout")
            #expect(try await auditCount(store, orgID) == before)
            #expect(try await Self.sessionCount(store, orgID) == 2)
            let policy = try await api.object(.get, "/authentication-policies/default", expect: .ok)
            #expect((policy["settings"] as? [String: Any])?["ipAllowlist"] as? [String] == nil)
            #expect(try await api.call(.patch, "/authentication-policies/default?override=maybe", json: change).status == .badRequest)

            // With the override it is saved, the listed sessions end, and the event says so.
            let saved = try await api.object(.patch, "/authentication-policies/default?override=true", json: change, expect: .ok)
            #expect((saved["settings"] as? [String: Any])?["ipAllowlist"] as? [String] == ["192.0.2.0/24"])
            #expect(try await Self.sessionCount(store, orgID) == 0)
            let event = try #require(try await api.object(.get, "/audit-events?action=auth_policy.updated", expect: .ok)["data"]
                as? [[String: Any]]).first
            let details = try #require(event?["details"] as? [String: Any])
            #expect(details["sessions_ended"] as? Int == 2)
            #expect(details["override"] as? Bool == true)
        }
    }

    @Test(arguments: Backend.all)
    func aShorterLifetimeEndsOlderSessionsAndShortensTheRestForTheGroupItIsAssignedTo(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let orgID = org.organization.id
            let api = API(client: client, token: org.apiToken)
            let people = try await Self.people(store, orgID)
            let group = try #require(try await api.object(.post, "/groups", json: #"{"name":"Everyone"}"#,
                                                          expect: .created)["id"] as? String)
            for user in [people.alice, people.bob] {
                #expect(try await api.call(.put, "/groups/\(group)/members/\(user)").status == .noContent)
            }
            // A new policy, not yet stored, assigned to the group: Bob's two-hour-old session ends.
            let report = try await api.object(.post, "/authentication-policies/simulate", json: """
                {"settings":{"sessionLifetimeSeconds":3600,"idleTimeoutSeconds":600},"assignTo":[{"type":"group","id":"\(group)"}]}
                """, expect: .ok)
            #expect(Self.personIDs(report["affectedUsers"]) == [people.alice, people.bob])
            #expect((report["sessionsEnding"] as? [[String: Any]])?.map { $0["reason"] as? String } == ["lifetime"])
            #expect((try await api.object(.get, "/authentication-policies", expect: .ok)["data"] as? [Any])?.count == 1,
                    "a simulated policy is not stored")

            // Saving it does what the simulation said; Alice's session now ends within the hour.
            let short = try #require(try await api.object(.post, "/authentication-policies", json: """
                {"name":"Short","settings":{"sessionLifetimeSeconds":3600,"idleTimeoutSeconds":600}}
                """, expect: .created)["id"] as? String)
            #expect(try await api.call(.put, "/authentication-policies/\(short)/groups/\(group)").status == .noContent)
            let sessions = try await store.database.read(org: orgID) { try await $0.userSessions(of: people.alice) }
            #expect(sessions.count == 1)
            #expect(sessions.first.map { $0.expiresAt.microseconds - $0.createdAt.microseconds } == 3_600_000_000)
            #expect(sessions.first?.idleTimeoutSeconds == 600)
            #expect(try await store.database.read(org: orgID) { try await $0.userSessions(of: people.bob) }.isEmpty)
        }
    }

    @Test(arguments: Backend.all)
    func badProposalsAreRefusedClearlyAndAuditorsMaySimulate(backend: Backend) async throws {
        try await withApp(backend) { client, store in
            let org = try await store.createOrganization()
            let other = try await store.createOrganization()
            let api = API(client: client, token: org.apiToken)
            let stranger = try await store.database.write(org: other.organization.id) {
                try await $0.createUser(email: "s@example.com", displayName: "S", by: .system)
            }
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("{}", .badRequest, "invalid_field"),
                (#"{"settings":{"mfaRequired":"yes"}}"#, .badRequest, "invalid_field"),
                (#"{"settings":{"colour":"red"}}"#, .badRequest, "unknown_field"),
                (#"{"settings":{"sessionLifetimeSeconds":10}}"#, .badRequest, "invalid_field"),
                (#"{"assignTo":[{"type":"team","id":"\#(UUID().uuidString)"}]}"#, .badRequest, "invalid_field"),
                (#"{"assignTo":"everyone"}"#, .badRequest, "invalid_field"),
                (#"{"policyId":"default","assignTo":[{"type":"user","id":"\#(org.admin.id)"}]}"#, .badRequest, "invalid_field"),
                (#"{"policyId":"\#(UUID().uuidString)","settings":{}}"#, .notFound, "not_found"),
                (#"{"assignTo":[{"type":"user","id":"\#(stranger.id)"}]}"#, .notFound, "not_found"),
                (#"{"proposal":1}"#, .badRequest, "unknown_field"),
            ]
            for (body, status, code) in cases {
                let response = try await api.call(.post, "/authentication-policies/simulate", json: body)
                #expect(response.status == status, "\(body): \(response.text)")
                #expect(response.errorCode == code, "\(body)")
            }
            let auditor = try await store.database.write(org: org.organization.id) {
                try await $0.createAPIToken(name: "audit", role: .auditor, expiresAt: nil, by: .system).1
            }
            let simulated = try await api.call(.post, "/authentication-policies/simulate", json: #"{"settings":{"mfaRequired":true}}"#,
                                               token: auditor)
            #expect(simulated.status == .ok)
        }
    }
}
