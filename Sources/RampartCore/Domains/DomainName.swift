import Foundation

/// A domain an organisation may claim: lowercase, internationalised labels in their ASCII
/// (Punycode) form, no trailing dot, a valid host name of two labels or more, not an IP
/// address and not a public suffix. Only `DomainName(parsing:)` makes one.
public struct DomainName: Sendable, Hashable, CustomStringConvertible {
    /// What DNS carries: `xn--bcher-kva.example`.
    public let ascii: String
    /// What people read: `bücher.example` (the same as `ascii` for an ASCII name).
    public let unicode: String
    public var description: String { ascii }

    private static let shape = "must be a domain name such as example.com (no scheme, path, port or address)"

    public init(parsing raw: String, field: String = "domain", publicSuffixes: PublicSuffixList) throws(RampartError) {
        var text = raw.trimming(.whitespacesAndNewlines).precomposedStringWithCanonicalMapping.lowercased()
        // The ideographic and full-width full stops are dots in IDNA too.
        text = String(String.UnicodeScalarView(text.unicodeScalars.map {
            ["\u{3002}", "\u{FF0E}", "\u{FF61}"].contains($0) ? "." : $0
        }))
        if text.hasSuffix(".") { text.removeLast() }
        guard !text.isEmpty else { throw .invalidField(field, "must not be empty") }
        guard !text.contains(where: { "/:@?#[] \\".contains($0) }) else { throw .invalidField(field, Self.shape) }
        let labels: [String]
        do { labels = try Self.asciiLabels(text) } catch { throw .invalidField(field, Self.shape) }
        let ascii = labels.joined(separator: ".")
        guard ascii.utf8.count <= 253 else { throw .invalidField(field, "must be at most 253 characters") }
        guard labels.count >= 2 else {
            throw .invalidField(field, "must be a domain of two labels or more, such as example.com, not a top-level domain")
        }
        // A numeric last label is how an IPv4 address (or a shorthand of one) looks; no TLD is numeric.
        guard !labels.last!.allSatisfy(\.isNumber) else {
            throw .invalidField(field, "must be a domain name, not an IP address")
        }
        // RFC 6761: names under these never resolve, and SCIM's placeholder emails use `.invalid`.
        guard !["invalid", "localhost"].contains(labels.last!) else {
            throw .invalidField(field, "is under a reserved top-level domain that never resolves")
        }
        guard !publicSuffixes.isPublicSuffix(ascii) else {
            throw .invalidField(field, "is a public suffix (anyone can register names under it); claim your own domain below it")
        }
        self.ascii = ascii
        self.unicode = text
    }

    /// The labels of a lowercased name in ASCII, each checked as a host name's (letters,
    /// digits and inner hyphens, 1–63 characters); non-ASCII labels become `xn--` labels.
    static func asciiLabels(_ text: String) throws -> [String] {
        struct Malformed: Error {}
        return try text.split(separator: ".", omittingEmptySubsequences: false).map { label in
            var ascii = String(label)
            if !label.unicodeScalars.allSatisfy(\.isASCII) {
                guard label.unicodeScalars.allSatisfy({ $0.isASCII || $0.properties.isAlphabetic
                        || $0.properties.numericType != nil || $0.properties.generalCategory == .nonspacingMark
                        || $0.properties.generalCategory == .spacingMark }),
                      let encoded = Punycode.encode(String(label))
                else { throw Malformed() }
                ascii = "xn--" + encoded
            }
            guard (1...63).contains(ascii.utf8.count), !ascii.hasPrefix("-"), !ascii.hasSuffix("-"),
                  ascii.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 45 })
            else { throw Malformed() }
            return ascii
        }
    }

    /// The domain of an email address in the same form, or nil when it is not a usable name
    /// (the `.invalid` placeholders SCIM users get are usable, and simply never claimed).
    public static func ofEmail(_ email: String) -> String? {
        guard let at = email.lastIndex(of: "@") else { return nil }
        let domain = String(email[email.index(after: at)...]).lowercased()
        if domain.unicodeScalars.allSatisfy(\.isASCII) { return domain }
        return (try? asciiLabels(domain.precomposedStringWithCanonicalMapping))?.joined(separator: ".")
    }
}
