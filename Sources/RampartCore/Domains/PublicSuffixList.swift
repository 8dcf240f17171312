/// The Public Suffix List (publicsuffix.org): the names under which anyone may register a
/// domain (`com`, `co.uk`, `github.io`). Nobody owns such a name, so no organisation may
/// claim one. Parsed from the list's text; reading the file is the caller's business.
public struct PublicSuffixList: Sendable {
    private var rules: Set<String> = []
    private var wildcards: Set<String> = []
    private var exceptions: Set<String> = []

    /// The list's text, in the published format: one rule a line, `//` comments, `*.` and `!` rules.
    public init(text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            let rule = line.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
            guard !rule.isEmpty, !rule.hasPrefix("//") else { continue }
            if rule.hasPrefix("!") {
                if let name = Self.ascii(rule.dropFirst()) { exceptions.insert(name) }
            } else if rule.hasPrefix("*.") {
                if let name = Self.ascii(rule.dropFirst(2)) { wildcards.insert(name) }
            } else if let name = Self.ascii(Substring(rule)) {
                rules.insert(name)
            }
        }
    }

    /// A list that knows no suffix: then only single labels are refused.
    public static let empty = PublicSuffixList(text: "")

    public var isEmpty: Bool { rules.isEmpty && wildcards.isEmpty }

    /// Whether `domain` (lowercase ASCII, as `DomainName` holds it) is itself a public suffix.
    public func isPublicSuffix(_ domain: String) -> Bool {
        if rules.contains(domain) { return true }
        guard let dot = domain.firstIndex(of: ".") else { return false }
        return wildcards.contains(String(domain[domain.index(after: dot)...])) && !exceptions.contains(domain)
    }

    private static func ascii(_ rule: Substring) -> String? {
        try? DomainName.asciiLabels(String(rule).lowercased()).joined(separator: ".")
    }
}
