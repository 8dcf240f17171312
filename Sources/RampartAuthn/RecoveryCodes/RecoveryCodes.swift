import Crypto
import RampartCore

/// Single-use codes that stand in for a second factor when the person has lost it.
///
/// Each code carries 80 random bits, so a fast hash (SHA-256) is enough to store it: like
/// API tokens, a code cannot be guessed offline from its hash in any useful time.
public enum RecoveryCodes {
    public static let count = 10
    /// Crockford's base32 alphabet: no I, L, O or U to misread.
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A fresh set: the texts to show once, and the hashes to store.
    public static func generate() -> [(code: String, hash: String)] {
        (0..<count).map { _ in
            let random = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0.prefix(10)) }
            var symbols = [UInt8]()
            var buffer: UInt32 = 0
            var bits = 0
            for byte in random {
                buffer = buffer << 8 | UInt32(byte); bits += 8
                while bits >= 5 { symbols.append(alphabet[Int(buffer >> UInt32(bits - 5) & 0x1F)]); bits -= 5 }
            }
            let text = String(decoding: symbols, as: UTF8.self)
            let grouped = stride(from: 0, to: 16, by: 4).map { i in
                String(text.dropFirst(i).prefix(4))
            }.joined(separator: "-")
            return (grouped, hash(grouped))
        }
    }

    /// The hash stored for a code. People type codes with or without hyphens, in either case,
    /// so the canonical form drops separators and lowers the case first.
    public static func hash(_ presented: String) -> String {
        SecretToken.hash(canonical(presented))
    }

    /// Whether `presented` looks like a recovery code at all (16 symbols of the alphabet).
    public static func isWellFormed(_ presented: String) -> Bool {
        let text = canonical(presented)
        return text.utf8.count == 16 && text.utf8.allSatisfy(alphabet.contains)
    }

    /// Finds which stored hash a presented code matches, comparing every one in constant time.
    public static func match(_ presented: String, among hashes: [String]) -> String? {
        let candidate = hash(presented)
        var found: String?
        for stored in hashes where constantTimeEquals(candidate, stored) { found = stored }
        return found
    }

    private static func canonical(_ text: String) -> String {
        String(text.lowercased().filter { $0 != "-" && $0 != " " })
    }
}
