import Foundation
import RampartCore
@testable import RampartStorage
import RampartTestSupport
import Testing

/// A SQLite reader remembers the API token it read until the database changes; none of the
/// token's promises may depend on whether it was remembered.
@Suite("API token recall")
struct APITokenRecallTests {
    func authenticate(_ database: Database, _ secret: SecretToken, at now: Timestamp = .now()) async throws -> APIToken? {
        try await database.read(org: secret.orgID) { try await $0.authenticateAPIToken(secret, at: now) }
    }

    /// Reads the organisation's first token until it is remembered, revokes it with `revoke`,
    /// then expects every following read to refuse it.
    func expectRefusedAfterRevocation(_ backend: Backend,
                                      revoke: @escaping @Sendable (TestStore, APIToken, String) async throws -> Void)
        async throws
    {
        try await TestStore.with(backend) { store async throws in
            let created = try await store.createOrganization()
            let secret = try #require(SecretToken(parsing: created.apiToken, as: .apiToken))
            // The pool hands the last reader out again, so the later reads answer from what it kept.
            for _ in 0..<12 { #expect(try await authenticate(store.database, secret) != nil) }
            let token = try #require(try await authenticate(store.database, secret))
            try await revoke(store, token, secret.orgID)
            for _ in 0..<12 { #expect(try await authenticate(store.database, secret) == nil) }
        }
    }

    @Test(arguments: Backend.all)
    func aRevokedTokenIsRefusedByTheNextRead(_ backend: Backend) async throws {
        try await expectRefusedAfterRevocation(backend) { store, token, org in
            try await store.database.write(org: org) { try await $0.revokeAPIToken(token.id, by: .system) }
        }
    }

    /// The CLI revokes from another process: its own connections, the same file.
    @Test(arguments: Backend.all)
    func aRevocationThroughOtherConnectionsIsSeen(_ backend: Backend) async throws {
        try await expectRefusedAfterRevocation(backend) { store, token, org in
            try await Database.with(store.configuration, logger: testLogger) { other in
                try await other.write(org: org) { try await $0.revokeAPIToken(token.id, by: .system) }
            }
        }
    }

    @Test(arguments: Backend.all)
    func aRememberedTokenStillExpires(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let org = try await store.createOrganization().organization
            let now = Timestamp.now()
            let (_, issued) = try await store.database.write(org: org.id) {
                try await $0.createAPIToken(name: "short", role: .auditor, expiresAt: now.adding(seconds: 3600), by: .system)
            }
            let secret = try #require(SecretToken(parsing: issued, as: .apiToken))
            for _ in 0..<12 { #expect(try await authenticate(store.database, secret, at: now) != nil) }
            #expect(try await authenticate(store.database, secret, at: now.adding(seconds: 3601)) == nil)
        }
    }

    /// Remembering is per organisation, as the lookup is: another tenant's view never finds it.
    @Test(arguments: Backend.all)
    func aRememberedTokenIsNotFoundThroughAnotherOrganisation(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store async throws in
            let secret = try #require(SecretToken(parsing: try await store.createOrganization().apiToken, as: .apiToken))
            let other = try await store.createOrganization().organization
            for _ in 0..<12 { #expect(try await authenticate(store.database, secret) != nil) }
            for _ in 0..<12 {
                let found = try await store.database.read(org: other.id) { try await $0.authenticateAPIToken(secret) }
                #expect(found == nil)
            }
        }
    }
}
