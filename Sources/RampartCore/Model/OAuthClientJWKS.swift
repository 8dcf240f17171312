import Crypto
import Foundation

/// The algorithm of the tokens Rampart signs for a client: ES256 unless a product can only
/// check RSA signatures (OpenID Connect Core section 15.1 makes RS256 the one every relying
/// party supports).
public enum OAuthTokenSigningAlgorithm: String, Codable, Sendable, CaseIterable {
    case es256 = "ES256"
    case rs256 = "RS256"
}

/// The public keys a `private_key_jwt` client registers (RFC 7517): RSA keys of 2048 to 4096
/// bits and EC P-256 keys. Only the public members are kept; a document holding private key
/// material or a symmetric key is refused whole, since whoever pasted it has leaked it.
public struct OAuthClientJWKS: Sendable, Equatable, Codable {
    public struct Key: Sendable, Equatable, Codable {
        public let kty: String
        public let kid: String?
        public let alg: String?
        public let n: String?
        public let e: String?
        public let crv: String?
        public let x: String?
        public let y: String?

        /// The assertion algorithms this key may check: its own `alg` if it names one.
        public var algorithms: [String] {
            let all = kty == "RSA" ? OAuthClientJWKS.rsaAlgorithms : OAuthClientJWKS.ecAlgorithms
            return alg.map { [$0] } ?? all
        }
    }

    public let keys: [Key]

    public static let maximumKeys = 10
    public static let maximumBytes = 16 * 1024
    public static let rsaAlgorithms = ["RS256", "RS384", "RS512", "PS256"]
    public static let ecAlgorithms = ["ES256"]
    /// What a client assertion may be signed with; never `none` nor an HMAC, whose key would be public.
    public static let assertionAlgorithms = rsaAlgorithms + ecAlgorithms
    /// Members only a private or symmetric key has.
    public static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    /// Checks a JWKS as an admin gave it (`field` names it in the error).
    public static func parse(_ value: JSONValue, field: String) throws(RampartError) -> OAuthClientJWKS {
        guard value.canonical.utf8.count <= maximumBytes else {
            throw .invalidField(field, "must be at most \(maximumBytes) bytes")
        }
        guard case .object(let document) = value, case .array(let items)? = document["keys"] else {
            throw .invalidField(field, "must be a JSON Web Key Set: an object with a \"keys\" array")
        }
        guard (1...maximumKeys).contains(items.count) else {
            throw .invalidField(field, "must hold between 1 and \(maximumKeys) keys")
        }
        var keys: [Key] = []
        for item in items {
            let key = try parseKey(item, field: field)
            if let kid = key.kid, keys.contains(where: { $0.kid == kid }) {
                throw .invalidField(field, "must not hold two keys with the kid \"\(kid)\"")
            }
            keys.append(key)
        }
        return OAuthClientJWKS(keys: keys)
    }

    /// The stored form, read back with `decode`.
    public var json: String {
        String(decoding: try! JSONEncoder().encode(self), as: UTF8.self)
    }

    public static func decode(_ text: String) throws -> OAuthClientJWKS {
        try JSONDecoder().decode(OAuthClientJWKS.self, from: Data(text.utf8))
    }

    private static func parseKey(_ item: JSONValue, field: String) throws(RampartError) -> Key {
        guard case .object(let members) = item else { throw .invalidField(field, "must hold keys that are JSON objects") }
        func text(_ name: String) throws(RampartError) -> String? {
            guard let value = members[name] else { return nil }
            guard case .string(let string) = value, (1...2048).contains(string.utf8.count) else {
                throw .invalidField(field, "has a key whose \"\(name)\" is not a short string")
            }
            return string
        }
        let kty = try text("kty")
        if kty == "oct" { throw .invalidField(field, "must not hold symmetric (oct) keys: register public RSA or EC keys") }
        if let member = privateMembers.first(where: { members[$0] != nil }) {
            throw .invalidField(field, "must hold public keys only: a key has the private member \"\(member)\"")
        }
        if let use = try text("use"), use != "sig" { throw .invalidField(field, "has a key whose use is not sig") }
        let kid = try text("kid")
        if let kid, kid.utf8.count > 200 { throw .invalidField(field, "has a kid longer than 200 characters") }
        let alg = try text("alg")
        switch kty {
        case "RSA":
            if let alg, !rsaAlgorithms.contains(alg) {
                throw .invalidField(field, "has an RSA key whose alg is not one of \(rsaAlgorithms.joined(separator: ", "))")
            }
            guard let n = try text("n"), let e = try text("e"), let modulus = Data(base64URLEncoded: n),
                  let exponent = Data(base64URLEncoded: e), (1...4).contains(exponent.count) else {
                throw .invalidField(field, "has an RSA key without a base64url modulus (n) and exponent (e)")
            }
            let bits = (modulus.count - (modulus.first == 0 ? 1 : 0)) * 8
            guard (2048...4096).contains(bits) else { throw .invalidField(field, "has an RSA key that is not 2048 to 4096 bits") }
            return Key(kty: "RSA", kid: kid, alg: alg, n: n, e: e, crv: nil, x: nil, y: nil)
        case "EC":
            guard try text("crv") == "P-256" else { throw .invalidField(field, "has an EC key not on the P-256 curve") }
            if let alg, !ecAlgorithms.contains(alg) { throw .invalidField(field, "has an EC key whose alg is not ES256") }
            guard let x = try text("x"), let y = try text("y"), let xBytes = Data(base64URLEncoded: x),
                  let yBytes = Data(base64URLEncoded: y), xBytes.count == 32, yBytes.count == 32,
                  (try? P256.Signing.PublicKey(rawRepresentation: xBytes + yBytes)) != nil else {
                throw .invalidField(field, "has an EC key whose x and y are not a point of P-256")
            }
            return Key(kty: "EC", kid: kid, alg: alg, n: nil, e: nil, crv: "P-256", x: x, y: y)
        default:
            throw .invalidField(field, "must hold RSA or EC keys (kty RSA or EC)")
        }
    }
}
