/// Who did something. Personal data (the name) stays inside the event so that later
/// sealing per subject can shred it without breaking the chain.
public struct AuditActor: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case user, apiToken = "api_token", scimToken = "scim_token", oauthClient = "oauth_client", system
    }
    public var type: Kind
    public var id: String?
    public var name: String?
    public var ip: String?
    public var userAgent: String?

    public init(type: Kind, id: String?, name: String?, ip: String? = nil, userAgent: String? = nil) {
        self.type = type; self.id = id; self.name = name; self.ip = ip; self.userAgent = userAgent
    }

    public static let system = AuditActor(type: .system, id: nil, name: "rampart")
}

public struct AuditTarget: Codable, Sendable, Equatable {
    public var type: String
    public var id: String
    public var name: String?
    public init(type: String, id: String, name: String?) { self.type = type; self.id = id; self.name = name }

    public static func user(_ u: User) -> AuditTarget { AuditTarget(type: "user", id: u.id, name: u.email) }
    public static func group(_ g: Group) -> AuditTarget { AuditTarget(type: "group", id: g.id, name: g.name) }
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
    /// Nil until appended: the log stamps it with its clock.
    public var occurredAt: Timestamp?

    public init(action: AuditAction, actor: AuditActor, targets: [AuditTarget], outcome: AuditOutcome = .success,
                requestID: String? = nil, details: AuditDetails = AuditDetails(), occurredAt: Timestamp? = nil) {
        self.action = action; self.actor = actor; self.targets = targets; self.outcome = outcome
        self.requestID = requestID; self.details = details; self.occurredAt = occurredAt
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

    public init(orgID: String, sequence: Int64, id: String, occurredAt: Timestamp, action: String, outcome: String,
                actor: AuditActor, targetsJSON: String, requestID: String?, detailsJSON: String,
                previousHash: String, hash: String) {
        self.orgID = orgID; self.sequence = sequence; self.id = id; self.occurredAt = occurredAt
        self.action = action; self.outcome = outcome; self.actor = actor; self.targetsJSON = targetsJSON
        self.requestID = requestID; self.detailsJSON = detailsJSON; self.previousHash = previousHash; self.hash = hash
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
