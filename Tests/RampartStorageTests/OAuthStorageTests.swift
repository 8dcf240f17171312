import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// The provider's storage: clients with hashed, rotatable secrets; codes that are used once
/// even when two redemptions race; refresh tokens whose reuse ends their family; grants that
/// end with the person's access; signing keys sealed per organisation; nothing seen across
/// organisations.
@Suite("OAuth storage")
struct OAuthStorageTests {
    struct Fixture: Sendable {
        let org: String
        let user: User
        let client: OAuthClient
        let secret: String
    }

    static func fixture(_ store: TestStore) async throws -> Fixture {
        let created = try await store.createOrganization()
        let org = created.organization.id
        return try await store.database.write(org: org) { tenant in
            let product = try await tenant.createProduct(name: "Wiki", kind: .wiki, url: "https://wiki.example.test", by: .system)
            let user = try await tenant.createUser(email: "pat@example.test", displayName: "Pat", by: .system)
            let group = try await tenant.createGroup(name: "Readers", description: nil, by: .system)
            try await tenant.addMember(user.id, to: group.id, by: .system)
            try await tenant.grantProductAccess(product.id, to: group.id, by: .system)
            let (client, secret) = try await tenant.createOAuthClient(
                productID: product.id, name: "Wiki", type: .confidential, authMethod: nil, firstParty: true,
                redirectURIs: ["https://wiki.example.test/cb"], postLogoutRedirectURIs: [], scopes: nil, by: .system)
            return Fixture(org: org, user: user, client: client, secret: secret!)
        }
    }

    static func codeRequest(_ f: Fixture) -> AuthorizationCodeRequest {
        AuthorizationCodeRequest(clientID: f.client.id, userID: f.user.id, redirectURI: "https://wiki.example.test/cb",
                                 scope: ["openid", "offline_access"], nonce: "n", codeChallenge: String(repeating: "a", count: 43),
                                 authTime: .now(), amr: ["pwd"])
    }

