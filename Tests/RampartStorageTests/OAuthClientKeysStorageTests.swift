import Crypto
import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import Testing

/// `private_key_jwt` clients in storage: their public keys instead of a secret, the token
/// signing algorithm they ask for, and the register that lets each client assertion be used
/// once, even when two nodes see it at the same moment.
@Suite("OAuth client keys storage")
struct OAuthClientKeysStorageTests {
    /// A P-256 public key as a JWK, made fresh so no test shares one.
    static func ecJWK(kid: String, extra: [String: JSONValue] = [:]) -> JSONValue {
        let point = P256PublicPoint.make()
        return .object(["kty": .string("EC"), "crv": .string("P-256"), "kid": .string(kid), "x": .string(point.x),
                        "y": .string(point.y)].merging(extra) { $1 })
    }

    static func jwks(_ keys: JSONValue...) -> JSONValue { .object(["keys": .array(keys)]) }

    struct Fixture: Sendable {
        let org: String
        let productID: String
    }

    static func fixture(_ store: TestStore) async throws -> Fixture {
        let org = try await store.createOrganization().organization.id
        let product = try await store.database.write(org: org) {
            try await $0.createProduct(name: "Reports", kind: .wiki, url: "https://reports.example.test", by: .system)
        }
        return Fixture(org: org, productID: product.id)
    }

    static func createKeyClient(_ store: TestStore, _ f: Fixture, name: String = "Reports",
                                jwks: OAuthClientJWKS) async throws -> (OAuthClient, String?) {
        try await store.database.write(org: f.org) {
            try await $0.createOAuthClient(productID: f.productID, name: name, type: .confidential, authMethod: .privateKeyJWT,
                                           firstParty: true, redirectURIs: ["https://reports.example.test/cb"],
                                           postLogoutRedirectURIs: [], scopes: ["reports:read"], jwks: jwks,
                                           idTokenSigningAlg: .rs256, by: .system)
        }
    }

