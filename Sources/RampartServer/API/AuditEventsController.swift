import Hummingbird
import RampartCore
import RampartStorage

struct AuditEventsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [APIRoute(.get, "/audit-events", list)]
    }

    /// An event as the API shows it: the stored JSON fields parsed back into objects.
    struct EventBody: Encodable, Sendable {
        let sequence: Int64
        let id: String
        let occurredAt: Timestamp
        let action: String
        let outcome: String
        let actor: AuditActor
        let targets: JSONValue
        let requestId: String?
        let details: JSONValue
        let hash: String
        let previousHash: String

        init(_ e: AuditEvent) {
            sequence = e.sequence; id = e.id; occurredAt = e.occurredAt; action = e.action; outcome = e.outcome
            actor = e.actor; targets = JSONValue.parse(e.targetsJSON) ?? .array([]); requestId = e.requestID
            details = JSONValue.parse(e.detailsJSON) ?? .object([:]); hash = e.hash; previousHash = e.previousHash
        }

        enum CodingKeys: String, CodingKey {
            case sequence, id, occurredAt, action, outcome, actor, targets, requestId, details, hash, previousHash
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(sequence, forKey: .sequence)
            try c.encode(id, forKey: .id)
            try c.encode(occurredAt, forKey: .occurredAt)
            try c.encode(action, forKey: .action)
            try c.encode(outcome, forKey: .outcome)
            try c.encode(actor, forKey: .actor)
            try c.encode(targets, forKey: .targets)
            try c.encode(requestId, forKey: .requestId)
            try c.encode(details, forKey: .details)
            try c.encode(hash, forKey: .hash)
            try c.encode(previousHash, forKey: .previousHash)
        }
    }

    static func query(from request: Request) throws -> AuditQuery {
        var query = AuditQuery()
        query.actor = try request.query("actor")
        query.action = try request.query("action")
        query.target = try request.query("target")
        query.since = try request.timestamp("since")
        query.until = try request.timestamp("until")
        query.limit = try request.limit()
        if let cursor = try request.query("cursor") {
            guard let sequence = Int64(cursor), sequence > 0 else { throw Request.badCursor }
            query.beforeSequence = sequence
        }
        return query
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let query = try Self.query(from: request)
        let page = try await read(context, .readAuditLog) { try await $0.auditEvents(query) }
        return try JSON.response(PageBody(Page(items: page.items.map(EventBody.init), nextCursor: page.nextCursor)))
    }
}
