import Foundation

/// Field rules shared by the API, the console and the CLI, so all three say the same thing.
public enum Validate {
    /// Emails are compared case-insensitively; the stored form is trimmed and lowercased.
    public static func email(_ raw: String, field: String = "email") throws(RampartError) -> String {
        if isNormalASCIIEmail(raw) { return raw }
        let email = raw.trimming(.whitespaces).lowercased()
        guard email.utf8.count <= 320 else { throw .invalidField(field, "must be at most 320 characters") }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64,
              email.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && !"()<>,;:\\\"[]".unicodeScalars.contains($0) })
        else { throw .invalidField(field, "must be an email address such as ada@example.com") }
        // Two labels or more and none empty: a dot in the domain, not first or last, never two in a
        // row. Said with split rather than Foundation's contains(_:), which on Linux searches through
        // NSString, as each SCIM user's emails are checked here.
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        let domainOK = labels.count >= 2 && labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
        }
        guard domainOK else { throw .invalidField(field, "must be an email address such as ada@example.com") }
        return email
    }

    /// The common case, checked over the bytes without a copy (every ingested product event
    /// carries an email): lowercase ASCII with no space around it that passes every rule below.
    /// Anything else, valid or not, takes the full path, which also words the errors.
    private static func isNormalASCIIEmail(_ raw: String) -> Bool {
        let bytes = raw.utf8
        guard bytes.count <= 320 else { return false }
        var at: Int?, labelLength = 0, labels = 1, index = 0, previous: UInt8 = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "'"):
                break
            case UInt8(ascii: "@"):
                guard at == nil, index > 0, index <= 64 else { return false }
                at = index
            default:
                return false
            }
            if at != nil, index > at! {
                if byte == UInt8(ascii: ".") {
                    guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                    labels += 1
                    labelLength = 0
                } else {
                    guard labelLength > 0 || byte != UInt8(ascii: "-"), byte != UInt8(ascii: "@") else { return false }
                    labelLength += 1
                    guard labelLength <= 63 else { return false }
                }
            }
            previous = byte
            index += 1
        }
        return at != nil && labels >= 2 && labelLength > 0 && previous != UInt8(ascii: "-")
    }

    /// A human-readable name: trimmed, not empty, bounded, no control characters.
    public static func name(_ raw: String, field: String, max: Int = 200) throws(RampartError) -> String {
        let value = raw.trimming(.whitespacesAndNewlines)
        guard !value.isEmpty else { throw .invalidField(field, "must not be empty") }
        // Counted in code points, as JSON Schema's maxLength in docs/openapi.yaml counts them.
        guard value.unicodeScalars.count <= max else { throw .invalidField(field, "must be at most \(max) characters") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidField(field, "must not contain control characters")
        }
        return value
    }

    public static func text(_ raw: String, field: String, max: Int) throws(RampartError) -> String {
        let value = raw.trimming(.whitespacesAndNewlines)
        guard value.unicodeScalars.count <= max else { throw .invalidField(field, "must be at most \(max) characters") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
            throw .invalidField(field, "must not contain control characters")
        }
        return value
    }

    /// A time a person or client typed, in RFC 3339.
    public static func time(_ raw: String, field: String) throws(RampartError) -> Timestamp {
        guard let time = Timestamp(rfc3339: raw) else {
            throw .invalidField(field, "must be an RFC 3339 date-time such as 2026-11-27T08:00:00Z")
        }
        return time
    }

    /// A web address in its normal form; `WebURL` holds the rules.
    public static func url(_ raw: String, field: String = "url") throws(RampartError) -> String {
        try WebURL(parsing: raw.trimming(.whitespaces), field: field).description
    }

    /// Slugs appear in issuer URLs and entity ids later, so they are conservative and stable.
    public static func slug(_ raw: String, field: String = "slug") throws(RampartError) -> String {
        let value = raw.trimming(.whitespaces).lowercased()
        guard (2...63).contains(value.count),
              value.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }),
              !value.hasPrefix("-"), !value.hasSuffix("-")
        else { throw .invalidField(field, "must be 2 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'") }
        return value
    }

    public static func slug(fromName name: String) -> String {
        var out = ""
        for scalar in name.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) { out.unicodeScalars.append(scalar) }
            else if !out.hasSuffix("-") && !out.isEmpty { out += "-" }
        }
        while out.hasSuffix("-") { out.removeLast() }
        out = String(out.prefix(63))
        while out.hasSuffix("-") { out.removeLast() }
        return out.count >= 2 ? out : (out.isEmpty ? "org" : "org-\(out)")
    }

    public static func region(_ raw: String) throws(RampartError) -> String {
        let value = raw.trimming(.whitespaces).lowercased()
        guard (1...32).contains(value.count),
              value.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        else { throw .invalidField("region", "must be a short label such as eu or us-east") }
        return value
    }
}