    @Test(arguments: Backend.all)
    func aKeyClientHasNoSecretKeepsOnlyPublicMembersAndIsAudited(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await Self.fixture(store)
            let given = Self.jwks(Self.ecJWK(kid: "k1", extra: ["x5c": .array([.string("ignored")])]))
            let (client, secret) = try await Self.createKeyClient(store, f, jwks: try OAuthClientJWKS.parse(given, field: "jwks"))
            #expect(secret == nil, "a private_key_jwt client gets no secret")
            let read = try await store.database.read(org: f.org) { try await $0.requireOAuthClient(client.id) }
            #expect(read.authMethod == .privateKeyJWT && read.idTokenSigningAlg == .rs256)
            #expect(read.jwks?.keys.map(\.kid) == ["k1"] && read == client)
            let stored = try await store.asOwner { database in
                try await database.read(org: f.org) { tenant in
                    try await tenant.sql.raw("SELECT jwks, secret_hash FROM oauth_clients WHERE org_id = \(bind: f.org)").all()
                        .map { (try $0.decode(column: "jwks", as: String.self), try $0.decode(column: "secret_hash", as: String?.self)) }
                }
            }
            #expect(stored.count == 1 && stored[0].1 == nil && !stored[0].0.contains("x5c"), "only the public members are kept")

            await #expect(throws: RampartError.self) {
                try await store.database.write(org: f.org) {
                    try await $0.rotateOAuthClientSecret(client.id, overlapSeconds: 0, by: .system)
                }
            }
            let events = try await store.database.read(org: f.org) { try await $0.auditEvents(after: 0, limit: 100) }
            let created = try #require(events.first { $0.action == "oauth_client.created" })
            #expect(created.detailsJSON.contains("\"idTokenSigningAlg\":\"RS256\"") && created.detailsJSON.contains("\"kid\":\"k1\""))
            #expect(!events.contains { $0.action == "oauth_client.secret_rotated" }, "a refused rotation leaves no event")
        }
    }

    static func changes(authMethod: OAuthClientAuthMethod? = nil, jwks: OAuthClientJWKS? = nil) -> OAuthClientChanges {
        var changes = OAuthClientChanges()
        changes.authMethod = authMethod
        changes.jwks = jwks
        return changes
    }

    @Test(arguments: Backend.all)
    func movingBetweenKeysAndSecretsEndsTheOldCredential(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await Self.fixture(store)
            let (client, secret) = try await store.database.write(org: f.org) {
                try await $0.createOAuthClient(productID: f.productID, name: "Reports", type: .confidential, authMethod: nil,
                                               firstParty: true, redirectURIs: ["https://reports.example.test/cb"],
                                               postLogoutRedirectURIs: [], scopes: nil, by: .system)
            }
            let keysOnly = Self.changes(authMethod: .privateKeyJWT)
            await #expect(throws: RampartError.self, "private_key_jwt needs keys") {
                try await store.database.write(org: f.org) { try await $0.updateOAuthClient(client.id, keysOnly, by: .system) }
            }
            let jwks = try OAuthClientJWKS.parse(Self.jwks(Self.ecJWK(kid: "k1")), field: "jwks")
            let toKeys = Self.changes(authMethod: .privateKeyJWT, jwks: jwks)
            let moved = try await store.database.write(org: f.org) { try await $0.updateOAuthClient(client.id, toKeys, by: .system) }
            #expect(moved.authMethod == .privateKeyJWT && moved.jwks?.keys.count == 1)
            #expect(try await store.database.read(org: f.org) { try await $0.verifyOAuthClientSecret(client.id, secret!) } == false,
                    "the secret ends with the move to keys")

            let back = Self.changes(authMethod: .clientSecretBasic)
            let returned = try await store.database.write(org: f.org) { try await $0.updateOAuthClient(client.id, back, by: .system) }
            #expect(returned.jwks == nil && returned.authMethod == .clientSecretBasic)
            let (_, newSecret) = try await store.database.write(org: f.org) {
                try await $0.rotateOAuthClientSecret(client.id, overlapSeconds: 0, by: .system)
            }
            #expect(try await store.database.read(org: f.org) { try await $0.verifyOAuthClientSecret(client.id, newSecret) })

            let keysOnSecret = Self.changes(jwks: jwks)
            await #expect(throws: RampartError.self, "keys only for private_key_jwt") {
                try await store.database.write(org: f.org) { try await $0.updateOAuthClient(client.id, keysOnSecret, by: .system) }
            }
            let updates = try await store.database.read(org: f.org) {
                try await $0.auditEvents(after: 0, limit: 100).filter { $0.action == "oauth_client.updated" }
            }
            #expect(updates.count == 2 && updates[0].detailsJSON.contains("tokenEndpointAuthMethod"))
        }
    }

    @Test
    func aJWKSWithPrivateOrSymmetricKeysIsRefusedNamingTheField() throws {
        let refusals: [(JSONValue, String)] = [
            (Self.jwks(Self.ecJWK(kid: "a", extra: ["d": .string("AAAA")])), "private member \"d\""),
            (Self.jwks(.object(["kty": .string("oct"), "k": .string("c2VjcmV0")])), "symmetric (oct)"),
            (Self.jwks(Self.ecJWK(kid: "a", extra: ["crv": .string("P-384")])), "P-256"),
            (Self.jwks(Self.ecJWK(kid: "a", extra: ["x": .string("AAAA")])), "point of P-256"),
            (Self.jwks(.object(["kty": .string("RSA"), "n": .string("AQAB"), "e": .string("AQAB")])), "2048 to 4096"),
            (Self.jwks(Self.ecJWK(kid: "a"), Self.ecJWK(kid: "a")), "two keys"),
            (.object(["keys": .array(Array(repeating: Self.ecJWK(kid: "x"), count: 11))]), "between 1 and 10"),
            (.object(["keys": .array([])]), "between 1 and 10"),
            (.array([]), "JSON Web Key Set"),
        ]
        for (value, problem) in refusals {
            do {
                _ = try OAuthClientJWKS.parse(value, field: "jwks")
                Issue.record("accepted: \(value.canonical)")
            } catch {
                #expect(error.field == "jwks" && error.message.contains(problem), "\(error.message)")
            }
        }
        let accepted = try OAuthClientJWKS.parse(Self.jwks(Self.ecJWK(kid: "a", extra: ["alg": .string("ES256")])), field: "jwks")
        #expect(accepted.keys[0].algorithms == ["ES256"])
    }

    @Test(arguments: Backend.all)
    func anAssertionIdIsUsedOncePerClientUntilItExpires(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await Self.fixture(store)
            let other = try await Self.fixture(store)
            let later = Timestamp.now().adding(seconds: 300)
            let use = { (org: String, client: String, jti: String, expiresAt: Timestamp) in
                try await store.database.write(org: org) {
                    try await $0.useOAuthClientAssertion(clientID: client, jti: jti, expiresAt: expiresAt)
                }
            }
            #expect(try await use(f.org, "client-a", "jti-1", later))
            #expect(try await use(f.org, "client-a", "jti-1", later) == false, "a second use is refused")
            #expect(try await use(f.org, "client-b", "jti-1", later), "another client's jti is its own")
            #expect(try await use(other.org, "client-a", "jti-1", later), "another organisation's register is its own")

            #expect(try await use(f.org, "client-a", "jti-old", Timestamp.now().adding(seconds: -1)))
            _ = try await use(f.org, "client-a", "jti-2", later)  // prunes what has expired
            let remaining = try await store.asOwner { database in
                try await database.read(org: f.org) { tenant in
                    try await tenant.sql.raw("""
                        SELECT jti FROM oauth_client_assertions WHERE org_id = \(bind: f.org) ORDER BY client_id, jti
                        """).all().map { try $0.decode(column: "jti", as: String.self) }
                }
            }
            #expect(remaining == ["jti-1", "jti-2", "jti-1"], "the expired entry is gone, the live ones stay")
        }
    }

    @Test(arguments: Backend.all)
    func twoConcurrentUsesOfOneAssertionLetExactlyOneThrough(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let f = try await Self.fixture(store)
            let expiresAt = Timestamp.now().adding(seconds: 300)
            for round in 0..<8 {
                let jti = "race-\(round)"
                let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            try await store.database.write(org: f.org) {
                                try await $0.useOAuthClientAssertion(clientID: "client-a", jti: jti, expiresAt: expiresAt)
                            }
                        }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(results.filter { $0 }.count == 1, "round \(round): \(results)")
            }
        }
    }
}

/// A fresh point of P-256 in the JWK's base64url coordinates.
enum P256PublicPoint {
    static func make() -> (x: String, y: String) {
        let raw = Array(P256.Signing.PrivateKey().publicKey.rawRepresentation)
        return (Data(raw[0..<32]).base64URLEncoded, Data(raw[32..<64]).base64URLEncoded)
    }
}
