/// An event a product reports about what happened inside it (a page viewed, a space exported),
/// checked against the schema in docs/events.md ("Product events") before anything is written.
///
/// A batch is read from the request's JSON in one pass; the first problem is thrown as a
/// `RampartError` naming the event's index and field (`events[3].actor.email`), and then no
/// event of the batch is written.
public struct ProductEvent: Sendable, Equatable {
    public var idempotencyKey: String
    public var action: AuditAction
    public var occurredAt: Timestamp
    public var actor: AuditActor
    public var targets: [AuditTarget]
    public var outcome: AuditOutcome
    /// The product's own details: an object, `{}` when it sent none.
    public var details: JSONValue

    public static let contentViewed = AuditAction(rawValue: "product.content_viewed")
    public static let contentCreated = AuditAction(rawValue: "product.content_created")
    public static let contentEdited = AuditAction(rawValue: "product.content_edited")
    public static let contentDeleted = AuditAction(rawValue: "product.content_deleted")
    public static let contentExported = AuditAction(rawValue: "product.content_exported")
    public static let contentShared = AuditAction(rawValue: "product.content_shared")
    public static let contentSharedPublicly = AuditAction(rawValue: "product.content_shared_publicly")
    public static let permissionsChanged = AuditAction(rawValue: "product.permissions_changed")
    public static let searched = AuditAction(rawValue: "product.searched")
    public static let settingsChanged = AuditAction(rawValue: "product.settings_changed")

    /// The actions a product may report; nothing else is accepted, so a product cannot write
    /// an event that reads as Rampart's own (`user.deleted`).
    public static let actions: [AuditAction] = [
        contentViewed, contentCreated, contentEdited, contentDeleted, contentExported, contentShared,
        contentSharedPublicly, permissionsChanged, searched, settingsChanged,
    ]

    // Limits, documented in docs/events.md: they bound what one request can make the server hold.
    public static let maxBatch = 1000
    public static let maxBodyBytes = 8 << 20
    public static let maxEventBytes = 16 << 10
    public static let maxDetailsDepth = 5
    public static let maxTargets = 20
    /// Clocks of products drift; an event further ahead than this is a bug or a forgery.
    public static let maxFutureSeconds: Double = 300
    /// The default retention: an older event would be purged as soon as it arrived.
    public static let maxAgeDays = 400

    static let fields: Set<String> = ["idempotencyKey", "action", "occurredAt", "actor", "targets", "outcome", "details"]
    static let actorFields: Set<String> = ["id", "email", "name", "ip", "userAgent"]
    static let targetFields: Set<String> = ["type", "id", "name"]
    private static let actionsByName = Dictionary(uniqueKeysWithValues: actions.map { ($0.rawValue, $0) })

    static func window(now: Timestamp) -> Window { (now.adding(days: -maxAgeDays), now.adding(seconds: maxFutureSeconds)) }

    /// The events of a request body `{"events": [...]}`, in order, read straight from its
    /// text where it is a valid batch; otherwise through the `JSONValue` tree, whose checks
    /// name the first problem, so both ways give the same events and the same errors.
    public static func batch(text: UnsafeBufferPointer<UInt8>, now: Timestamp) throws(RampartError) -> [ProductEvent] {
        var reader = ProductEventReader(text, window: window(now: now))
        if let events = reader.batch() { return events }
        let body: JSONValue
        do { body = try JSONValue.decode(text) } catch { throw RampartError(.invalidJSON, "The body is not valid JSON.") }
        return try batch(body, now: now)
    }

