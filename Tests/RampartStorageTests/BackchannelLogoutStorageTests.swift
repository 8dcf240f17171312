import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// Back-channel logout in storage: a client's logout URI follows the redirect-URI rules; ending
/// sessions queues one delivery per product and session in the same transaction; two nodes
/// claiming at once never take the same delivery; outcomes are audited; nothing crosses
/// organisations.
@Suite("Back-channel logout storage")
struct BackchannelLogoutStorageTests {
    typealias Fixture = OAuthStorageTests.Fixture

    /// A session of the fixture's person, and a grant of `client` that this session authorized.
    static func signIn(_ store: TestStore, _ f: Fixture, client: OAuthClient) async throws -> (secret: SecretToken, sid: String) {
        try await store.database.write(org: f.org) { tenant in
            let (text, _) = try await tenant.startUserSession(for: f.user.id, mfaCompleted: true, lifetimeSeconds: 3600,
                                                              idleTimeoutSeconds: 600, ip: nil, userAgent: nil)
            let secret = SecretToken(parsing: text, as: .session)!
            let sid = OIDCSessionID.of(sessionHash: secret.hash)
            let request = AuthorizationCodeRequest(
                clientID: client.id, userID: f.user.id, redirectURI: "https://wiki.example.test/cb", scope: ["openid"],
                nonce: nil, codeChallenge: String(repeating: "a", count: 43), authTime: .now(), amr: ["pwd"], sid: sid)
            let code = try await tenant.issueAuthorizationCode(request, client: client, user: f.user, by: .system)
            let redeemed = try await tenant.redeemAuthorizationCode(SecretToken(parsing: code, as: .authorizationCode)!,
                                                                    clientID: client.id, by: .system)
            guard case .redeemed(let carried) = redeemed else { throw RampartError(.integrity, "code not redeemed") }
            let (grant, _) = try await tenant.startOAuthGrant(carried, code: SecretToken(parsing: code, as: .authorizationCode)!,
                                                              client: client, by: .system)
            #expect(grant.sid == sid, "the code carries the session's sid into the grant")
            return (secret, sid)
        }
    }

    static func withLogoutURI(_ store: TestStore, _ f: Fixture, _ uri: String = "https://wiki.example.test/backchannel") async throws {
        var changes = OAuthClientChanges()
        changes.backchannelLogoutURI = uri
        changes.backchannelLogoutSessionRequired = true
        _ = try await store.database.write(org: f.org) { [changes] in try await $0.updateOAuthClient(f.client.id, changes, by: .system) }
    }

    /// The clock of this test's node, a day ahead. On PostgreSQL every test shares one database,
    /// and the logout sender of any test's running server claims whatever is due there: what this
    /// test queues and claims with this clock is not due yet for them.
    static let ahead: @Sendable () -> Timestamp = { Timestamp.now().adding(seconds: 86_400) }

    static func pending(_ store: TestStore, _ org: String) async throws -> [String] {
        try await store.database.read(org: org) { try await $0.pendingLogoutDeliveries().map(\.clientID) }
    }

    @Test(arguments: Backend.all)
    func logoutURIsFollowTheRedirectRulesAndBadOnesChangeNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await OAuthStorageTests.fixture(store)
            try await Self.withLogoutURI(store, f)
            let stored = try await store.database.read(org: f.org) { try await $0.oauthBackchannelLogout(of: f.client.id) }
            #expect(stored == OAuthBackchannelLogout(uri: "https://wiki.example.test/backchannel", sessionRequired: true))
            let events = try await store.database.read(org: f.org) { try await $0.auditEvents(after: 0, limit: 100) }
            #expect(events.last?.action == "oauth_client.updated" && events.last?.detailsJSON.contains("backchannelLogoutUri") == true)

