/// An event as the API and the CLI show it: the stored JSON fields parsed back into objects.
public struct AuditEventView: Encodable, Sendable {
    public let sequence: Int64
    public let id: String
    public let occurredAt: Timestamp
    public let action: String
    public let outcome: String
    public let actor: AuditActor
    public let targets: JSONValue
    public let requestId: String?
    public let details: JSONValue
    public let hash: String
    public let previousHash: String

    public init(_ e: AuditEvent) {
        sequence = e.sequence; id = e.id; occurredAt = e.occurredAt; action = e.action; outcome = e.outcome
        actor = e.actor; targets = JSONValue.parse(e.targetsJSON) ?? .array([]); requestId = e.requestID
        details = JSONValue.parse(e.detailsJSON) ?? .object([:]); hash = e.hash; previousHash = e.previousHash
    }
}
