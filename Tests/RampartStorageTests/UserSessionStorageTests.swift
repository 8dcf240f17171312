import Foundation
import RampartAuthn
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

@Suite("Sessions, reset links and throttling in storage")
struct UserSessionStorageTests {
    func member(_ store: TestStore) async throws -> (org: String, admin: User, member: User) {
        let created = try await store.createOrganization()
        let org = created.organization.id
        let member = try await store.database.write(org: org) {
            try await $0.createUser(email: "member@example.com", displayName: "Member", by: acting(as: created.admin))
        }
        return (org, created.admin, member)
    }

    func secret(_ text: String) throws -> SecretToken { try #require(SecretToken(parsing: text, as: .session)) }

    @Test(arguments: Backend.all)
    func aSessionLivesUntilItsIdleTimeoutOrAbsoluteLifetime(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let (org, _, member) = try await member(store)
            let start = Timestamp.now()
            let (text, session) = try await store.database.write(org: org) {
                try await $0.with(clock: { start }).startUserSession(for: member.id, mfaCompleted: true, lifetimeSeconds: 3600,
                                                                     idleTimeoutSeconds: 600, ip: "203.0.113.5", userAgent: "test")
            }
            let token = try secret(text)
            // The secret itself is not stored.
            let stored = try await store.database.read(org: org) { tenant in
                try await tenant.sql.raw("SELECT token_hash FROM user_sessions WHERE id = \(bind: session.id)").first()?
                    .decode(column: "token_hash", as: String.self)
            }
            #expect(stored == token.hash && stored != text)
            // Seen after 9 minutes, then again 9 minutes later: alive, because each use moves the idle clock.
            #expect(try await store.database.write(org: org) { try await $0.liveUserSession(token, at: start.adding(seconds: 540)) } != nil)
            #expect(try await store.database.write(org: org) { try await $0.liveUserSession(token, at: start.adding(seconds: 1080)) } != nil)
            // 11 idle minutes later it is gone, and stays gone.
            #expect(try await store.database.write(org: org) { try await $0.liveUserSession(token, at: start.adding(seconds: 1080 + 660)) } == nil)
            #expect(try await store.database.write(org: org) { try await $0.liveUserSession(token, at: start.adding(seconds: 1100)) } == nil)

            let (text2, _) = try await store.database.write(org: org) {
                try await $0.with(clock: { start }).startUserSession(for: member.id, mfaCompleted: false, lifetimeSeconds: 600,
                                                                     idleTimeoutSeconds: 600, ip: nil, userAgent: nil)
            }
            #expect(try await store.database.write(org: org) { try await $0.liveUserSession(try secret(text2), at: start.adding(seconds: 601)) } == nil)
        }
    }

