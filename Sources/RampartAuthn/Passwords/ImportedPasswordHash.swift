import CCrypt
import Crypto
import CryptoExtras
import Foundation
import RampartCore

/// A password hash brought from another system. It verifies as it is, through the standard
/// library for its scheme, and is replaced by Argon2id at the next successful sign-in.
///
/// Accepted forms:
/// - bcrypt, Modular Crypt Format: `$2a$`, `$2b$` or `$2y$` + cost + 53 characters (libxcrypt's `crypt_r`);
/// - PBKDF2 in Django's form: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (also `pbkdf2_sha512`);
/// - PBKDF2 in passlib's form: `$pbkdf2-sha256$<iterations>$<ab64 salt>$<ab64 hash>` (also `-sha512`).
public enum ImportedPasswordHash: Sendable, Equatable {
    case bcrypt(String)
    case pbkdf2(PBKDF2Hash)

    public struct PBKDF2Hash: Sendable, Equatable {
        public enum Digest: String, Sendable { case sha256, sha512 }
        public let digest: Digest
        public let iterations: Int
        public let salt: [UInt8]
        public let hash: [UInt8]
    }

    /// Fewer rounds than this make an imported PBKDF2 hash too cheap to be worth keeping even until the next sign-in.
    public static let minimumPBKDF2Iterations = 1_000
    /// More than this would let one import make every sign-in of that user a denial of service.
    public static let maximumPBKDF2Iterations = 10_000_000

    /// Parses an imported hash; anything else is refused with a message that does not echo it.
    public init(parsing text: String) throws(RampartError) {
        if Self.isBcrypt(text) { self = .bcrypt(text); return }
        if let pbkdf2 = Self.parseDjango(text) ?? Self.parsePasslib(text) {
            guard (Self.minimumPBKDF2Iterations...Self.maximumPBKDF2Iterations).contains(pbkdf2.iterations) else {
                throw .invalidField("hash", "has a PBKDF2 iteration count outside \(Self.minimumPBKDF2Iterations)–\(Self.maximumPBKDF2Iterations)")
            }
            guard !pbkdf2.salt.isEmpty, pbkdf2.hash.count >= 16 else { throw .invalidField("hash", "is not a PBKDF2 hash Rampart can read") }
            self = .pbkdf2(pbkdf2); return
        }
        throw .invalidField("hash", "is not a bcrypt ($2a$, $2b$, $2y$) or PBKDF2-SHA256/512 hash")
    }

    public var scheme: String {
        switch self {
        case .bcrypt: "bcrypt"
        case .pbkdf2(let p): "pbkdf2-\(p.digest.rawValue)"
        }
    }

    /// Checks a password against the imported hash, comparing digests in constant time.
    /// The password is used as typed (not normalised): the other system hashed what it was given.
    public func verify(_ password: String) -> Bool {
        switch self {
        case .bcrypt(let setting):
            // bcrypt reads at most 72 bytes; a longer password cannot have been the one hashed
            // unless the other system truncated it, which Rampart will not reproduce.
            guard password.utf8.count <= 72, !password.utf8.contains(0) else { return false }
            var data = crypt_data()
            guard let result = crypt_r(password, setting, &data) else { return false }
            let computed = String(cString: result)
            // libxcrypt returns a string starting with '*' on failure, which never equals a hash.
            return constantTimeEquals(computed, setting)
        case .pbkdf2(let p):
            let function: KDF.Insecure.PBKDF2.HashFunction = p.digest == .sha256 ? .sha256 : .sha512
            // Imported hashes may use fewer rounds than swift-crypto's checked minimum; they are
            // verified as they are, bounded at parse time, and replaced on success.
            guard let key = try? KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: p.salt, using: function,
                                                               outputByteCount: p.hash.count, unsafeUncheckedRounds: p.iterations)
            else { return false }
            let derived = key.withUnsafeBytes { Array($0) }
            return constantTimeEquals(derived.hexString, p.hash.hexString)
        }
    }

    private static func isBcrypt(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
              [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
              bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
              let cost = Int(String(decoding: bytes[4...5], as: UTF8.self)), (4...31).contains(cost)
        else { return false }
        return bytes[7...].allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "/"): true
            default: false
            }
        }
    }

    private static func parseDjango(_ text: String) -> PBKDF2Hash? {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, let digest = digest(parts[0], prefix: "pbkdf2_"),
              let iterations = Int(parts[1]), !parts[2].isEmpty,
              let hash = Data(base64Encoded: String(parts[3]))
        else { return nil }
        // Django hashes the salt's text as given.
        return PBKDF2Hash(digest: digest, iterations: iterations, salt: Array(parts[2].utf8), hash: Array(hash))
    }

    private static func parsePasslib(_ text: String) -> PBKDF2Hash? {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, let digest = digest(parts[1], prefix: "pbkdf2-"),
              let iterations = Int(parts[2]), let salt = ab64Decode(parts[3]), let hash = ab64Decode(parts[4])
        else { return nil }
        return PBKDF2Hash(digest: digest, iterations: iterations, salt: salt, hash: hash)
    }

    private static func digest(_ field: Substring, prefix: String) -> PBKDF2Hash.Digest? {
        guard field.hasPrefix(prefix) else { return nil }
        return PBKDF2Hash.Digest(rawValue: String(field.dropFirst(prefix.count)))
    }

    /// passlib's "adapted base64": '.' instead of '+', no padding.
    private static func ab64Decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: ".", with: "+")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
