import Crypto
import Foundation

/// How an event is encoded in the chain (`AuditEvent.encoding`).
public enum AuditEncoding {
    /// Written before personal data was sealed: every field in clear, hashed as `rampart.audit.v1`.
    public static let legacy = 1
    /// Personal data sealed under subject keys, the sealed bytes hashed, as `rampart.audit.v2`;
    /// a person actor's name, IP address and user agent each sealed on its own.
    public static let sealed = 2
    /// As `sealed`, hashed as `rampart.audit.v3`, except that a person actor's name, IP address
    /// and user agent are sealed together, as one JSON object in `actor.name` (field `actor`):
    /// one seal instead of three saves about 6 % of ingestion's CPU and 120 bytes per event.
    public static let sealedActor = 3
    /// What new events are written as.
    public static let current = sealedActor

    /// Whether events of `encoding` hold sealed personal data (and a `personal` part).
    public static func isSealed(_ encoding: Int) -> Bool { encoding == sealed || encoding == sealedActor }
}

/// Whose personal data a field of an event is: each subject has a key of its own
/// (`audit_subject_keys`), and erasing the subject destroys that key.
public enum AuditSubject: Hashable, Sendable {
    /// A Rampart user, by id: actors signed in to Rampart, user targets, and product actors
    /// whose id is Rampart's.
    case user(String)
    /// A person known by an email address only (a failed sign-in with an unknown address, a
    /// product's user without a Rampart id). Lowercased.
    case email(String)
    /// A product's user known by the product's own reference (id or name) only.
    case productUser(product: String, reference: String)

    /// The default subject of a person actor: the user by id, else the email or name it gave.
    public static func of(_ actor: AuditActor) -> AuditSubject? {
        if let id = actor.id { return .user(id) }
        if let name = actor.name { return .email(name.lowercased()) }
        return nil
    }
}

/// One subject's key, by the random id that sealed values name.
public struct SubjectKey: Sendable {
    public let id: String
    public let key: SymmetricKey
    public init(id: String, key: SymmetricKey) { self.id = id; self.key = key }
}

/// Sealing and opening the personal data of one event. A sealed value is
/// `<key id>:<base64 of AES-256-GCM nonce, ciphertext and tag>`; its authenticated data binds
/// organisation, event id, field and key id, so a sealed value moved to another event or field
/// does not open. The key id is random: it says which key opens the value and nothing about whom.
public enum AuditPersonalData {
    /// The top-level keys of `details` (and of `details.changes`) that hold a person target's
    /// personal data: they are moved into the sealed `personal` part of an event.
    public static let personalDetailKeys: Set<String> = ["email", "displayName", "userName", "externalId", "name"]

    static func seal(_ value: String, with key: SubjectKey, nonce: AES.GCM.Nonce, binding: SealBinding,
                     field: String) -> String {
        let box = try! AES.GCM.seal(Array(value.utf8), using: key.key, nonce: nonce,
                                    authenticating: binding.bytes(field: field, keyID: key.id))
        let combined = box.combined!
        var sealed = key.id
        sealed.reserveCapacity(key.id.utf8.count + 1 + (combined.count + 2) / 3 * 4)
        sealed += ":"
        sealed += combined.base64EncodedString()
        return sealed
    }

    /// The key id a sealed value names, or nil when it is not a sealed value.
    public static func keyID(of sealed: String) -> Substring? {
        // By byte: `firstIndex(of:)` over `Character`s breaks graphemes all the way to it.
        guard let colon = sealed.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return sealed[..<colon]
    }

    /// The clear text, or nil when the key is gone (erased) or the value does not open here.
    public static func open(_ sealed: String, keys: [Substring: SymmetricKey], org: String, event: String,
                            field: String) -> String? {
        guard let keyID = keyID(of: sealed), let key = keys[keyID],
              let combined = Data(base64Encoded: String(sealed[sealed.index(after: keyID.endIndex)...])),
              let box = try? AES.GCM.SealedBox(combined: combined),
              let clear = try? AES.GCM.open(box, using: key, authenticating: associatedData(
                  org: org, event: event, field: field, keyID: String(keyID)))
        else { return nil }
        return String(decoding: clear, as: UTF8.self)
    }

    static func associatedData(org: String, event: String, field: String, keyID: String) -> [UInt8] {
        SealBinding(org: org, event: event).bytes(field: field, keyID: keyID)
    }

