/// Who did something. A person's name, IP address and user agent are fields of their own,
/// sealed under the person's subject key when the event is stored (`AuditPersonalData`).
public struct AuditActor: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case user, apiToken = "api_token", scimToken = "scim_token", oauthClient = "oauth_client", system
    }
    public var type: Kind
    public var id: String?
    public var name: String?
    public var ip: String?
    public var userAgent: String?
    /// The person was erased: their subject key is gone, and with it the name, IP address and
    /// user agent this event held. Only ever set when an event is read.
    public var erased: Bool = false

    public init(type: Kind, id: String?, name: String?, ip: String? = nil, userAgent: String? = nil) {
        self.type = type; self.id = id; self.name = name; self.ip = ip; self.userAgent = userAgent
    }

    private enum CodingKeys: String, CodingKey { case type, id, name, ip, userAgent, erased }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(Kind.self, forKey: .type)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        ip = try c.decodeIfPresent(String.self, forKey: .ip)
        userAgent = try c.decodeIfPresent(String.self, forKey: .userAgent)
        erased = try c.decodeIfPresent(Bool.self, forKey: .erased) ?? false
    }

    /// `erased` is written only when true, so an actor that was never erased reads as before.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(ip, forKey: .ip)
        try c.encodeIfPresent(userAgent, forKey: .userAgent)
        if erased { try c.encode(true, forKey: .erased) }
    }

    public static let system = AuditActor(type: .system, id: nil, name: "rampart")
}

public struct AuditTarget: Codable, Sendable, Equatable {
    public var type: String
    public var id: String
    public var name: String?
    /// A person target whose subject key was destroyed: the name is gone. Only set on reading.
    public var erased: Bool = false
    public init(type: String, id: String, name: String?) { self.type = type; self.id = id; self.name = name }

    private enum CodingKeys: String, CodingKey { case type, id, name, erased }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        erased = try c.decodeIfPresent(Bool.self, forKey: .erased) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        if erased { try c.encode(true, forKey: .erased) }
    }

    /// Whether this target is a person, whose name is personal data: Rampart's users and a
    /// product's targets of type `user`. Other targets (groups, products, tokens, pages) are
    /// things, whose names are not sealed.
    public var isPerson: Bool { type == "user" }

    /// The target as an event's `targets` holds it, keys in canonical order, with `name` as
    /// stored there (sealed, opened or clear): the one shape the chain hashes.
    func canonicalFields(name: String?) -> [(key: String, value: JSONValue)] {
        [("id", .string(id)), ("name", JSONValue(name)), ("type", .string(type))]
    }

    public static func user(_ u: User) -> AuditTarget { AuditTarget(type: "user", id: u.id, name: u.email) }
    public static func group(_ g: Group) -> AuditTarget { AuditTarget(type: "group", id: g.id, name: g.name) }
    public static func auditFilter(_ f: AuditSavedFilter) -> AuditTarget { AuditTarget(type: "audit_filter", id: f.id, name: f.name) }
    public static func product(_ p: Product) -> AuditTarget { AuditTarget(type: "product", id: p.id, name: p.name) }
    public static func token(_ t: APIToken) -> AuditTarget { AuditTarget(type: "api_token", id: t.id, name: t.name) }
    public static func scimToken(_ t: SCIMToken) -> AuditTarget { AuditTarget(type: "scim_token", id: t.id, name: t.name) }
    public static func ingestionKey(_ k: IngestionKey) -> AuditTarget {
        AuditTarget(type: "ingestion_key", id: k.id, name: k.name)
    }
    public static func domain(_ d: DomainClaim) -> AuditTarget { AuditTarget(type: "domain", id: d.id, name: d.domain) }
    public static func identityProvider(_ p: IdentityProvider) -> AuditTarget {
        AuditTarget(type: "identity_provider", id: p.id, name: p.name)
    }
    public static func auditExport(_ e: AuditExportJob) -> AuditTarget {
        AuditTarget(type: "audit_export", id: e.id, name: e.format)
    }
    public static func logStream(_ s: LogStream) -> AuditTarget { AuditTarget(type: "log_stream", id: s.id, name: s.name) }
    public static func oauthClient(_ c: OAuthClient) -> AuditTarget { AuditTarget(type: "oauth_client", id: c.id, name: c.name) }
    public static func organization(_ o: Organization) -> AuditTarget {
        AuditTarget(type: "organization", id: o.id, name: o.slug)
    }
}

public enum AuditOutcome: String, Codable, Sendable { case success, failure }

