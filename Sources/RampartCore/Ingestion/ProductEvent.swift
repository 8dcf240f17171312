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
        let window = (earliest: now.adding(days: -maxAgeDays), latest: now.adding(seconds: maxFutureSeconds))
        var events: [ProductEvent] = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            events.append(try ProductEvent(item, path: "events[\(index)]", window: window))
        }
        return events
    }

    // Paths are closures: they are written out only for the message of a refused field.
    init(_ value: JSONValue, path: @autoclosure () -> String, window: (earliest: Timestamp, latest: Timestamp)) throws(RampartError) {
        let fields = try Self.object(value, path(), allowed: Self.fields)
        guard value.canonicalByteCount <= Self.maxEventBytes else {
            throw Self.invalid(path(), "is larger than \(Self.maxEventBytes / 1024) KiB")
        }
        idempotencyKey = try Self.line(fields["idempotencyKey"], "\(path()).idempotencyKey", max: 200)
        let actionName = try Self.line(fields["action"], "\(path()).action", max: 64)
        guard let action = Self.actionsByName[actionName] else {
            throw Self.invalid("\(path()).action", "must be one of \(Self.actions.map(\.rawValue).joined(separator: ", "))")
        }
        self.action = action
        let time = try Self.line(fields["occurredAt"], "\(path()).occurredAt", max: 64)
        guard let occurredAt = Timestamp(rfc3339: time) else {
            throw Self.invalid("\(path()).occurredAt", "must be an RFC 3339 date-time such as 2026-12-01T09:30:00Z")
        }
        guard occurredAt <= window.latest else {
            throw Self.invalid("\(path()).occurredAt", "is more than \(Int(Self.maxFutureSeconds / 60)) minutes in the future")
        }
        guard occurredAt >= window.earliest else {
            throw Self.invalid("\(path()).occurredAt", "is more than \(Self.maxAgeDays) days in the past")
        }
        self.occurredAt = occurredAt
        actor = try Self.actor(fields["actor"], "\(path()).actor")
        targets = try Self.targets(fields["targets"], "\(path()).targets")
        switch fields["outcome"] {
        case nil: outcome = .success
        case .string(let text)? where AuditOutcome(rawValue: text) != nil: outcome = AuditOutcome(rawValue: text)!
        default: throw Self.invalid("\(path()).outcome", "must be success or failure")
        }
        switch fields["details"] {
        case nil: details = .object([:])
        case let value? where value.isObject:
            try Self.checkDetails(value, "\(path()).details", depth: 1)
            details = value
        default: throw Self.invalid("\(path()).details", "must be an object")
        }
    }

    private static func actor(_ value: JSONValue?, _ path: @autoclosure () -> String) throws(RampartError) -> AuditActor {
        guard let value else { throw invalid(path(), "is required") }
        let fields = try object(value, path(), allowed: actorFields)
        let id = try fields["id"].map { v throws(RampartError) in try line(v, "\(path()).id", max: 200) }
        let email = try fields["email"].map { v throws(RampartError) in
            let text = try line(v, "\(path()).email", max: 320)
            do { return try Validate.email(text, field: "email") } catch {
                throw invalid("\(path()).email", "must be an email address such as ada@example.com")
            }
        }
        let name = try fields["name"].map { v throws(RampartError) in try line(v, "\(path()).name", max: 200) }
        guard id != nil || email != nil || name != nil else { throw invalid(path(), "must have an id, an email or a name") }
        let ip = try fields["ip"].map { v throws(RampartError) in try line(v, "\(path()).ip", max: 45) }
        if let ip, !isIPAddress(ip) { throw invalid("\(path()).ip", "must be an IPv4 or IPv6 address") }
        let userAgent = try fields["userAgent"].map { v throws(RampartError) in try line(v, "\(path()).userAgent", max: 512) }
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
            let type = try line(fields["type"], "\(at()).type", max: 64)
            guard type.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_") }) else {
                throw invalid("\(at()).type", "must be lowercase letters and '_' (page, space, issue)")
            }
            let id = try line(fields["id"], "\(at()).id", max: 200)
            let name = try fields["name"].map { v throws(RampartError) in try line(v, "\(at()).name", max: 200) }
            targets.append(AuditTarget(type: type, id: id, name: name))
        }
        return targets
    }

    /// Details are free-form but bounded: keys are short single lines, strings may hold line
    /// breaks and tabs (a search query, a comment) but no other control characters.
    private static func checkDetails(_ value: JSONValue, _ path: @autoclosure () -> String, depth: Int) throws(RampartError) {
        switch value {
        case .object(let fields):
            guard depth <= maxDetailsDepth else { throw invalid(path(), "nests deeper than \(maxDetailsDepth) levels") }
            for (key, field) in fields {
                guard !key.isEmpty, key.unicodeScalars.count <= 64, !hasControl(key, allowing: []) else {
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
    private static func line(_ value: JSONValue?, _ path: @autoclosure () -> String, max: Int) throws(RampartError) -> String {
        guard let value else { throw invalid(path(), "is required") }
        guard case .string(let text) = value else { throw invalid(path(), "must be a string") }
        guard !text.isEmpty else { throw invalid(path(), "must not be empty") }
        guard text.unicodeScalars.count <= max else { throw invalid(path(), "must be at most \(max) characters") }
        guard !hasControl(text, allowing: []) else { throw invalid(path(), "must not contain control characters (CR, LF, …)") }
        return text
    }

    private static func hasControl(_ text: String, allowing allowed: Set<Unicode.Scalar>) -> Bool {
        // Most text is ASCII without control bytes: checked as bytes before any scalar is decoded.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return false }
        return text.unicodeScalars.contains { $0.properties.generalCategory == .control && !allowed.contains($0) }
    }

    private static func isIPAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 {
            return parts.allSatisfy { part in part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && (UInt16(part) ?? 256) <= 255 }
        }
        let groups = text.split(separator: ":", omittingEmptySubsequences: false)
        return text.contains(":") && (3...9).contains(groups.count)
            && text.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." }
    }

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
