/// Reads a batch of product events straight from the request's text into `ProductEvent`s,
/// without building a `JSONValue` tree for the batch, its events, actors and targets: that
/// tree, its dictionaries and freeing them were about a third of the server's CPU per ingested
/// event (docs/benchmarks.md). Only an event's free-form `details` is read as a tree.
///
/// It reads valid batches only. At the first thing it does not expect (an unknown or repeated
/// field, a value that fails a check, JSON this reader leaves to `JSONDecoder`) it gives up
/// with nil, and `ProductEvent.batch(text:now:)` reads the body through the tree, whose checks
/// name the problem. Both ways check a field with the same function, so they accept the same
/// batches and give the same events (`ProductEventReaderTests` compares them).
struct ProductEventReader {
    private var json: JSONTextReader
    private let window: ProductEvent.Window

    init(_ text: UnsafeBufferPointer<UInt8>, window: ProductEvent.Window) {
        json = JSONTextReader(text)
        self.window = window
    }

    /// `{"events": [...]}` and nothing else, or nil.
    mutating func batch() -> [ProductEvent]? {
        guard json.consume(UInt8(ascii: "{")), key() == "events", json.consume(UInt8(ascii: "[")) else { return nil }
        var events: [ProductEvent] = []
        events.reserveCapacity(ProductEvent.maxBatch)
        repeat {
            guard events.count < ProductEvent.maxBatch, let event = event() else { return nil }
            events.append(event)
        } while json.consume(UInt8(ascii: ","))
        guard json.consume(UInt8(ascii: "]")), json.consume(UInt8(ascii: "}")) else { return nil }
        json.skipSpace()
        return json.index == json.bytes.count ? events : nil
    }

    /// `"name":`, or nil.
    private mutating func key() -> String? {
        json.skipSpace()
        guard json.current == UInt8(ascii: "\""), let key = json.string(), json.consume(UInt8(ascii: ":")) else { return nil }
        return key
    }

    /// The fields of an object, each handed to `field` with its name; false for an empty
    /// object, or where `field` returns false.
    private mutating func object(_ field: (inout ProductEventReader, String) -> Bool) -> Bool {
        guard json.consume(UInt8(ascii: "{")) else { return false }
        repeat {
            guard let name = key(), field(&self, name) else { return false }
        } while json.consume(UInt8(ascii: ","))
        return json.consume(UInt8(ascii: "}"))
    }

    /// Reads a field's value into its slot; false if the text has none or the field came before.
    private mutating func read(into slot: inout JSONValue?) -> Bool {
        guard slot == nil else { return false }
        json.skipSpace()
        slot = json.value()
        return slot != nil
    }

    private mutating func event() -> ProductEvent? {
        json.skipSpace()
        let start = json.index
        var idempotencyKey, action, occurredAt, outcome, details: JSONValue?
        var actor: AuditActor?
        var targets: [AuditTarget]?
        let read = object { reader, name in
            switch name {
            case "idempotencyKey": return reader.read(into: &idempotencyKey)
            case "action": return reader.read(into: &action)
            case "occurredAt": return reader.read(into: &occurredAt)
            case "outcome": return reader.read(into: &outcome)
            case "details": return reader.read(into: &details)
            case "actor":
                guard actor == nil else { return false }
                actor = reader.actor()
                return actor != nil
            case "targets":
                guard targets == nil else { return false }
                targets = reader.targets()
                return targets != nil
            default: return false
            }
        }
        // The text of an event is never shorter than its canonical form (which drops spaces and
        // writes no longer escapes than a valid event can hold), so within the limit here means
        // within it there; a longer one is left to the tree's exact count.
        guard read, json.index - start <= ProductEvent.maxEventBytes, let actor else { return nil }
        let ignored = ""
        guard let key = try? ProductEvent.line(idempotencyKey, ignored, max: 200),
              let action = try? ProductEvent.action(action, ignored),
              let occurredAt = try? ProductEvent.occurredAt(occurredAt, ignored, window: window),
              let outcome = try? ProductEvent.outcome(outcome, ignored),
              let details = try? ProductEvent.details(details, ignored)
        else { return nil }
        return ProductEvent(idempotencyKey: key, action: action, occurredAt: occurredAt, actor: actor, targets: targets ?? [],
                            outcome: outcome, details: details)
    }

    private mutating func actor() -> AuditActor? {
        var id, email, name, ip, userAgent: JSONValue?
        let read = object { reader, field in
            switch field {
            case "id": reader.read(into: &id)
            case "email": reader.read(into: &email)
            case "name": reader.read(into: &name)
            case "ip": reader.read(into: &ip)
            case "userAgent": reader.read(into: &userAgent)
            default: false
            }
        }
        guard read else { return nil }
        return try? ProductEvent.actor(id: id, email: email, name: name, ip: ip, userAgent: userAgent, "")
    }

    private mutating func targets() -> [AuditTarget]? {
        guard json.consume(UInt8(ascii: "[")) else { return nil }
        var targets: [AuditTarget] = []
        if json.consume(UInt8(ascii: "]")) { return targets }
        repeat {
            var type, id, name: JSONValue?
            let read = object { reader, field in
                switch field {
                case "type": reader.read(into: &type)
                case "id": reader.read(into: &id)
                case "name": reader.read(into: &name)
                default: false
                }
            }
            guard read, targets.count < ProductEvent.maxTargets,
                  let target = try? ProductEvent.target(type: type, id: id, name: name, "") else { return nil }
            targets.append(target)
        } while json.consume(UInt8(ascii: ","))
        return json.consume(UInt8(ascii: "]")) ? targets : nil
    }
}
