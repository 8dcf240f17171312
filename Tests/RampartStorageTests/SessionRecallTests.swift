import Foundation
import RampartCore
@testable import RampartStorage
import RampartTestSupport
import Testing

/// A session's row is kept in memory between lookups: by SQLite's readers until any commit,
/// on PostgreSQL by the node until a change is announced. None of a session's promises may
/// depend on whether it was kept.
@Suite("Session recall")
struct SessionRecallTests {
    /// A member of a new organisation with a live session, looked up until it is kept.
    func signedIn(_ store: TestStore) async throws -> (secret: SecretToken, userID: String) {
        let created = try await store.createOrganization()
        let org = created.organization.id
        let (text, member) = try await store.database.write(org: org) { t in
            let member = try await t.createUser(email: "member@example.com", displayName: "Member", by: .system)
            let (text, _) = try await t.startUserSession(for: member.id, mfaCompleted: true, lifetimeSeconds: 3600,
                                                         idleTimeoutSeconds: 600, ip: "203.0.113.7", userAgent: "test")
            return (text, member)
        }
        let secret = try #require(SecretToken(parsing: text, as: .session))
        try await waitUntilHearing(store.database)
        for _ in 0..<12 { #expect(try await store.database.signedInSession(secret) != nil) }
        if let recall = store.database.driver.recall {
            #expect(recall.value(Tenant.signedInSessionKey(secret), as: ConsoleSession.self) != nil)
        }
        return (secret, member.id)
    }

    /// A PostgreSQL node keeps nothing until it listens for announcements.
    func waitUntilHearing(_ database: Database) async throws {
        guard let recall = database.driver.recall else { return }
        let deadline = ContinuousClock.now + .seconds(10)
        while !recall.isHearing, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(recall.isHearing)
    }

    @Test(arguments: Backend.all)
    func aSessionEndedOnThisNodeIsRefusedByTheNextLookup(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let (secret, _) = try await signedIn(store)
            try await store.database.write(org: secret.orgID) { try await $0.signOutUserSession(secret) }
            for _ in 0..<12 { #expect(try await store.database.signedInSession(secret) == nil) }
        }
    }

    @Test(arguments: Backend.all)
    func aPersonDeactivatedOnThisNodeIsRefusedByTheNextLookup(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let (secret, userID) = try await signedIn(store)
            _ = try await store.database.write(org: secret.orgID) { try await $0.setUserStatus(userID, .deactivated, by: .system) }
            for _ in 0..<12 { #expect(try await store.database.signedInSession(secret) == nil) }
        }
    }

    /// Another node (or the CLI) ends the session: its own connections, the same store. On
    /// PostgreSQL the announcement arrives a moment after the commit; on SQLite at once.
    @Test(arguments: Backend.all)
    func aSessionEndedElsewhereIsRefusedOnceAnnounced(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let (secret, _) = try await signedIn(store)
            try await Database.with(store.configuration, logger: testLogger) { other in
                try await other.write(org: secret.orgID) { try await $0.signOutUserSession(secret) }
            }
            let deadline = ContinuousClock.now + .seconds(backend == .sqlite ? 0 : 2)
            while try await store.database.signedInSession(secret) != nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            for _ in 0..<12 { #expect(try await store.database.signedInSession(secret) == nil) }
        }
    }

    /// A kept row still ends with its lifetime and idle timeout: those are checked every time.
    @Test(arguments: Backend.all)
    func aKeptSessionStillExpires(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let (secret, _) = try await signedIn(store)
            #expect(try await store.database.signedInSession(secret, at: Timestamp.now().adding(seconds: 601)) == nil)
            #expect(try await store.database.signedInSession(secret, at: Timestamp.now().adding(seconds: 3601)) == nil)
            #expect(try await store.database.signedInSession(secret) != nil)
        }
    }

    /// Rows are kept only from tables whose changes are announced (migration 14).
    @Test func recalledStatementsReadOnlyAnnouncingTables() {
        #expect(RecallCache.readsOnlyAnnouncingTables(Tenant.signedInSessionKey(
            SecretToken.generate(.session, orgID: "org")).sql))
        #expect(RecallCache.readsOnlyAnnouncingTables("SELECT id FROM api_tokens WHERE org_id = ?1"))
        #expect(!RecallCache.readsOnlyAnnouncingTables("SELECT u.id FROM users u JOIN groups g ON g.id = u.id"))
        #expect(!RecallCache.readsOnlyAnnouncingTables("SELECT (SELECT 1 FROM policies) FROM users"))
    }
}
