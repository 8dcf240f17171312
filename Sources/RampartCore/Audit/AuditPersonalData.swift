import Crypto
import Foundation

/// How an event is encoded in the chain (`AuditEvent.encoding`).
public enum AuditEncoding {
    /// Written before personal data was sealed: every field in clear, hashed as `rampart.audit.v1`.
    public static let legacy = 1
    /// Personal data sealed under subject keys, the sealed bytes hashed, as `rampart.audit.v2`.
    public static let sealed = 2
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

    public static func seal(_ value: String, with key: SubjectKey, org: String, event: String, field: String) -> String {
        let box = try! AES.GCM.seal(Data(value.utf8), using: key.key,
                                    authenticating: associatedData(org: org, event: event, field: field, keyID: key.id))
        return key.id + ":" + box.combined!.base64EncodedString()
    }

    /// The key id a sealed value names, or nil when it is not a sealed value.
    public static func keyID(of sealed: String) -> Substring? {
        guard let colon = sealed.firstIndex(of: ":") else { return nil }
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

    static func associatedData(org: String, event: String, field: String, keyID: String) -> Data {
        // Length-prefixed, as the key service's seals, so that no two bindings share bytes.
        var data = Data()
        for part in ["rampart.audit-personal.v1", org, event, field, keyID] {
            withUnsafeBytes(of: UInt32(part.utf8.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: part.utf8)
        }
        return data
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

/// Seals the personal data of the events of one append with the subject keys loaded for it
/// (one lookup per distinct subject per batch, never one per event).
public struct AuditSealer: Sendable {
    public let orgID: String
    /// Keys by subject. A subject that is missing was erased: its fields are not stored.
    public let keys: [AuditSubject: SubjectKey]

    public init(orgID: String, keys: [AuditSubject: SubjectKey]) { self.orgID = orgID; self.keys = keys }

    /// The actor, targets JSON and sealed personal details of `record` as event `id` stores them.
    func seal(_ record: AuditRecord, event id: String) -> (actor: AuditActor, targetsJSON: String, details: String, personal: String?) {
        var actor = record.actor
        if actor.type == .user {
            let key = record.actorSubject.flatMap { keys[$0] }
            actor.name = seal(actor.name, key, id, "actor.name")
            actor.ip = seal(actor.ip, key, id, "actor.ip")
            actor.userAgent = seal(actor.userAgent, key, id, "actor.userAgent")
        }
        var personTarget: SubjectKey?
        var hasPersonTarget = false
        let targets = JSONValue.canonicalArray(ofSortedObjects: record.targets.map { t in
            var name = t.name
            if let subject = record.subject(of: t) {
                hasPersonTarget = true
                let key = keys[subject]
                if personTarget == nil { personTarget = key }
                name = seal(name, key, id, "target.\(t.type).\(t.id).name")
            }
            return t.canonicalFields(name: name)
        })
        // Personal details are about the event's first person target (the user created or
        // changed); without one, or once that person is erased, they are not kept.
        let split = AuditPersonalData.split(record.details)
        var personal: String?
        if !split.personal.isEmpty, let personTarget {
            personal = AuditPersonalData.seal(JSONValue.object(split.personal).canonical, with: personTarget, org: orgID,
                                              event: id, field: "details.personal")
        }
        return (actor, targets, (hasPersonTarget ? split.clear : record.details).json.canonical, personal)
    }

    private func seal(_ value: String?, _ key: SubjectKey?, _ event: String, _ field: String) -> String? {
        guard let value, let key else { return nil }
        return AuditPersonalData.seal(value, with: key, org: orgID, event: event, field: field)
    }
}

/// Opens the personal data of stored events for reading, with the subject keys of a batch.
/// A value whose key is gone reads as erased: the actor's name, IP address and user agent
/// absent and `erased` set, a target's name absent and `erased` set.
public struct AuditOpener: Sendable {
    public let keys: [Substring: SymmetricKey]

    public init(keys: [Substring: SymmetricKey]) { self.keys = keys }

    /// The key ids the sealed values of `events` name.
    public static func keyIDs(in events: [AuditEvent]) -> Set<String> {
        var ids = Set<String>()
        for e in events where e.encoding == AuditEncoding.sealed {
            for value in [e.actor.name, e.actor.ip, e.actor.userAgent, e.personal] {
                if let value, let id = AuditPersonalData.keyID(of: value) { ids.insert(String(id)) }
            }
            if e.targetsJSON.contains("\"user\"") {
                for t in AuditTarget.parse(e.targetsJSON) where t.isPerson {
                    if let name = t.name, let id = AuditPersonalData.keyID(of: name) { ids.insert(String(id)) }
                }
            }
        }
        return ids
    }

    public func open(_ stored: AuditEvent) -> AuditEvent {
        guard stored.encoding == AuditEncoding.sealed else { return stored }
        var e = stored
        if e.actor.type == .user {
            let stored = e.actor
            e.actor.name = open(stored.name, e, "actor.name")
            e.actor.ip = open(stored.ip, e, "actor.ip")
            e.actor.userAgent = open(stored.userAgent, e, "actor.userAgent")
            e.actor.erased = (stored.name != nil && e.actor.name == nil) || (stored.ip != nil && e.actor.ip == nil)
                || (stored.userAgent != nil && e.actor.userAgent == nil)
        }
        if e.targetsJSON.contains("\"user\"") {
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