    /// `details` split into what stays in clear and the personal part, both objects.
    public static func split(_ details: AuditDetails) -> (clear: AuditDetails, personal: [String: JSONValue]) {
        var clear = details.fields, personal: [String: JSONValue] = [:]
        for key in personalDetailKeys where clear[key] != nil { personal[key] = clear.removeValue(forKey: key) }
        if case .object(var changes)? = clear["changes"] {
            var moved: [String: JSONValue] = [:]
            for key in personalDetailKeys where changes[key] != nil { moved[key] = changes.removeValue(forKey: key) }
            if !moved.isEmpty {
                personal["changes"] = .object(moved)
                clear["changes"] = changes.isEmpty ? nil : .object(changes)
            }
        }
        return (AuditDetails(clear), personal)
    }

    /// The stored details with the opened personal part put back where `split` took it from.
    public static func merge(_ detailsJSON: String, personal: JSONValue) -> String {
        guard case .object(var details)? = JSONValue.parse(detailsJSON), case .object(let part) = personal else {
            return detailsJSON
        }
        for (key, value) in part {
            if key == "changes", case .object(let moved) = value {
                var changes: [String: JSONValue] = [:]
                if case .object(let existing)? = details["changes"] { changes = existing }
                for (field, change) in moved { changes[field] = change }
                details["changes"] = .object(changes)
            } else {
                details[key] = value
            }
        }
        return JSONValue.object(details).canonical
    }
}

/// The authenticated data of one event's seals: organisation, event, field and key id, each
/// length-prefixed (`CanonicalFields`) as the key service's seals are, so that no two bindings
/// share bytes. The part common to an event's fields is built once.
struct SealBinding {
    private var prefix = CanonicalFields(capacity: 128)

    init(org: String, event: String) {
        for part in ["rampart.audit-personal.v1", org, event] { prefix.append(part) }
    }

    func bytes(field: String, keyID: String) -> [UInt8] {
        var bytes = prefix
        bytes.append(field)
        bytes.append(keyID)
        return bytes.bytes
    }
}

/// Nonces for a batch of seals and ids for its events, drawn from the system's generator
/// many at a time: `AES.GCM.seal` drawing its own made a system call for every seal, a tenth
/// of ingestion's CPU.
struct BatchRandom {
    private var bytes = RandomBytePool()

    mutating func nonce() -> AES.GCM.Nonce { try! AES.GCM.Nonce(data: bytes.take(12)) }

    mutating func eventID() -> String { Identifier.make(at: Date(), random: bytes.take(16)) }
}

/// Seals the personal data of the events of one append with the subject keys loaded for it
/// (one lookup per distinct subject per batch, never one per event).
public struct AuditSealer: Sendable {
    public let orgID: String
    /// Keys by subject. A subject that is missing was erased: its fields are not stored.
    public let keys: [AuditSubject: SubjectKey]
    /// `AuditEncoding.current`; the log still reads events of `.sealed`, which tests write.
    public let encoding: Int

    public init(orgID: String, keys: [AuditSubject: SubjectKey], encoding: Int = AuditEncoding.current) {
        precondition(AuditEncoding.isSealed(encoding))
        self.orgID = orgID; self.keys = keys; self.encoding = encoding
    }

    /// The stored form of each record, under a new event id.
    public func prepare(_ records: [AuditRecord]) -> [PreparedAuditEvent] {
        prepare(records, leavingOut: []).map { $0! }
    }

    /// The same, except for the records that name one of the `pending` subjects: those that
    /// have no key yet, which is made only under the head lock. Their entries are nil.
    public func prepare(_ records: [AuditRecord], leavingOut pending: Set<AuditSubject>) -> [PreparedAuditEvent?] {
        var random = BatchRandom()
        return records.map { record in
            guard pending.isEmpty || pending.isDisjoint(with: record.subjects) else { return nil }
            return prepare(record, id: random.eventID(), random: &random)
        }
    }