    /// The events of a request body `{"events": [...]}`, in order.
    public static func batch(_ body: JSONValue, now: Timestamp) throws(RampartError) -> [ProductEvent] {
        guard case .object(let top) = body else { throw RampartError(.invalidJSON, "The body must be a JSON object.") }
        if let unknown = top.keys.sorted().first(where: { $0 != "events" }) {
            throw RampartError(.unknownField, "Unknown field '\(unknown.prefix(64))'; allowed: events.", field: String(unknown.prefix(64)))
        }
        guard case .array(let items)? = top["events"] else { throw .invalidField("events", "must be an array of events") }
        guard (1...maxBatch).contains(items.count) else {
            throw .invalidField("events", "must hold 1 to \(maxBatch) events (it holds \(items.count))")
        }
        let window = Self.window(now: now)
        var events: [ProductEvent] = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            events.append(try ProductEvent(item, path: "events[\(index)]", window: window))
        }
        return events
    }

    // Paths are closures: they are written out only for the message of a refused field.
    init(_ value: JSONValue, path: @autoclosure () -> String, window: Window) throws(RampartError) {
        let fields = try Self.object(value, path(), allowed: Self.fields)
        guard value.canonicalByteCount <= Self.maxEventBytes else {
            throw Self.invalid(path(), "is larger than \(Self.maxEventBytes / 1024) KiB")
        }
        self.init(
            idempotencyKey: try Self.line(fields["idempotencyKey"], "\(path()).idempotencyKey", max: 200),
            action: try Self.action(fields["action"], "\(path()).action"),
            occurredAt: try Self.occurredAt(fields["occurredAt"], "\(path()).occurredAt", window: window),
            actor: try Self.actor(fields["actor"], "\(path()).actor"),
            targets: try Self.targets(fields["targets"], "\(path()).targets"),
            outcome: try Self.outcome(fields["outcome"], "\(path()).outcome"),
            details: try Self.details(fields["details"], "\(path()).details"))
    }

    init(idempotencyKey: String, action: AuditAction, occurredAt: Timestamp, actor: AuditActor, targets: [AuditTarget],
         outcome: AuditOutcome, details: JSONValue) {
        self.idempotencyKey = idempotencyKey; self.action = action; self.occurredAt = occurredAt; self.actor = actor
        self.targets = targets; self.outcome = outcome; self.details = details
    }

    /// The times an event may carry: not older than the retention, not far in the future.
    typealias Window = (earliest: Timestamp, latest: Timestamp)

    static func action(_ value: JSONValue?, _ path: @autoclosure () -> String) throws(RampartError) -> AuditAction {
        let name = try line(value, path(), max: 64)
        guard let action = actionsByName[name] else {
            throw invalid(path(), "must be one of \(actions.map(\.rawValue).joined(separator: ", "))")
        }
        return action
    }

    static func occurredAt(_ value: JSONValue?, _ path: @autoclosure () -> String, window: Window) throws(RampartError) -> Timestamp {
        let time = try line(value, path(), max: 64)
        guard let occurredAt = Timestamp(rfc3339: time) else {
            throw invalid(path(), "must be an RFC 3339 date-time such as 2026-12-01T09:30:00Z")
        }
        guard occurredAt <= window.latest else {
            throw invalid(path(), "is more than \(Int(maxFutureSeconds / 60)) minutes in the future")
        }
        guard occurredAt >= window.earliest else { throw invalid(path(), "is more than \(maxAgeDays) days in the past") }
        return occurredAt
    }

    static func outcome(_ value: JSONValue?, _ path: @autoclosure () -> String) throws(RampartError) -> AuditOutcome {
        switch value {
        case nil: return .success
        case .string(let text)? where AuditOutcome(rawValue: text) != nil: return AuditOutcome(rawValue: text)!
        default: throw invalid(path(), "must be success or failure")
        }
    }

    static func details(_ value: JSONValue?, _ path: @autoclosure () -> String) throws(RampartError) -> JSONValue {
        switch value {
        case nil: return .object([:])
        case let value? where value.isObject:
            try checkDetails(value, path(), depth: 1)
            return value
        default: throw invalid(path(), "must be an object")
        }
    }

    private static func actor(_ value: JSONValue?, _ path: @autoclosure () -> String) throws(RampartError) -> AuditActor {
        guard let value else { throw invalid(path(), "is required") }
        let fields = try object(value, path(), allowed: actorFields)
        return try actor(id: fields["id"], email: fields["email"], name: fields["name"], ip: fields["ip"],
                         userAgent: fields["userAgent"], path())
    }

    static func actor(id: JSONValue?, email: JSONValue?, name: JSONValue?, ip: JSONValue?, userAgent: JSONValue?,
                      _ path: @autoclosure () -> String) throws(RampartError) -> AuditActor {
        let id = try id.map { v throws(RampartError) in try line(v, "\(path()).id", max: 200) }
        let email = try email.map { v throws(RampartError) in
            let text = try line(v, "\(path()).email", max: 320)
            do { return try Validate.email(text, field: "email") } catch {
                throw invalid("\(path()).email", "must be an email address such as ada@example.com")
            }
        }
        let name = try name.map { v throws(RampartError) in try line(v, "\(path()).name", max: 200) }
        guard id != nil || email != nil || name != nil else { throw invalid(path(), "must have an id, an email or a name") }
        let ip = try ip.map { v throws(RampartError) in try line(v, "\(path()).ip", max: 45) }
        if let ip, !isIPAddress(ip) { throw invalid("\(path()).ip", "must be an IPv4 or IPv6 address") }
        let userAgent = try userAgent.map { v throws(RampartError) in try line(v, "\(path()).userAgent", max: 512) }
        // The email is the label the log shows for people elsewhere (`user ada@example.com`).
        return AuditActor(type: .user, id: id, name: email ?? name, ip: ip, userAgent: userAgent)
    }

    private static func targets(_ value: JSONValue?, _ path: @autoclosure () -> String) throws(RampartError) -> [AuditTarget] {
        guard let value else { return [] }
        guard case .array(let items) = value, items.count <= maxTargets else {
            throw invalid(path(), "must be an array of at most \(maxTargets) targets")
        }
        var targets: [AuditTarget] = []
        for (index, item) in items.enumerated() {
            func at() -> String { "\(path())[\(index)]" }
            let fields = try object(item, at(), allowed: targetFields)
            targets.append(try target(type: fields["type"], id: fields["id"], name: fields["name"], at()))
        }
        return targets
    }

    static func target(type: JSONValue?, id: JSONValue?, name: JSONValue?, _ path: @autoclosure () -> String) throws(RampartError) -> AuditTarget {
        let type = try line(type, "\(path()).type", max: 64)
        guard type.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_") }) else {
            throw invalid("\(path()).type", "must be lowercase letters and '_' (page, space, issue)")
        }
        let id = try line(id, "\(path()).id", max: 200)
        let name = try name.map { v throws(RampartError) in try line(v, "\(path()).name", max: 200) }
        return AuditTarget(type: type, id: id, name: name)
    }

    /// Details are free-form but bounded: keys are short single lines, strings may hold line
    /// breaks and tabs (a search query, a comment) but no other control characters.
    private static func checkDetails(_ value: JSONValue, _ path: @autoclosure () -> String, depth: Int) throws(RampartError) {
        switch value {
        case .object(let fields):
            guard depth <= maxDetailsDepth else { throw invalid(path(), "nests deeper than \(maxDetailsDepth) levels") }
            for (key, field) in fields {
                guard !key.isEmpty, atMost(64, charactersIn: key), !hasControl(key, allowing: []) else {
                    throw invalid(path(), "has a key that is empty, longer than 64 characters or holds control characters")
                }
                try checkDetails(field, "\(path()).\(key)", depth: depth + 1)
            }
        case .array(let items):
            guard depth <= maxDetailsDepth else { throw invalid(path(), "nests deeper than \(maxDetailsDepth) levels") }
            for (index, item) in items.enumerated() { try checkDetails(item, "\(path())[\(index)]", depth: depth + 1) }
        case .string(let text):
            if hasControl(text, allowing: ["\n", "\t"]) { throw invalid(path(), "must not contain control characters other than line feed and tab") }
        case .null, .bool, .int: break
        }
    }

    private static func object(_ value: JSONValue, _ path: @autoclosure () -> String, allowed: Set<String>) throws(RampartError) -> [String: JSONValue] {
        guard case .object(let fields) = value else { throw invalid(path(), "must be an object") }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw RampartError(.unknownField, "Field '\(path()).\(unknown.prefix(64))' is not part of the schema; allowed: \(allowed.sorted().joined(separator: ", ")).",
                               field: "\(path()).\(unknown.prefix(64))")
        }
        return fields
    }

    /// A required single-line string: no control characters (so no CR or LF that could split
    /// a syslog record or a CSV row), not empty, at most `max` characters.
    static func line(_ value: JSONValue?, _ path: @autoclosure () -> String, max: Int) throws(RampartError) -> String {
        guard let value else { throw invalid(path(), "is required") }
        guard case .string(let text) = value else { throw invalid(path(), "must be a string") }
        guard !text.isEmpty else { throw invalid(path(), "must not be empty") }
        guard atMost(max, charactersIn: text) else { throw invalid(path(), "must be at most \(max) characters") }
        guard !hasControl(text, allowing: []) else { throw invalid(path(), "must not contain control characters (CR, LF, …)") }
        return text
    }

    /// Whether `text` has at most `max` Unicode scalars (the schema's characters). No more bytes
    /// than that answers without decoding, as each scalar is at least one byte.
    private static func atMost(_ max: Int, charactersIn text: String) -> Bool {
        text.utf8.count <= max || text.unicodeScalars.count <= max
    }

    private static func hasControl(_ text: String, allowing allowed: Set<Unicode.Scalar>) -> Bool {
        // Most text is ASCII without control bytes: checked as bytes before any scalar is
        // decoded, over the string's own storage (through `UTF8View`'s indexes it was 1 % of
        // ingestion's CPU).
        let printableASCII = { (byte: UInt8) in byte >= 0x20 && byte < 0x7F }
        if text.utf8.withContiguousStorageIfAvailable({ $0.allSatisfy(printableASCII) }) ?? text.utf8.allSatisfy(printableASCII) {
            return false
        }
        return text.unicodeScalars.contains { $0.properties.generalCategory == .control && !allowed.contains($0) }
    }

    /// An IPv4 address in dotted-decimal form or an IPv6 address, as `IPAddress` (the C
    /// library's parser) reads them: the hand-written check it replaced took strings such as
    /// `:::::::` and cost 2 % of ingestion's CPU.
    static func isIPAddress(_ text: String) -> Bool { IPAddress(text) != nil }

    private static func invalid(_ path: String, _ problem: String) -> RampartError { .invalidField(path, problem) }
}

extension JSONValue {
    var isObject: Bool { if case .object = self { true } else { false } }

    /// The length of `canonical` without writing it: escapes counted as written.
    var canonicalByteCount: Int {
        switch self {
        case .null: 4
        case .bool(let b): b ? 4 : 5
        case .int(let i): String(i).utf8.count
        case .string(let s): Self.stringByteCount(s)
        case .array(let a): 2 + max(0, a.count - 1) + a.reduce(0) { $0 + $1.canonicalByteCount }
        case .object(let o): 2 + max(0, o.count - 1) + o.reduce(0) { $0 + Self.stringByteCount($1.key) + 1 + $1.value.canonicalByteCount }
        }
    }

    private static func stringByteCount(_ s: String) -> Int {
        var count = 2
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): count += 2
            case ..<0x20: count += 6
            default: count += 1
            }
        }
        return count
    }
}
