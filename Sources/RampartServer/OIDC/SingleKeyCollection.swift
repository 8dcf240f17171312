import Foundation
import JWTKit
import RampartCore

/// A jwt-kit collection holding one public key for one algorithm, so that a signature is
/// checked with exactly that key and algorithm and nothing else: for the keys products
/// register (client assertions) and the keys upstream identity providers publish (ID tokens).
enum SingleKeyCollection {
    static func make(_ key: OAuthClientJWKS.Key, alg: String) async -> JWTKeyCollection? {
        let collection = JWTKeyCollection()
        switch key.kty {
        case "EC":
            guard let x = key.x, let y = key.y else { return nil }
            switch (alg, key.crv) {
            case ("ES256", "P-256"):
                guard let publicKey = try? ES256PublicKey(parameters: (x: x, y: y)) else { return nil }
                await collection.add(ecdsa: publicKey)
            case ("ES384", "P-384"):
                guard let publicKey = try? ES384PublicKey(parameters: (x: x, y: y)) else { return nil }
                await collection.add(ecdsa: publicKey)
            default: return nil
            }
        case "RSA":
            // 2048 bits at least: a shorter key is refused whoever publishes it.
            guard let n = key.n, let e = key.e, let modulus = Data(base64URLEncoded: n), modulus.count >= 256,
                  let publicKey = try? Insecure.RSA.PublicKey(modulus: n, exponent: e) else { return nil }
            switch alg {
            case "RS256": await collection.add(rsa: publicKey, digestAlgorithm: .sha256)
            case "RS384": await collection.add(rsa: publicKey, digestAlgorithm: .sha384)
            case "RS512": await collection.add(rsa: publicKey, digestAlgorithm: .sha512)
            case "PS256": await collection.add(pss: publicKey, digestAlgorithm: .sha256)
            case "PS384": await collection.add(pss: publicKey, digestAlgorithm: .sha384)
            case "PS512": await collection.add(pss: publicKey, digestAlgorithm: .sha512)
            default: return nil
            }
        default: return nil
        }
        return collection
    }
}