            for uri in ["https://wiki.example.test/bc#frag", "http://wiki.example.test/bc", "https://user@wiki.example.test/bc",
                        "wiki.example.test/bc"] {
                var changes = OAuthClientChanges()
                changes.backchannelLogoutURI = uri
                do {
                    _ = try await store.database.write(org: f.org) { [changes] in
                        try await $0.updateOAuthClient(f.client.id, changes, by: .system)
                    }
                    Issue.record("\(uri) was accepted")
                } catch let error as RampartError {
                    #expect(error.field == "backchannelLogoutUri", "\(uri)")
                }
                await #expect(throws: RampartError.self, "\(uri)") {
                    try await store.database.write(org: f.org) { tenant in
                        try await tenant.createOAuthClient(productID: f.client.productID, name: "Bad", type: .confidential,
                                                           authMethod: nil, firstParty: true, redirectURIs: ["https://b.example.test/cb"],
                                                           postLogoutRedirectURIs: [], scopes: nil, backchannelLogoutURI: uri,
                                                           by: .system)
                    }
                }
            }
            #expect(try await store.database.read(org: f.org) { try await $0.oauthBackchannelLogout(of: f.client.id) } == stored)
            #expect(try await store.database.read(org: f.org) { try await $0.oauthClients().count } == 1)
            // http on loopback is allowed, an empty URI removes it.
            try await Self.withLogoutURI(store, f, "http://127.0.0.1:9000/bc")
            #expect(try await store.database.read(org: f.org) { try await $0.oauthBackchannelLogout(of: f.client.id) }?.uri
                    == "http://127.0.0.1:9000/bc")
            try await Self.withLogoutURI(store, f, "")
            #expect(try await store.database.read(org: f.org) { try await $0.oauthBackchannelLogout(of: f.client.id) } == nil)
        }
    }

    @Test(arguments: Backend.all)
    func endingSessionsQueuesOneDeliveryPerProductThatTakesThem(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await OAuthStorageTests.fixture(store)
            try await Self.withLogoutURI(store, f)
            let silent = try await store.database.write(org: f.org) { tenant in
                try await tenant.createOAuthClient(productID: f.client.productID, name: "No logout", type: .confidential,
                                                   authMethod: nil, firstParty: true, redirectURIs: ["https://b.example.test/cb"],
                                                   postLogoutRedirectURIs: [], scopes: nil, by: .system).0
            }
            let first = try await Self.signIn(store, f, client: f.client)
            _ = try await Self.signIn(store, f, client: silent)
            let second = try await Self.signIn(store, f, client: f.client)

            // Signing out of one session tells the product that session signed into, about that session only.
            try await store.database.write(org: f.org) { try await $0.with(clock: Self.ahead).signOutUserSession(first.secret) }
            let owner = "node-a"
            let claimed = try await store.database.write(org: f.org) {
                try await $0.with(clock: Self.ahead).claimLogoutDeliveries(owner: owner, until: Self.ahead().adding(seconds: 60))
            }
            #expect(claimed.map(\.clientID) == [f.client.id] && claimed.map(\.sid) == [first.sid])
            #expect(claimed.first?.subject == f.user.id && claimed.first?.uri == "https://wiki.example.test/backchannel")
            for delivery in claimed {
                try await store.database.write(org: f.org) { try await $0.logoutDelivered(delivery, owner: owner, status: 200) }
            }
            #expect(try await Self.pending(store, f.org).isEmpty)

            // Deactivation ends the rest, in its own transaction; another organisation sees nothing.
            let other = try await OAuthStorageTests.fixture(store)
            try await Self.withLogoutURI(store, other)
            _ = try await store.database.write(org: f.org) { try await $0.with(clock: Self.ahead).setUserStatus(f.user.id, .deactivated, by: .system) }
            let after = try await store.database.read(org: f.org) { try await $0.pendingLogoutDeliveries() }
            #expect(after.map(\.clientID) == [f.client.id], "one for the live grant of the remaining session; none for the client without a URI")
            let sids = try await store.database.write(org: f.org) {
                try await $0.with(clock: Self.ahead).claimLogoutDeliveries(owner: owner, until: Self.ahead().adding(seconds: 60)).map(\.sid)
            }
            #expect(sids == [second.sid])
            #expect(try await Self.pending(store, other.org).isEmpty)
            #expect(try await store.database.write(org: other.org) {
                try await $0.with(clock: Self.ahead).claimLogoutDeliveries(owner: "node-x", until: Self.ahead().adding(seconds: 60))
            }.isEmpty)
        }
    }

    /// A step-up ends the session and starts one with a new secret that carries the old sid:
    /// ending the new one tells the product about the sign-in it knows.
    @Test(arguments: Backend.all)
    func aSessionThatReplacesAnotherKeepsItsSID(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await OAuthStorageTests.fixture(store)
            try await Self.withLogoutURI(store, f)
            let first = try await Self.signIn(store, f, client: f.client)
            let replacement = try await store.database.write(org: f.org) { tenant in
                let carried = try await tenant.endUserSession(first.secret)
                #expect(carried == first.sid)
                return try await tenant.startUserSession(for: f.user.id, mfaCompleted: true, lifetimeSeconds: 3600,
                                                         idleTimeoutSeconds: 600, ip: nil, userAgent: nil, sid: carried)
            }
            #expect(replacement.session.sid == first.sid)
            let secret = try #require(SecretToken(parsing: replacement.secret, as: .session))
            #expect(secret.hash != first.secret.hash)
            let found = try await store.database.read(org: f.org) { try await $0.findLiveUserSession(secret) }
            #expect(found?.sid == first.sid, "the sid is read back from the row")
            #expect(try await Self.pending(store, f.org).isEmpty, "replacing a session tells no product")

            try await store.database.write(org: f.org) { try await $0.with(clock: Self.ahead).signOutUserSession(secret) }
            let claimed = try await store.database.write(org: f.org) {
                try await $0.with(clock: Self.ahead).claimLogoutDeliveries(owner: "node-a", until: Self.ahead().adding(seconds: 60))
            }
            #expect(claimed.map(\.clientID) == [f.client.id] && claimed.map(\.sid) == [first.sid])
        }
    }

    @Test(arguments: Backend.all)
    func twoConcurrentClaimersNeverTakeTheSameDelivery(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await OAuthStorageTests.fixture(store)
            try await Self.withLogoutURI(store, f)
            for _ in 0..<24 { _ = try await Self.signIn(store, f, client: f.client) }
            _ = try await store.database.write(org: f.org) { try await $0.with(clock: Self.ahead).endAllUserSessions(of: f.user.id) }
            #expect(try await Self.pending(store, f.org).count == 24)

            let until = Self.ahead().adding(seconds: 60)
            let taken = try await withThrowingTaskGroup(of: [String].self) { group in
                for node in 0..<4 {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let batch = try await store.database.write(org: f.org) {
                                try await $0.with(clock: Self.ahead).claimLogoutDeliveries(owner: "node-\(node)", until: until, limit: 3)
                            }
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [[String]]()) { $0.append($1) }
            }
            let all = taken.flatMap { $0 }
            #expect(all.count == 24 && Set(all).count == 24, "every delivery claimed exactly once: \(taken.map(\.count))")
        }
    }

    @Test(arguments: Backend.all)
    func failuresRetryUntilTheLastAttemptAndOnlyTheLeaseHolderRecords(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await OAuthStorageTests.fixture(store)
            try await Self.withLogoutURI(store, f)
            let session = try await Self.signIn(store, f, client: f.client)
            try await store.database.write(org: f.org) { try await $0.with(clock: Self.ahead).signOutUserSession(session.secret) }
            let claim = { (owner: String) in
                try await store.database.write(org: f.org) {
                    try await $0.with(clock: Self.ahead).claimLogoutDeliveries(owner: owner, until: Self.ahead().adding(seconds: 60))
                }
            }
            let first = try #require(try await claim("node-a").first)
            #expect(try await claim("node-b").isEmpty, "a leased delivery is nobody else's")
            try await store.database.write(org: f.org) {
                try await $0.logoutDeliveryFailed(first, owner: "node-b", error: "HTTP 500", maxAttempts: 2, retryAt: Self.ahead())
            }
            #expect(try await store.database.read(org: f.org) { try await $0.pendingLogoutDeliveries() }.first?.attempts == 0,
                    "a node without the lease records nothing")
            try await store.database.write(org: f.org) {
                try await $0.logoutDeliveryFailed(first, owner: "node-a", error: "HTTP 500", maxAttempts: 2,
                                                  retryAt: Self.ahead().adding(seconds: -1))
            }
            let pending = try await store.database.read(org: f.org) { try await $0.pendingLogoutDeliveries() }
            #expect(pending.first?.attempts == 1 && pending.first?.lastError == "HTTP 500")
            let again = try #require(try await claim("node-b").first, "due again after its wait, for any node")
            #expect(again.id == first.id && again.attempts == 1)
            try await store.database.write(org: f.org) {
                try await $0.logoutDeliveryFailed(again, owner: "node-b", error: "HTTP 500", maxAttempts: 2, retryAt: Self.ahead())
            }
            #expect(try await Self.pending(store, f.org).isEmpty, "given up after the last attempt")
            let events = try await store.database.read(org: f.org) { try await $0.auditEvents(after: 0, limit: 200) }
            let failed = try #require(events.last)
            #expect(failed.action == "oauth.backchannel_logout_failed" && failed.outcome == "failure")
            #expect(failed.detailsJSON.contains("HTTP 500") && !failed.detailsJSON.contains(f.user.id),
                    "the event says how it failed, not whose session it was")
        }
    }
}
