import Crypto
import Foundation

/// A bearer secret that names its organisation: `<kind>_<org id, 32 hex>_<256 random bits, base64url>`.
///
/// The organisation part lets the server scope the lookup to one tenant before it reads
/// anything (on PostgreSQL, row-level security needs the tenant first). Only the SHA-256
/// of the whole string is stored: the secret has 256 bits of entropy, so a slow hash adds nothing.
public struct SecretToken: Sendable {
    public enum Kind: String, Sendable {
        case apiToken = "rmp"
        case session = "rms"
        case setupLink = "rmu"
        case scimToken = "rsc"
        case clientSecret = "rcs"
        case authorizationCode = "rac"
        case refreshToken = "rrt"
        case ingestionKey = "rik"
    }

    public let kind: Kind
    public let orgID: String
    public let text: String

    public static func generate(_ kind: Kind, orgID: String) -> SecretToken {
        let random = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let secret = random.base64URLEncoded
        return SecretToken(kind: kind, orgID: orgID, text: "\(kind.rawValue)_\(Identifier.compact(orgID))_\(secret)")
    }

    private init(kind: Kind, orgID: String, text: String) {
        self.kind = kind; self.orgID = orgID; self.text = text
    }

    /// Parses a presented secret; nil for anything malformed (the caller answers 401 either way).
    public init?(parsing text: String, as kind: Kind) {
        let utf8 = text.utf8
        // kind (3) + "_" + org (32) + "_" + secret (43 base64url characters, 256 bits)
        guard utf8.count == 80, utf8.starts(with: kind.rawValue.utf8),
              utf8[utf8.index(utf8.startIndex, offsetBy: 3)] == UInt8(ascii: "_"),
              utf8[utf8.index(utf8.startIndex, offsetBy: 36)] == UInt8(ascii: "_"),
              let org = Identifier.expand(compact: Substring(utf8.dropFirst(4).prefix(32))),
              utf8.dropFirst(37).allSatisfy(Self.isBase64URL)
        else { return nil }
        self.init(kind: kind, orgID: org, text: text)
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): return true
        default: return false
        }
    }

    public var hash: String { SecretToken.hash(text) }

    public static func hash(_ text: String) -> String {
        // Straight from the string's own bytes: `Data(text.utf8)` copied them first, on every request.
        var text = text
        return text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }.hexString
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 section 5), as credentials and JOSE write it.
    /// Maps the bytes of the standard alphabet: `replacingOccurrences(of:with:)` goes through
    /// NSString on Linux, three times over, and was most of the cost of making a refresh token.
    public var base64URLEncoded: String {
        var bytes = Array(base64EncodedString().utf8)
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        for i in bytes.indices {
            if bytes[i] == UInt8(ascii: "+") { bytes[i] = UInt8(ascii: "-") } else if bytes[i] == UInt8(ascii: "/") { bytes[i] = UInt8(ascii: "_") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public init?(base64URLEncoded text: String) {
        var bytes = Array(text.utf8)
        for i in bytes.indices {
            if bytes[i] == UInt8(ascii: "-") { bytes[i] = UInt8(ascii: "+") } else if bytes[i] == UInt8(ascii: "_") { bytes[i] = UInt8(ascii: "/") }
        }
        bytes += Array(repeating: UInt8(ascii: "="), count: (4 - bytes.count % 4) % 4)
        self.init(base64Encoded: Data(bytes))
    }
}

extension Sequence where Element == UInt8 {
    public var hexString: String {
        var out = [UInt8]()
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(lowercaseHexDigits[Int(byte >> 4)])
            out.append(lowercaseHexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The digits every hex writer in Rampart uses: ids, digests, JSON escapes.
let lowercaseHexDigits = Array("0123456789abcdef".utf8)

extension SHA256.Digest {
    /// Not through the generic `Sequence.hexString`: called from another module, that one runs
    /// unspecialised, through witness tables for every byte, on every request's token hash.
    public var hexString: String {
        withUnsafeBytes { digest in
            String(unsafeUninitializedCapacity: digest.count * 2) { out in
                for (i, byte) in digest.enumerated() {
                    out[2 * i] = lowercaseHexDigits[Int(byte >> 4)]
                    out[2 * i + 1] = lowercaseHexDigits[Int(byte & 0x0F)]
                }
                return digest.count * 2
            }
        }
    }
}

/// Compares two secrets' representations without leaking where they differ.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
}
