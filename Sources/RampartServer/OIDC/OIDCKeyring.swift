import Crypto
import CryptoExtras
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
        /// The key that signs, for each algorithm.
        let signingKids: [String: String]
        /// The algorithm of every published key: a token must name its key's own algorithm.
        let kids: [String: String]
        let jwks: [JWKBody]
        let loadedAt: Date
    }

    /// A public key as RFC 7517 and RFC 7518 sections 6.2 (EC) and 6.3 (RSA) write it.
    struct JWKBody: Encodable, Sendable {
        let kty: String
        var crv: String?
        let use = "sig"
        let alg: String
        let kid: String
        var x: String?
        var y: String?
        var n: String?
        var e: String?
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
        let live = Set(stored.filter { $0.retiredAt == nil }.map(\.algorithm))
        if !Tenant.signingAlgorithms.allSatisfy(live.contains) {
            stored = try await database.write(org: orgID) { tenant in
                try await tenant.ensureOAuthSigningKey(keys: keyService)
                return try await tenant.oauthSigningKeys(keys: keyService)
            }
        }
        let collection = JWTKeyCollection()
        var jwks: [JWKBody] = []
        for key in stored {
            let kid = JWKIdentifier(string: key.kid)
            switch key.privateKey {
            case .es256(let privateKey):
                await collection.add(ecdsa: try ES256PrivateKey(backing: privateKey), kid: kid)
                let point = privateKey.publicKey.x963Representation  // 0x04 || X || Y
                jwks.append(JWKBody(kty: "EC", crv: "P-256", alg: "ES256", kid: key.kid, x: Data(point[1..<33]).base64URLEncoded,
                                    y: Data(point[33..<65]).base64URLEncoded))
            case .rs256(let privateKey):
                await collection.add(rsa: try Insecure.RSA.PrivateKey(backing: privateKey), digestAlgorithm: .sha256, kid: kid)
                let primitives = try privateKey.publicKey.getKeyPrimitives()
                jwks.append(JWKBody(kty: "RSA", alg: "RS256", kid: key.kid, n: primitives.modulus.base64URLEncoded,
                                    e: primitives.publicExponent.base64URLEncoded))
            }
        }
        var signingKids: [String: String] = [:]
        for key in stored where key.retiredAt == nil && signingKids[key.algorithm] == nil { signingKids[key.algorithm] = key.kid }
        guard Tenant.signingAlgorithms.allSatisfy({ signingKids[$0] != nil }) else {
            throw RampartError(.integrity, "The organisation has no live token signing key.")
        }
        let kids = Dictionary(stored.map { ($0.kid, $0.algorithm) }, uniquingKeysWith: { first, _ in first })
        let keys = Keys(collection: collection, signingKids: signingKids, kids: kids, jwks: jwks, loadedAt: Date())
        cache.withLockedValue { $0[orgID] = keys }
        return keys
    }

    func sign(_ payload: some JWTPayload, orgID: String, type: String, algorithm: OAuthTokenSigningAlgorithm = .es256) async throws
        -> String
    {
        let keys = try await keys(orgID: orgID)
        guard let kid = keys.signingKids[algorithm.rawValue] else {
            throw RampartError(.integrity, "The organisation has no live \(algorithm.rawValue) signing key.")
        }
        var header = JWTHeader()
        header.typ = type
        header.alg = algorithm.rawValue
        return try await keys.collection.sign(payload, kid: JWKIdentifier(string: kid), header: header)
    }

    /// The payload of a token this organisation signed, or nil for anything else: an
    /// algorithm other than its key's (`none`, HS256 made with the public key, RS256 named
    /// with the EC key's kid), an unknown key id, a wrong `typ`, a bad signature, or an
    /// expired token. The header is checked before jwt-kit sees the token, because jwt-kit
    /// falls back to its default key for a kid it does not know and uses a kid's key
    /// whatever algorithm the header names.
    func verify<Payload: JWTPayload>(_ token: String, orgID: String, type: String, as _: Payload.Type) async throws -> Payload? {
        guard let header = Self.header(of: token), let alg = header.alg, Tenant.signingAlgorithms.contains(alg),
              header.typ?.lowercased() == type, let kid = header.kid else { return nil }
        var keys = try await keys(orgID: orgID)
        if keys.kids[kid] == nil, Date().timeIntervalSince(keys.loadedAt) > 5 {
            keys = try await load(orgID: orgID)
        }
        guard keys.kids[kid] == alg else { return nil }
        return try? await keys.collection.verify(token, as: Payload.self)
    }

    struct Header: Decodable {
        let alg: String?
        let kid: String?
        let typ: String?
    }

    static func header(of token: String) -> Header? {
        guard token.utf8.count <= 16_384, let dot = token.firstIndex(of: "."),
              let data = Data(base64URLEncoded: String(token[..<dot])) else { return nil }
        return try? JSONDecoder().decode(Header.self, from: data)
    }
}
