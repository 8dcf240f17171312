import RampartCore

/// One audit event as an RFC 5424 syslog message, framed for TLS transport by octet counting
/// (RFC 5425 §4.3): `LENGTH SP MESSAGE`, so no byte inside an event can end or split its record.
///
/// The header carries facility 13 (log audit), severity notice (warning for a failure), the
/// event's time, the action as MSGID; the structured data element `rampart@32473` carries the
/// organisation, sequence number, event id, outcome and actor's kind and id (ids only: no
/// personal data); the message is the event as JSON, as `GET /audit-events` shows it, after
/// the UTF-8 byte-order mark RFC 5424 §6.4 asks for. 32473 is the private enterprise number
/// RFC 5612 sets aside for documentation; receivers key on the SD-ID as a whole.
public struct SyslogRecord: Sendable {
    public static let structuredDataID = "rampart@32473"
    static let facilityLogAudit = 13

    /// HOSTNAME: the host of Rampart's public URL (RFC 5424 allows 255 printable US-ASCII bytes).
    public let hostname: String

    public init(hostname: String) {
        let printable = hostname.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }
        self.hostname = printable.isEmpty ? "-" : String(String.UnicodeScalarView(printable.prefix(255)))
    }

    /// The framed bytes of one event: what is written to the connection.
    public func framed(_ event: AuditEvent, orgID: String, json: [UInt8]) -> [UInt8] {
        let message = self.message(event, orgID: orgID, json: json)
        return Array("\(message.count) ".utf8) + message
    }

    /// The RFC 5424 message without its frame.
    public func message(_ event: AuditEvent, orgID: String, json: [UInt8]) -> [UInt8] {
        let severity = event.outcome == AuditOutcome.failure.rawValue ? 4 : 5
        var parameters: [(String, String)] = [
            ("org", orgID), ("seq", String(event.sequence)), ("id", event.id), ("outcome", event.outcome),
            ("actorType", event.actor.type.rawValue),
        ]
        if let actorID = event.actor.id { parameters.append(("actorId", actorID)) }
        let data = parameters.map { "\($0.0)=\"\(Self.escapeParameterValue($0.1))\"" }.joined(separator: " ")
        let header = "<\(Self.facilityLogAudit * 8 + severity)>1 \(event.occurredAt.rfc3339) \(hostname) rampart - "
            + "\(Self.messageID(event.action)) [\(Self.structuredDataID) \(data)] "
        return Array(header.utf8) + [0xEF, 0xBB, 0xBF] + json
    }

    /// PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` get a backslash. Everything
    /// else, line breaks included, is carried as it is: the frame's length delimits the record.
    public static func escapeParameterValue(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value {
            if character == "\"" || character == "\\" || character == "]" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// MSGID: 1 to 32 printable US-ASCII characters; actions are already ASCII.
    static func messageID(_ action: String) -> String {
        let printable = action.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }
        return printable.isEmpty ? "-" : String(String.UnicodeScalarView(printable.prefix(32)))
    }
}
