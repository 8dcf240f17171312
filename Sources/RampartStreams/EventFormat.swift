import RampartCore

extension LogStreamFormat {
    /// Appends one event in this format: the JSON the API shows, an OCSF event, or a CEF or LEEF line.
    public func write(_ event: AuditEvent, orgID: String, to out: inout [UInt8]) {
        switch self {
        case .json where event.action == CheckpointRecord.action: CheckpointRecord.writeJSON(event, to: &out)
        case .json: AuditEventJSON.write(event, to: &out)
        case .ocsf: OCSFEvent.write(event, orgID: orgID, to: &out)
        case .cef: CEFRecord.write(event, orgID: orgID, to: &out)
        case .leef: LEEFRecord.write(event, orgID: orgID, to: &out)
        }
    }

    /// Whether a record in this format is a JSON object.
    public var isJSON: Bool { self == .json || self == .ocsf }
}

/// What an HTTP receiver is sent for one batch: the body and its content type.
public struct HTTPBatch: Sendable {
    public var body: [UInt8]
    public var contentType: String

    /// Splunk HEC: one event object per event, concatenated (HEC's batch form), each with the
    /// event's time in seconds, Rampart's host, `source` `rampart`, `sourcetype` `rampart:audit`
    /// (`rampart:ocsf` for OCSF) and the index when one is set.
    public static func splunkHEC(_ events: [AuditEvent], orgID: String, format: LogStreamFormat, host: String,
                                 index: String?) -> HTTPBatch {
        var out: [UInt8] = []
        out.reserveCapacity(events.count * 1200)
        for event in events {
            let millis = event.occurredAt.microseconds / 1000
            let fraction = String(millis % 1000)
            out += #"{"time":\#(millis / 1000).\#(String(repeating: "0", count: 3 - fraction.count))\#(fraction),"host":"#.utf8
            JSONValue.writeString(host, .foundation, to: &out)
            if let index {
                out += #","index":"#.utf8
                JSONValue.writeString(index, .foundation, to: &out)
            }
            out += #","source":"rampart","sourcetype":"rampart:\#(format == .ocsf ? "ocsf" : "audit")","event":"#.utf8
            format.write(event, orgID: orgID, to: &out)
            out += "}\n".utf8
        }
        return HTTPBatch(body: out, contentType: "application/json")
    }

    /// Sentinel (Logs Ingestion API): a JSON array of records, each the event (or OCSF event)
    /// with `TimeGenerated`, the column every Log Analytics table has, first.
    public static func sentinel(_ events: [AuditEvent], orgID: String, format: LogStreamFormat) -> HTTPBatch {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(events.count * 1200)
        var record: [UInt8] = []
        for (i, event) in events.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            record.removeAll(keepingCapacity: true)
            format.write(event, orgID: orgID, to: &record)
            out += #"{"TimeGenerated":"\#(event.occurredAt.rfc3339)","#.utf8
            out += record.dropFirst()
        }
        out.append(UInt8(ascii: "]"))
        return HTTPBatch(body: out, contentType: "application/json")
    }

    /// A webhook: a JSON array of the events (JSON or OCSF), or CEF or LEEF lines, one per event.
    public static func webhook(_ events: [AuditEvent], orgID: String, format: LogStreamFormat) -> HTTPBatch {
        var out: [UInt8] = []
        out.reserveCapacity(events.count * 1200)
        if format.isJSON {
            out.append(UInt8(ascii: "["))
            for (i, event) in events.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                format.write(event, orgID: orgID, to: &out)
            }
            out.append(UInt8(ascii: "]"))
            return HTTPBatch(body: out, contentType: "application/json")
        }
        for event in events {
            format.write(event, orgID: orgID, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        return HTTPBatch(body: out, contentType: "text/plain; charset=utf-8")
    }
}