/// An event before it has a place in the log: what the caller supplies.
public struct AuditRecord: Sendable {
    public var action: AuditAction
    public var actor: AuditActor
    public var targets: [AuditTarget]
    public var outcome: AuditOutcome
    public var requestID: String?
    /// Free-form JSON object, already canonical text (see `AuditDetails`).
    public var details: AuditDetails
    /// `details` already as canonical text, for records whose details never hold a person's
    /// data at their top level (product events: `data`, `idempotencyKey`, `source`), so that
    /// the sealer has nothing to split out and no dictionary to build and sort per event.
    public var renderedDetails: String?
    /// Nil until appended: the log stamps it with its clock.
    public var occurredAt: Timestamp?
    /// Whose personal data the actor's fields are, when not the default for the actor (see
    /// `AuditSubject.of(_:)`): product events name people by the product's own references.
    public var actorSubjectOverride: AuditSubject?
    /// The same for person targets, by target id.
    public var targetSubjectOverrides: [String: AuditSubject] = [:]

    public init(action: AuditAction, actor: AuditActor, targets: [AuditTarget], outcome: AuditOutcome = .success,
                requestID: String? = nil, details: AuditDetails = AuditDetails(), occurredAt: Timestamp? = nil) {
        self.action = action; self.actor = actor; self.targets = targets; self.outcome = outcome
        self.requestID = requestID; self.details = details; self.occurredAt = occurredAt
    }

    /// The subject the actor's name, IP address and user agent are sealed under; nil for
    /// actors that are not people (tokens, clients, the system).
    public var actorSubject: AuditSubject? {
        guard actor.type == .user else { return nil }
        return actorSubjectOverride ?? AuditSubject.of(actor)
    }

    /// Every subject whose personal data the record holds.
    public var subjects: Set<AuditSubject> {
        var subjects = Set<AuditSubject>()
        addSubjects(to: &subjects)
        return subjects
    }

    /// Adds them to `subjects`: a batch collects its records' subjects in one set.
    public func addSubjects(to subjects: inout Set<AuditSubject>) {
        if let subject = actorSubject { subjects.insert(subject) }
        for target in targets { if let subject = subject(of: target) { subjects.insert(subject) } }
    }

    /// The subject of a person target's name; nil for targets that are not people.
    public func subject(of target: AuditTarget) -> AuditSubject? {
        guard target.isPerson else { return nil }
        if let override = targetSubjectOverrides[target.id] { return override }
        return .user(target.id)
    }
}

/// An event as stored: a place in the organisation's chain.
public struct AuditEvent: Sendable, Equatable {
    public var orgID: String
    public var sequence: Int64
    public var id: String
    public var occurredAt: Timestamp
    public var action: String
    public var outcome: String
    public var actor: AuditActor
    /// Stored JSON text of `[AuditTarget]`; hashed as stored.
    public var targetsJSON: String
    public var requestID: String?
    /// Stored JSON text of the details object; hashed as stored.
    public var detailsJSON: String
    public var previousHash: String
    public var hash: String
    /// How the event is encoded and hashed: 1 for events written before personal data was
    /// sealed (kept as they are: the chain cannot be rewritten), 2 for sealed events.
    public var encoding: Int
    /// Encoding 2: the personal part of `details` (a person target's email, name, ...),
    /// sealed under that person's key; nil when there is none. Hashed as stored.
    public var personal: String?

    public init(orgID: String, sequence: Int64, id: String, occurredAt: Timestamp, action: String, outcome: String,
                actor: AuditActor, targetsJSON: String, requestID: String?, detailsJSON: String,
                previousHash: String, hash: String, encoding: Int = AuditEncoding.legacy, personal: String? = nil) {
        self.orgID = orgID; self.sequence = sequence; self.id = id; self.occurredAt = occurredAt
        self.action = action; self.outcome = outcome; self.actor = actor; self.targetsJSON = targetsJSON
        self.requestID = requestID; self.detailsJSON = detailsJSON; self.previousHash = previousHash; self.hash = hash
        self.encoding = encoding; self.personal = personal
    }
}

/// Who is making a change and under which request: every mutation takes one, so every
/// mutation can write its audit event.
public struct AuditContext: Sendable {
    public var actor: AuditActor
    public var requestID: String?
    public init(actor: AuditActor, requestID: String? = nil) { self.actor = actor; self.requestID = requestID }
    public static let system = AuditContext(actor: .system)

    public func record(_ action: AuditAction, _ targets: [AuditTarget], details: AuditDetails = AuditDetails(),
                       outcome: AuditOutcome = .success, at time: Timestamp? = nil) -> AuditRecord {
        AuditRecord(action: action, actor: actor, targets: targets, outcome: outcome, requestID: requestID,
                    details: details, occurredAt: time)
    }
}
