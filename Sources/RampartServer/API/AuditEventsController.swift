import Hummingbird
import RampartCore
import RampartStorage

struct AuditEventsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [APIRoute(.get, "/audit-events", list), APIRoute(.get, "/audit-checkpoints", checkpoints)]
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
        return try JSON.response(PageBody(Page(items: page.items.map(AuditEventView.init), nextCursor: page.nextCursor)))
    }

    /// The signed checkpoints of the log, newest first: each can be checked on its own.
    @Sendable func checkpoints(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let limit = try request.limit()
        return try JSON.response(ListBody(data: try await read(context, .readAuditLog) { try await $0.auditCheckpoints(limit: limit) }))
    }
}