    @Test(arguments: Backend.all)
    func deactivatingAUserEndsEverySessionAndResetLinkInTheSameTransaction(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let (org, admin, member) = try await member(store)
            var started = [SecretToken]()
            for _ in 0..<3 {
                let (text, _) = try await store.database.write(org: org) {
                    try await $0.startUserSession(for: member.id, mfaCompleted: false, lifetimeSeconds: 3600, idleTimeoutSeconds: 600,
                                                  ip: nil, userAgent: nil)
                }
                started.append(try secret(text))
            }
            let tokens = started
            let reset = try await store.database.write(org: org) { try await $0.createPasswordResetToken(for: member.id) }
            _ = try await store.database.write(org: org) { try await $0.setUserStatus(member.id, .deactivated, by: acting(as: admin)) }
            for token in tokens {
                #expect(try await store.database.write(org: org) { try await $0.liveUserSession(token) } == nil)
            }
            #expect(try await store.database.read(org: org) { try await $0.userSessions(of: member.id) }.isEmpty)
            _ = try await store.database.write(org: org) { try await $0.setUserStatus(member.id, .active, by: acting(as: admin)) }
            let link = try #require(SecretToken(parsing: reset, as: .setupLink))
            #expect(try await store.database.write(org: org) { try await $0.consumePasswordResetToken(link) } == nil)
        }
    }

    @Test(arguments: Backend.all)
    func signOutEverywhereKeepsOnlyTheAskingSession(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let (org, _, member) = try await member(store)
            var started = [String]()
            for _ in 0..<3 {
                started.append(try await store.database.write(org: org) {
                    try await $0.startUserSession(for: member.id, mfaCompleted: false, lifetimeSeconds: 3600, idleTimeoutSeconds: 600,
                                                  ip: "198.51.100.1", userAgent: "x")
                }.session.id)
            }
            let ids = started
            #expect(try await store.database.write(org: org) { try await $0.endAllUserSessions(of: member.id, keeping: ids[1]) } == 2)
            #expect(try await store.database.read(org: org) { try await $0.userSessions(of: member.id) }.map(\.id) == [ids[1]])
            #expect(try await store.database.write(org: org) { try await $0.endUserSession(ids[1], of: member.id) })
            #expect(!(try await store.database.write(org: org) { try await $0.endUserSession(ids[1], of: member.id) }))
        }
    }

    @Test(arguments: Backend.all)
    func aResetLinkWorksOnceAndExpiresAfterThirtyMinutes(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let (org, _, member) = try await member(store)
            let text = try await store.database.write(org: org) { try await $0.createPasswordResetToken(for: member.id) }
            let link = try #require(SecretToken(parsing: text, as: .setupLink))
            let late = Timestamp.now().adding(seconds: 31 * 60)
            #expect(try await store.database.write(org: org) { try await $0.consumePasswordResetToken(link, at: late) } == nil)
            #expect(try await store.database.write(org: org) { try await $0.consumePasswordResetToken(link) }?.id == member.id)
            #expect(try await store.database.write(org: org) { try await $0.consumePasswordResetToken(link) } == nil)
            // A second link replaces the first.
            let first = try #require(SecretToken(parsing: try await store.database.write(org: org) {
                try await $0.createPasswordResetToken(for: member.id) }, as: .setupLink))
            _ = try await store.database.write(org: org) { try await $0.createPasswordResetToken(for: member.id) }
            #expect(try await store.database.write(org: org) { try await $0.consumePasswordResetToken(first) } == nil)
        }
    }

    @Test(arguments: Backend.all)
    func failuresLockOutWithExponentialBackOff(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let (org, _, member) = try await member(store)
            let start = Timestamp.now()
            var lockouts = [Timestamp?]()
            for attempt in 0..<7 {
                let at = start.adding(seconds: Double(attempt))
                lockouts.append(try await store.database.write(org: org) {
                    try await $0.with(clock: { at }).recordSignInFailure(.account, member.id)
                })
            }
            #expect(lockouts.prefix(4).allSatisfy { $0 == nil })
            #expect(lockouts[4] == start.adding(seconds: 4 + 60))
            #expect(lockouts[5] == start.adding(seconds: 5 + 120))
            #expect(lockouts[6] == start.adding(seconds: 6 + 240))
            #expect(try await store.database.read(org: org) { try await $0.signInLockout(.account, member.id, at: start.adding(seconds: 10)) }
                == start.adding(seconds: 246))
            #expect(try await store.database.read(org: org) { try await $0.signInLockout(.address, "198.51.100.1") } == nil)
            try await store.database.write(org: org) { try await $0.clearSignInFailures(.account, member.id) }
            #expect(try await store.database.read(org: org) { try await $0.signInLockout(.account, member.id, at: start.adding(seconds: 10)) } == nil)
            // Failures older than the window are forgotten.
            let old = start.adding(seconds: -3600)
            for _ in 0..<4 { _ = try await store.database.write(org: org) { try await $0.with(clock: { old }).recordSignInFailure(.account, member.id) } }
            #expect(try await store.database.write(org: org) { try await $0.recordSignInFailure(.account, member.id) } == nil)
        }
    }
}
