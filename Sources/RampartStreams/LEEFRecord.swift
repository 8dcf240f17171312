import RampartCore

/// An audit event as one IBM QRadar LEEF 2.0 line: `LEEF:2.0|Rampart|Rampart|1|<action>|x09|`
/// and tab-separated `key=value` attributes.
///
/// Header fields escape `\` and `|` with a backslash (line breaks become spaces); attribute
/// values escape `\` with a backslash and write tab, CR and LF as `\t`, `\r` and `\n`, so no
/// value can end the record or start another attribute. `devTime` is the event's time in RFC
/// 3339, as `devTimeFormat` says; `sev` is 3 for a success and 7 for a failure.
public enum LEEFRecord {
    public static let timeFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSX"

    public static func write(_ event: AuditEvent, orgID: String, to out: inout [UInt8]) {
        out += "LEEF:2.0|Rampart|Rampart|1|".utf8
        CEFRecord.header(event.action, &out)
        out += "x09|".utf8
        var pairs = ExtensionPairs(separator: UInt8(ascii: "\t"), escape: attributeValue)
        func pair(_ key: String, _ value: String?) { pairs.append(key, value, to: &out) }
        pair("devTime", event.occurredAt.rfc3339)
        pair("devTimeFormat", timeFormat)
        pair("cat", event.action)
        pair("sev", event.outcome == AuditOutcome.failure.rawValue ? "7" : "3")
        pair("outcome", event.outcome)
        pair("orgId", orgID)
        pair("sequence", String(event.sequence))
        pair("eventId", event.id)
        pair("actorType", event.actor.type.rawValue)
        pair("actorId", event.actor.id)
        pair("usrName", event.actor.name)
        pair("src", event.actor.ip)
        pair("userAgent", event.actor.userAgent)
        pair("targets", event.targetsJSON)
        pair("details", event.detailsJSON)
        pair("requestId", event.requestID)
    }

    static func attributeValue(_ value: String, _ out: inout [UInt8]) {
        escape(value, &out) { byte in
            switch byte {
            case UInt8(ascii: "\\"): #"\\"#
            case UInt8(ascii: "\t"): #"\t"#
            case UInt8(ascii: "\r"): #"\r"#
            case UInt8(ascii: "\n"): #"\n"#
            default: nil
            }
        }
    }
}
