import RampartCore

/// One audit event as an RFC 5424 syslog message, framed for TLS transport by octet counting
/// (RFC 5425 §4.3): `LENGTH SP MESSAGE`, so no byte inside an event can end or split its record.
///
/// The header carries facility 13 (log audit), severity notice (warning for a failure), the
/// event's time, the action as MSGID; the structured data element `rampart@32473` carries the
/// organisation, sequence number, event id, outcome and actor's kind and id (ids only: no
/// personal data); the message is the event in the stream's format: as JSON, as `GET /audit-events`
/// shows it (`AuditEventJSON`), or as OCSF JSON, after the UTF-8 byte-order mark RFC 5424 §6.4
/// asks for; or a CEF or LEEF line, without it (SIEMs look for `CEF:` or `LEEF:` at the start of
/// the message). 32473 is the private enterprise number
/// RFC 5612 sets aside for documentation; receivers key on the SD-ID as a whole.
public struct SyslogRecord: Sendable {
    public static let structuredDataID = "rampart@32473"
    static let facilityLogAudit = 13

    /// HOSTNAME: the host of Rampart's public URL (RFC 5424 allows 255 printable US-ASCII bytes).
    public let hostname: String
    public let format: LogStreamFormat

    public init(hostname: String, format: LogStreamFormat = .json) {
        self.format = format
        let printable = hostname.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }
        self.hostname = printable.isEmpty ? "-" : String(String.UnicodeScalarView(printable.prefix(255)))
    }

    /// Appends the framed bytes of one event, `LENGTH SP MESSAGE`: what is written to the connection.
    public func frame(_ event: AuditEvent, orgID: String, to out: inout [UInt8]) {
        var message: [UInt8] = []
        message.reserveCapacity(1024)
        write(event, orgID: orgID, to: &message)
        out += String(message.count).utf8
        out.append(UInt8(ascii: " "))
        out += message
    }

    /// The RFC 5424 message without its frame.
    public func message(_ event: AuditEvent, orgID: String) -> [UInt8] {
        var message: [UInt8] = []
        write(event, orgID: orgID, to: &message)
        return message
    }

    private func write(_ event: AuditEvent, orgID: String, to out: inout [UInt8]) {
        let severity = event.outcome == AuditOutcome.failure.rawValue ? 4 : 5
        out += "<\(Self.facilityLogAudit * 8 + severity)>1 \(event.occurredAt.rfc3339) \(hostname) rampart - ".utf8
        out += Self.messageID(event.action).utf8
        out += " [\(Self.structuredDataID)".utf8
        Self.parameter("org", orgID, to: &out)
        Self.parameter("seq", String(event.sequence), to: &out)
        Self.parameter("id", event.id, to: &out)
        Self.parameter("outcome", event.outcome, to: &out)
        Self.parameter("actorType", event.actor.type.rawValue, to: &out)
        if let actorID = event.actor.id { Self.parameter("actorId", actorID, to: &out) }
        out += "] ".utf8
        if format.isJSON { out += [0xEF, 0xBB, 0xBF] }
        format.write(event, orgID: orgID, to: &out)
    }

    /// ` NAME="VALUE"`, the value escaped as PARAM-VALUE (RFC 5424 §6.3.3): `"`, `\` and `]`
    /// get a backslash. Everything else, line breaks included, is carried as it is: the
    /// frame's length delimits the record.
    static func parameter(_ name: String, _ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: " "))
        out += name.utf8
        out += "=\"".utf8
        var value = value
        value.withUTF8 { bytes in
            // Runs of bytes that need no escape (nearly all of them) are copied at once.
            var start = 0
            for (index, byte) in bytes.enumerated()
            where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "]") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                out.append(UInt8(ascii: "\\"))
                start = index
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// MSGID: 1 to 32 printable US-ASCII characters. Actions already are, and are short.
    static func messageID(_ action: String) -> String {
        if action.utf8.count <= 32, !action.isEmpty, action.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) { return action }
        let printable = action.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }
        return printable.isEmpty ? "-" : String(String.UnicodeScalarView(printable.prefix(32)))
    }
}
