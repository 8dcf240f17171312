/// `[URI ":"] ATTRNAME ["." subAttr]` from RFC 7644 §3.10. Names keep the client's spelling;
/// every comparison is case-insensitive, as the RFC requires of attribute names.
public struct SCIMAttributePath: Sendable, Equatable, CustomStringConvertible {
    /// The schema URN when the client gave one, e.g. the enterprise extension's.
    public var schema: String?
    public var name: String
    public var subAttribute: String?

    public init(schema: String? = nil, name: String, subAttribute: String? = nil) {
        self.schema = schema; self.name = name; self.subAttribute = subAttribute
    }

    public var description: String {
        (schema.map { $0 + ":" } ?? "") + name + (subAttribute.map { "." + $0 } ?? "")
    }

    /// Parses one attribute path. URNs end at their last ':' ("...:enterprise:2.0:User:manager.value").
    public static func parse(_ text: String) throws(SCIMError) -> SCIMAttributePath {
        var schema: String?
        var rest = Substring(text)
        if text.lowercased().hasPrefix("urn:") {
            guard let colon = text.lastIndex(of: ":") else { throw .invalidPath("Attribute path '\(text)' is malformed.") }
            schema = String(text[..<colon])
            rest = text[text.index(after: colon)...]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy(isAttributeName) else {
            throw .invalidPath("Attribute path '\(text)' is malformed.")
        }
        return SCIMAttributePath(schema: schema, name: String(parts[0]), subAttribute: parts.count == 2 ? String(parts[1]) : nil)
    }

    /// ATTRNAME = ALPHA *(nameChar); `$ref` is the one name the RFC's own schemas add.
    static func isAttributeName(_ s: Substring) -> Bool {
        if s == "$ref" { return true }
        guard let first = s.unicodeScalars.first, first.isASCIILetter, s.utf8.count <= 128 else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }

    /// Whether the path names the same attribute (ignoring any sub-attribute), case-insensitively.
    public func names(_ attribute: String) -> Bool { name.equalsIgnoringCase(attribute) }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension String {
    /// ASCII case-insensitive equality, the rule for attribute names and schema URNs.
    func equalsIgnoringCase(_ other: String) -> Bool {
        utf8.count == other.utf8.count && lowercased() == other.lowercased()
    }
}
