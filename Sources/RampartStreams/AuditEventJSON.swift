import RampartCore

/// An audit event as the JSON object `GET /api/v1/audit-events` shows, written straight to
/// bytes: keys in ascending order, absent values as `null`, and the stored `targets`
/// and `details` copied as they are (they are stored as canonical JSON text). Parsing them
/// back into values only to write them again was half of a log stream's CPU time.
public enum AuditEventJSON {
    public static func write(_ event: AuditEvent, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        field("action", first: true, &out); string(event.action, &out)
        field("actor", &out); actor(event.actor, &out)
        field("details", &out); out += event.detailsJSON.utf8
        field("hash", &out); string(event.hash, &out)
        field("id", &out); string(event.id, &out)
        field("occurredAt", &out); string(event.occurredAt.rfc3339, &out)
        field("outcome", &out); string(event.outcome, &out)
        field("previousHash", &out); string(event.previousHash, &out)
        field("requestId", &out); string(event.requestID, &out)
        field("sequence", &out); out += String(event.sequence).utf8
        field("targets", &out); out += event.targetsJSON.utf8
        out.append(UInt8(ascii: "}"))
    }

    private static func actor(_ actor: AuditActor, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        // Only for a person erased since: the key is absent otherwise, as in the API.
        if actor.erased { field("erased", first: true, &out); out += "true".utf8 }
        field("id", first: !actor.erased, &out); string(actor.id, &out)
        field("ip", &out); string(actor.ip, &out)
        field("name", &out); string(actor.name, &out)
        field("type", &out); string(actor.type.rawValue, &out)
        field("userAgent", &out); string(actor.userAgent, &out)
        out.append(UInt8(ascii: "}"))
    }

    private static func field(_ key: String, first: Bool = false, _ out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        out += key.utf8
        out += "\":".utf8
    }

    private static func string(_ value: String?, _ out: inout [UInt8]) {
        guard let value else { return out += "null".utf8 }
        JSONValue.writeString(value, .foundation, to: &out)
    }
}
