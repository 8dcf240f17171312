import RampartCore

/// An audit event as one ArcSight Common Event Format line (CEF 0, "Implementing ArcSight
/// CEF" rev. 25): `CEF:0|Rampart|Rampart|1|<action>|<action>|<severity>|<extension>`.
///
/// Header fields escape `\` and `|` with a backslash; extension values escape `\` and `=`
/// with a backslash and write CR and LF as `\r` and `\n`, so no value can end the record,
/// start a field or forge another key. Severity is 3 for a success and 7 for a failure.
public enum CEFRecord {
    public static func write(_ event: AuditEvent, orgID: String, to out: inout [UInt8]) {
        out += "CEF:0|Rampart|Rampart|1|".utf8
        header(event.action, &out)
        header(event.action, &out)
        out += (event.outcome == AuditOutcome.failure.rawValue ? "7|" : "3|").utf8
        var pairs = ExtensionPairs(separator: UInt8(ascii: " "), escape: extensionValue)
        func pair(_ key: String, _ value: String?) { pairs.append(key, value, to: &out) }
        pair("rt", String(event.occurredAt.microseconds / 1000))
        pair("externalId", event.id)
        pair("outcome", event.outcome)
        pair("cs1Label", "organization"); pair("cs1", orgID)
        pair("cn1Label", "sequence"); pair("cn1", String(event.sequence))
        pair("cs2Label", "actorType"); pair("cs2", event.actor.type.rawValue)
        pair("suid", event.actor.id)
        pair("suser", event.actor.name)
        if let ip = event.actor.ip { pair(ip.contains(":") ? "c6a2" : "src", ip) }
        pair("requestClientApplication", event.actor.userAgent)
        pair("cs3Label", "targets"); pair("cs3", event.targetsJSON)
        pair("cs4Label", "details"); pair("cs4", event.detailsJSON)
        if event.requestID != nil { pair("cs5Label", "requestId"); pair("cs5", event.requestID) }
    }

    /// A header field and the `|` after it.
    static func header(_ value: String, _ out: inout [UInt8]) {
        escape(value, &out) { byte in
            switch byte {
            case UInt8(ascii: "\\"): #"\\"#
            case UInt8(ascii: "|"): #"\|"#
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"): " "
            default: nil
            }
        }
        out.append(UInt8(ascii: "|"))
    }

    static func extensionValue(_ value: String, _ out: inout [UInt8]) {
        escape(value, &out) { byte in
            switch byte {
            case UInt8(ascii: "\\"): #"\\"#
            case UInt8(ascii: "="): #"\="#
            case UInt8(ascii: "\r"): #"\r"#
            case UInt8(ascii: "\n"): #"\n"#
            default: nil
            }
        }
    }
}

/// `key=value` pairs between separators, each value escaped; a nil value is left out.
struct ExtensionPairs {
    let separator: UInt8
    let escape: (String, inout [UInt8]) -> Void
    private var first = true

    init(separator: UInt8, escape: @escaping (String, inout [UInt8]) -> Void) {
        self.separator = separator
        self.escape = escape
    }

    mutating func append(_ key: String, _ value: String?, to out: inout [UInt8]) {
        guard let value else { return }
        if !first { out.append(separator) }
        first = false
        out += key.utf8
        out.append(UInt8(ascii: "="))
        escape(value, &out)
    }
}

/// Copies `value` to `out`, writing `replacement(byte)` in place of each byte it names; runs of
/// bytes that need nothing (nearly all) are copied at once.
func escape(_ value: String, _ out: inout [UInt8], _ replacement: (UInt8) -> String?) {
    var value = value
    value.withUTF8 { bytes in
        var start = 0
        for (index, byte) in bytes.enumerated() {
            guard let replaced = replacement(byte) else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            out += replaced.utf8
            start = index + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
    }
}
