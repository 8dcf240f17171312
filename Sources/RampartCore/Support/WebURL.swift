/// An absolute web address checked against RFC 3986 and stored in its normal form: the one
/// validator for every URL a person or a peer gives Rampart (product URLs now; redirect URIs,
/// metadata URLs and webhooks as they arrive).
///
/// Only what RFC 3986 allows in a URI is accepted, so control characters, spaces, quotes,
/// `<>`, `\`, `{}` and `|` never reach a stored field, a log line or a page. Userinfo
/// (`user:pass@`) is refused: it carries credentials and makes `https://trusted@evil.example`
/// read as the wrong host. `https` is required except on loopback hosts, for development.
public struct WebURL: Sendable, Equatable, CustomStringConvertible {
    public let scheme: String
    /// Lowercased; IPv6 literals keep their brackets.
    public let host: String
    /// Nil when absent or the scheme's default.
    public let port: Int?
    /// The path, query and fragment as given (percent-encodings with uppercase hex).
    public let rest: String

    public static let maximumLength = 2000

    /// The normal form (RFC 3986, section 6.2.2): lowercase scheme and host, no default
    /// port, uppercase percent-encodings.
    public var description: String {
        scheme + "://" + host + (port.map { ":\($0)" } ?? "") + rest
    }

    public var isLoopback: Bool {
        host == "localhost" || host.hasSuffix(".localhost") || host == "[::1]" || host.hasPrefix("127.")
            && host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }

    public init(parsing raw: String, field: String = "url") throws(RampartError) {
        let example = "must be an https URL such as https://wiki.example.com"
        guard raw.utf8.count <= Self.maximumLength else {
            throw .invalidField(field, "must be at most \(Self.maximumLength) characters")
        }
        let bytes = Array(raw.utf8)
        if let bad = bytes.first(where: { !Self.allowed($0) }) {
            throw .invalidField(field, bad < 0x21 || bad == 0x7F
                ? "must not contain spaces or control characters" : "contains a character a URL may not hold unencoded")
        }
        guard let schemeEnd = raw.range(of: "://") else { throw .invalidField(field, example) }
        let scheme = raw[..<schemeEnd.lowerBound].lowercased()
        guard let first = scheme.unicodeScalars.first, ("a"..."z").contains(first),
              scheme.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0) })
        else { throw .invalidField(field, example) }
        let afterScheme = raw[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { "/?#".contains($0) }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard !authority.contains("@") else {
            throw .invalidField(field, "must not contain a user name or password (user:pass@)")
        }
        let (host, port) = try Self.hostAndPort(authority, field: field, example: example)
        let rest = try Self.normalizedRest(afterScheme[authorityEnd...], field: field)
        let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
        self.scheme = scheme
        self.host = host
        self.port = port == defaultPort ? nil : port
        // An empty path stays empty (https://wiki.example.com stays as typed); a query or
        // fragment right after the host gets the "/" RFC 3986 (section 6.2.3) puts before it.
        self.rest = rest.isEmpty || rest.first == "/" ? rest : "/" + rest
        guard scheme == "https" || scheme == "http" && isLoopback else {
            throw .invalidField(field, scheme == "http" ? "must use https (http only for localhost)" : example)
        }
    }

    private static func hostAndPort(_ authority: Substring, field: String, example: String) throws(RampartError)
        -> (String, Int?)
    {
        var hostPart = authority
        var port: Int?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidField(field, example) }
            hostPart = authority[...close]
            let inside = authority[authority.index(after: authority.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw .invalidField(field, "has an invalid IPv6 address")
            }
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw .invalidField(field, example) }
                port = try Self.port(after.dropFirst(), field: field)
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                port = try Self.port(authority[authority.index(after: colon)...], field: field)
            }
            let labels = hostPart.split(separator: ".", omittingEmptySubsequences: false)
            guard !hostPart.isEmpty, hostPart.utf8.count <= 253, labels.allSatisfy({ label in
                !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }) else { throw .invalidField(field, "must name a host such as wiki.example.com") }
        }
        return (hostPart.lowercased(), port)
    }

    private static func port(_ text: Substring, field: String) throws(RampartError) -> Int? {
        if text.isEmpty { return nil }
        guard text.count <= 5, text.allSatisfy(\.isASCII), let port = Int(text), (1...65535).contains(port) else {
            throw .invalidField(field, "has an invalid port")
        }
        return port
    }

    /// Percent-encodings must be complete; their hex is uppercased (RFC 3986, section 6.2.2.1).
    private static func normalizedRest(_ text: Substring, field: String) throws(RampartError) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "%") else { out.append(byte); continue }
            guard bytes.count >= 2, let high = hex(bytes[bytes.startIndex]), let low = hex(bytes[bytes.startIndex + 1]) else {
                throw .invalidField(field, "has an incomplete percent-encoding")
            }
            out += [byte, high, low]
            bytes = bytes.dropFirst(2)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "F"): byte
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - 32
        default: nil
        }
    }

    /// unreserved, gen-delims, sub-delims and "%" (RFC 3986, section 2): nothing else may
    /// appear in a URI unencoded.
    private static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "-._~:/?#[]@!$&'()*+,;=%".utf8.contains(byte)
        }
    }
}