    /// The actor, targets and details of `record` as event `id` stores them, personal data sealed.
    func prepare(_ record: AuditRecord, id: String, random: inout BatchRandom) -> PreparedAuditEvent {
        let binding = SealBinding(org: orgID, event: id)
        func seal(_ value: String?, _ key: SubjectKey?, _ field: String) -> String? {
            guard let value, let key else { return nil }
            return AuditPersonalData.seal(value, with: key, nonce: random.nonce(), binding: binding, field: field)
        }
        var actor = record.actor
        if actor.type == .user {
            let key = record.actorSubject.flatMap { keys[$0] }
            if encoding == AuditEncoding.sealedActor {
                actor.name = seal(SealedActor.json(of: actor), key, SealedActor.field)
                (actor.ip, actor.userAgent) = (nil, nil)
            } else {
                actor.name = seal(actor.name, key, "actor.name")
                actor.ip = seal(actor.ip, key, "actor.ip")
                actor.userAgent = seal(actor.userAgent, key, "actor.userAgent")
            }
        }
        var hasPersonTarget = false, firstPersonKey: SubjectKey?
        let targets = JSONValue.canonicalArray(ofSortedObjects: record.targets.map { t in
            var name = t.name
            if let subject = record.subject(of: t) {
                let key = keys[subject]
                if !hasPersonTarget { (hasPersonTarget, firstPersonKey) = (true, key) }
                name = seal(name, key, "target.\(t.type).\(t.id).name")
            }
            return t.canonicalFields(name: name)
        })
        // Personal details are about the event's first person target (the user created or
        // changed); without one, or once that person is erased, they are not kept.
        if let rendered = record.renderedDetails {
            return PreparedAuditEvent(record, id: id, actor: actor, targetsJSON: targets, detailsJSON: rendered,
                                      encoding: encoding, personal: nil)
        }
        let split = AuditPersonalData.split(record.details)
        let personal = split.personal.isEmpty ? nil : seal(JSONValue.object(split.personal).canonical, firstPersonKey,
                                                           "details.personal")
        return PreparedAuditEvent(record, id: id, actor: actor, targetsJSON: targets,
                                  detailsJSON: (hasPersonTarget ? split.clear : record.details).json.canonical,
                                  encoding: encoding, personal: personal)
    }
}

/// A person actor's name, IP address and user agent as one sealed value (encoding 3): the
/// canonical JSON object of those present, `{"ip":…,"name":…,"userAgent":…}`.
struct SealedActor {
    static let field = "actor"
    var name: String?, ip: String?, userAgent: String?

    /// The clear text to seal, or nil when the actor has none of the three.
    /// Written as bytes, keys in sorted order, as `JSONValue.canonical` would: every product
    /// event seals one.
    static func json(of actor: AuditActor) -> String? {
        guard actor.ip != nil || actor.name != nil || actor.userAgent != nil else { return nil }
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(192)
        func field(_ key: String, _ value: String?) {
            guard let value else { return }
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            JSONValue.writeString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONValue.writeString(value, to: &out)
        }
        field("ip", actor.ip)
        field("name", actor.name)
        field("userAgent", actor.userAgent)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Read straight from the text as `json(of:)` writes it: through a `JSONValue` tree, every
    /// event a log stream or an export opens built and freed a dictionary for three strings.
    /// Text this reader does not take goes through the tree, so both read the same.
    init?(json: String) {
        if let read = Self.read(json) { self = read; return }
        guard case .object(let fields)? = JSONValue.parse(json) else { return nil }
        func string(_ key: String) -> String? { if case .string(let value)? = fields[key] { value } else { nil } }
        (name, ip, userAgent) = (string("name"), string("ip"), string("userAgent"))
    }

    private static func read(_ json: String) -> SealedActor? {
        var text = json
        return text.withUTF8 { bytes -> SealedActor? in
            var reader = JSONTextReader(bytes)
            var actor = SealedActor()
            guard reader.consume(UInt8(ascii: "{")) else { return nil }
            if reader.consume(UInt8(ascii: "}")) { return actor }
            repeat {
                reader.skipSpace()
                guard reader.current == UInt8(ascii: "\""), let key = reader.string(), reader.consume(UInt8(ascii: ":")) else {
                    return nil
                }
                reader.skipSpace()
                // Any value is read, as the tree did; only a string is a field's.
                guard let value = reader.value() else { return nil }
                let string: String? = if case .string(let text) = value { text } else { nil }
                switch key {
                case "name": actor.name = string
                case "ip": actor.ip = string
                case "userAgent": actor.userAgent = string
                default: break
                }
            } while reader.consume(UInt8(ascii: ","))
            guard reader.consume(UInt8(ascii: "}")) else { return nil }
            reader.skipSpace()
            return reader.index == bytes.count ? actor : nil
        }
    }

    private init() {}
}

/// Opens the personal data of stored events for reading, with the subject keys of a batch.
/// A value whose key is gone reads as erased: the actor's name, IP address and user agent
/// absent and `erased` set, a target's name absent and `erased` set.
public struct AuditOpener: Sendable {
    public let keys: [Substring: SymmetricKey]

    public init(keys: [Substring: SymmetricKey]) { self.keys = keys }

