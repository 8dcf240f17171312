import Crypto
import Foundation
import JWTKit
import NIOConcurrencyHelpers
import RampartCore
import RampartStorage

/// The token signing keys of each organisation's OpenID Connect provider, kept in memory
/// after the first read: signing and checking a token must not cost a database read and an
/// unseal. The keys are read again after `refreshSeconds` (a rotation on another node shows
/// here within that time) and at once when a token names a key this node has not seen.
final class OIDCKeyring: Sendable {
    struct Keys: Sendable {
        let collection: JWTKeyCollection
        let signingKid: String
        let kids: Set<String>
        let jwks: [JWKBody]
        let loadedAt: Date
    }

    /// A public key as RFC 7517 and RFC 7518 section 6.2 write it.
    struct JWKBody: Encodable, Sendable {
        let kty = "EC"
        let crv = "P-256"
        let use = "sig"
        let alg: String
        let kid: String
        let x: String
        let y: String
    }

    static let refreshSeconds: TimeInterval = 60
    private let database: Database
    private let keyService: KeyService
    private let cache = NIOLockedValueBox<[String: Keys]>([:])

    init(database: Database, keys: KeyService) {
        self.database = database
        self.keyService = keys
    }

    func keys(orgID: String) async throws -> Keys {
        if let cached = cache.withLockedValue({ $0[orgID] }), Date().timeIntervalSince(cached.loadedAt) < Self.refreshSeconds {
            return cached
        }
        return try await load(orgID: orgID)
    }

    /// Reads the keys again now: after a rotation here, or for a token signed by a key that
    /// another node made since this one last read them.
    @discardableResult
    func load(orgID: String) async throws -> Keys {
        let keyService = self.keyService
        var stored = try await database.read(org: orgID) { try await $0.oauthSigningKeys(keys: keyService) }
        if !stored.contains(where: { $0.retiredAt == nil }) {
            stored = try await database.write(org: orgID) { tenant in
                try await tenant.ensureOAuthSigningKey(keys: keyService)
                return try await tenant.oauthSigningKeys(keys: keyService)
            }
        }
        let collection = JWTKeyCollection()
        var jwks: [JWKBody] = []
        for key in stored {
            await collection.add(ecdsa: try ES256PrivateKey(backing: key.privateKey), kid: JWKIdentifier(string: key.kid))
            let point = key.privateKey.publicKey.x963Representation  // 0x04 || X || Y
            jwks.append(JWKBody(alg: key.algorithm, kid: key.kid, x: Data(point[1..<33]).base64URLEncoded,
                                y: Data(point[33..<65]).base64URLEncoded))
        }
        guard let signing = stored.first(where: { $0.retiredAt == nil }) else {
            throw RampartError(.integrity, "The organisation has no live token signing key.")
        }
        let keys = Keys(collection: collection, signingKid: signing.kid, kids: Set(stored.map(\.kid)), jwks: jwks, loadedAt: Date())
        cache.withLockedValue { $0[orgID] = keys }
        return keys
    }

    func sign(_ payload: some JWTPayload, orgID: String, type: String) async throws -> String {
        let keys = try await keys(orgID: orgID)
        var header = JWTHeader()
        header.typ = type
        header.alg = "ES256"
        return try await keys.collection.sign(payload, kid: JWKIdentifier(string: keys.signingKid), header: header)
    }

    /// The payload of a token this organisation signed, or nil for anything else: another
    /// algorithm (`none`, HS256 made with the public key), an unknown key id, a wrong `typ`,
    /// a bad signature, or an expired token. The header is checked before jwt-kit sees the
    /// token, because jwt-kit falls back to its default key for a kid it does not know.
    func verify<Payload: JWTPayload>(_ token: String, orgID: String, type: String, as _: Payload.Type) async throws -> Payload? {
        guard let header = Self.header(of: token), header.alg == "ES256", header.typ?.lowercased() == type,
              let kid = header.kid else { return nil }
        var keys = try await keys(orgID: orgID)
        if !keys.kids.contains(kid), Date().timeIntervalSince(keys.loadedAt) > 5 {
            keys = try await load(orgID: orgID)
        }
        guard keys.kids.contains(kid) else { return nil }
        return try? await keys.collection.verify(token, as: Payload.self)
    }

    private struct Header: Decodable {
        let alg: String?
        let kid: String?
        let typ: String?
    }

    private static func header(of token: String) -> Header? {
        guard token.utf8.count <= 16_384, let dot = token.firstIndex(of: "."),
              let data = Data(base64URLEncoded: String(token[..<dot])) else { return nil }
        return try? JSONDecoder().decode(Header.self, from: data)
    }
}