    @Test(arguments: Backend.all)
    func clientSecretsAreHashedRotatedWithOverlapAndRefusedElsewhere(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await Self.fixture(store)
            let other = try await Self.fixture(store)
            let stored = try await store.asOwner { database in
                try await database.read(org: f.org) { tenant in
                    try await tenant.sql.raw("SELECT secret_hash FROM oauth_clients WHERE org_id = \(bind: f.org)").all()
                        .map { try $0.decode(column: "secret_hash", as: String.self) }
                }
            }
            #expect(stored == [SecretToken.hash(f.secret)], "only the hash is kept")
            let verify = { (org: String, client: String, secret: String) in
                try await store.database.read(org: org) { try await $0.verifyOAuthClientSecret(client, secret) }
            }
            #expect(try await verify(f.org, f.client.id, f.secret))
            #expect(try await verify(other.org, f.client.id, f.secret) == false, "another organisation's secret is nobody's here")
            #expect(try await verify(f.org, other.client.id, other.secret) == false)

            let (_, second) = try await store.database.write(org: f.org) {
                try await $0.rotateOAuthClientSecret(f.client.id, overlapSeconds: 3600, by: .system)
            }
            #expect(try await verify(f.org, f.client.id, second))
            #expect(try await verify(f.org, f.client.id, f.secret), "the previous secret works during the overlap")
            let (_, third) = try await store.database.write(org: f.org) {
                try await $0.rotateOAuthClientSecret(f.client.id, overlapSeconds: 0, by: .system)
            }
            #expect(try await verify(f.org, f.client.id, third))
            #expect(try await verify(f.org, f.client.id, second) == false)
            #expect(try await verify(f.org, f.client.id, f.secret) == false)

            for uris in [["http://wiki.example.test/cb"], ["https://wiki.example.test/cb#x"], ["https://u@wiki.example.test/cb"],
                         ["wiki.example.test/cb"], []] {
                await #expect(throws: RampartError.self, "\(uris)") {
                    try await store.database.write(org: f.org) { tenant in
                        try await tenant.createOAuthClient(productID: f.client.productID, name: "Bad", type: .confidential,
                                                           authMethod: nil, firstParty: true, redirectURIs: uris,
                                                           postLogoutRedirectURIs: [], scopes: nil, by: .system)
                    }
                }
            }
            #expect(try await store.database.read(org: f.org) { try await $0.oauthClients().count } == 1, "nothing was written")
            #expect(try await store.database.read(org: other.org) { try await $0.oauthClient(f.client.id) } == nil)
        }
    }

    @Test(arguments: Backend.all)
    func racingRedemptionsOfOneCodeLetExactlyOneWin(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await Self.fixture(store)
            let code = try await store.database.write(org: f.org) { tenant in
                try await tenant.issueAuthorizationCode(Self.codeRequest(f), client: f.client, user: f.user, by: .system)
            }
            let secret = try #require(SecretToken(parsing: code, as: .authorizationCode))
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await store.database.write(org: f.org) { tenant in
                            if case .redeemed = try await tenant.redeemAuthorizationCode(secret, clientID: f.client.id, by: .system) {
                                return true
                            }
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1, "\(outcomes)")
            let wrongClient = try await store.database.write(org: f.org) { tenant in
                try await tenant.redeemAuthorizationCode(secret, clientID: Identifier.make(), by: .system)
            }
            guard case .invalid = wrongClient else { Issue.record("another client's code must be invalid"); return }
        }
    }

    @Test(arguments: Backend.all)
    func refreshReuseEndsTheFamilyAndDeactivationEndsEveryGrant(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await Self.fixture(store)
            let (grant, first) = try await store.database.write(org: f.org) { tenant in
                let code = try await tenant.issueAuthorizationCode(Self.codeRequest(f), client: f.client, user: f.user, by: .system)
                return try await tenant.startOAuthGrant(Self.codeRequest(f), code: SecretToken(parsing: code, as: .authorizationCode)!,
                                                        client: f.client, by: .system)
            }
            let rotate = { (token: String) in
                try await store.database.write(org: f.org) { tenant in
                    try await tenant.rotateRefreshToken(SecretToken(parsing: token, as: .refreshToken)!, clientID: f.client.id, by: .system)
                }
            }
            guard case .rotated(_, let second) = try await rotate(first!) else { Issue.record("first rotation"); return }
            guard case .replayed = try await rotate(first!) else { Issue.record("reuse must be a replay"); return }
            guard case .invalid = try await rotate(second) else { Issue.record("the family is dead"); return }
            #expect(try await store.database.read(org: f.org) { try await $0.oauthGrantIsLive(grant.id) } == false)
            let actions = try await store.database.read(org: f.org) { try await $0.auditEvents(after: 0, limit: 100).map(\.action) }
            #expect(actions.contains("oauth.replay_detected") && actions.contains("oauth.grant_revoked"))

            let (live, token) = try await store.database.write(org: f.org) { tenant in
                let code = try await tenant.issueAuthorizationCode(Self.codeRequest(f), client: f.client, user: f.user, by: .system)
                return try await tenant.startOAuthGrant(Self.codeRequest(f), code: SecretToken(parsing: code, as: .authorizationCode)!,
                                                        client: f.client, by: .system)
            }
            #expect(try await store.database.read(org: f.org) { try await $0.oauthGrantIsLive(live.id) })
            // Another organisation neither sees nor ends it.
            let other = try await Self.fixture(store)
            #expect(try await store.database.read(org: other.org) { try await $0.oauthGrants() }.isEmpty)
            #expect(try await store.database.write(org: other.org) {
                try await $0.revokeLiveOAuthGrant(live.id, reason: "test", by: .system)
            } == false)
            #expect(try await store.database.read(org: f.org) { try await $0.oauthGrants().map(\.id) } == [live.id])
            _ = try await store.database.write(org: f.org) { try await $0.setUserStatus(f.user.id, .deactivated, by: .system) }
            #expect(try await store.database.read(org: f.org) { try await $0.oauthGrantIsLive(live.id) } == false)
            guard case .invalid = try await rotate(token!) else { Issue.record("a deactivated person's token must die"); return }
        }
    }

    static func material(_ key: OAuthSigningKey) -> Data {
        switch key.privateKey {
        case .es256(let privateKey): privateKey.rawRepresentation
        case .rs256(let privateKey): privateKey.derRepresentation
        }
    }

    @Test(arguments: Backend.all)
    func signingKeysAreSealedPerOrganisationAndRotateWithOverlap(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await Self.fixture(store)
            let keys = store.keys
            let first = try await store.database.write(org: f.org) { tenant in
                try await tenant.ensureOAuthSigningKey(keys: keys)
                try await tenant.ensureOAuthSigningKey(keys: keys)
                return try await tenant.oauthSigningKeys(keys: keys)
            }
            #expect(first.map(\.algorithm) == ["ES256", "RS256"] && first.allSatisfy { $0.retiredAt == nil },
                    "one key of each algorithm; a second call makes no second pair")
            let rotated = try await store.database.write(org: f.org) { try await $0.rotateOAuthSigningKey(keys: keys, by: .system) }
            let after = try await store.database.read(org: f.org) { try await $0.oauthSigningKeys(keys: keys) }
            #expect(after.map(\.algorithm) == ["ES256", "RS256", "ES256", "RS256"], "both algorithms rotate together")
            #expect(after[0].kid == rotated.kid && Array(after[2...].map(\.kid)) == first.map(\.kid))
            #expect(after[0...1].allSatisfy { $0.retiredAt == nil } && after[2...].allSatisfy { $0.retiredAt != nil })
            #expect(Self.material(after[2]) == Self.material(first[0]) && Self.material(after[3]) == Self.material(first[1]),
                    "the retired keys unseal to what they were")
            if case .rs256(let rsa) = after[1].privateKey { #expect(rsa.keySizeInBits == 2048) } else { Issue.record("not RSA") }
            let other = try await Self.fixture(store)
            #expect(try await store.database.read(org: other.org) { try await $0.oauthSigningKeys(keys: keys) }.isEmpty)
        }
    }
}