    /// The key ids the sealed values of `events` name, a long batch's in slices on every core.
    public static func keyIDs(in events: [AuditEvent]) async -> Set<String> {
        Set(await events.mapInSlices { Array(keyIDs(in: $0)) })
    }

    /// The key ids the sealed values of `events` name.
    public static func keyIDs(in events: ArraySlice<AuditEvent>) -> Set<String> {
        var ids = Set<String>()
        for e in events where AuditEncoding.isSealed(e.encoding) {
            for value in [e.actor.name, e.actor.ip, e.actor.userAgent, e.personal] {
                if let value, let id = AuditPersonalData.keyID(of: value) { ids.insert(String(id)) }
            }
            sealedNameKeyIDs(inTargets: e.targetsJSON, into: &ids)
        }
        return ids
    }

    /// The key ids of the sealed names in a stored targets array, found by byte: parsing the
    /// array into targets for them was a twentieth of a log stream's CPU. Stored targets are
    /// canonical, `{"id":…,"name":…,"type":…}`, and only a person's name is sealed, so a
    /// sealed name is a `"name":"KEY-ID:…"` followed by `","type":"user"}`. A name with an
    /// escape is never sealed; scanning stops at it, and a quote within it is escaped, so no
    /// name's text can pass for the end of a person's.
    static func sealedNameKeyIDs(inTargets json: String, into ids: inout Set<String>) {
        var json = json
        nameMarker.withUnsafeBufferPointer { marker in
            json.withUTF8 { bytes in
                var index = 0
                while let found = bytes.firstIndex(of: marker, from: index) {
                    let start = found + marker.count
                    var end = start
                    while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
                    let name = UnsafeBufferPointer(rebasing: bytes[start..<end])
                    if UnsafeBufferPointer(rebasing: bytes[end...]).starts(with: personEnd),
                       let colon = name.firstIndex(of: UInt8(ascii: ":")) {
                        ids.insert(String(decoding: UnsafeBufferPointer(rebasing: name[..<colon]), as: UTF8.self))
                    }
                    index = end
                }
            }
        }
    }

    private static let nameMarker = Array(#""name":""#.utf8), personEnd = Array(#"","type":"user"}"#.utf8)

    /// `events` opened, in order, a long batch in slices on every core (`mapInSlices`):
    /// opening is most of the CPU of an export or a stream's batch.
    public func open(_ events: [AuditEvent]) async -> [AuditEvent] {
        await events.mapInSlices { $0.map(open) }
    }

    public func open(_ stored: AuditEvent) -> AuditEvent {
        guard AuditEncoding.isSealed(stored.encoding) else { return stored }
        var e = stored
        if e.actor.type == .user {
            let stored = e.actor
            if e.encoding == AuditEncoding.sealedActor {
                let opened = open(stored.name, e, SealedActor.field).flatMap(SealedActor.init(json:))
                (e.actor.name, e.actor.ip, e.actor.userAgent) = (opened?.name, opened?.ip, opened?.userAgent)
                e.actor.erased = stored.name != nil && opened == nil
            } else {
                e.actor.name = open(stored.name, e, "actor.name")
                e.actor.ip = open(stored.ip, e, "actor.ip")
                e.actor.userAgent = open(stored.userAgent, e, "actor.userAgent")
                e.actor.erased = (stored.name != nil && e.actor.name == nil) || (stored.ip != nil && e.actor.ip == nil)
                    || (stored.userAgent != nil && e.actor.userAgent == nil)
            }
        }
        if e.targetsJSON.containsBytes(#""user""#) {
            e.targetsJSON = JSONValue.canonicalArray(ofSortedObjects: AuditTarget.parse(e.targetsJSON).map { t in
                guard t.isPerson else { return t.canonicalFields(name: t.name) }
                let name = open(t.name, e, "target.\(t.type).\(t.id).name")
                let erased = t.name != nil && name == nil
                return (erased ? [("erased", .bool(true))] : []) + t.canonicalFields(name: name)
            })
        }
        if let personal = e.personal {
            if let clear = open(personal, e, "details.personal"), let value = JSONValue.parse(clear) {
                e.detailsJSON = AuditPersonalData.merge(e.detailsJSON, personal: value)
            }
            e.personal = nil
        }
        return e
    }

    private func open(_ value: String?, _ e: AuditEvent, _ field: String) -> String? {
        guard let value else { return nil }
        return AuditPersonalData.open(value, keys: keys, org: e.orgID, event: e.id, field: field)
    }
}
