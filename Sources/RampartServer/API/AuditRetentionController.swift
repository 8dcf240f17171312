import Hummingbird
import RampartCore
import RampartStorage

/// `/audit-retention`: how long the organisation keeps its audit events, its legal hold, and
/// a purge on demand (the server also purges on its own, hourly).
struct AuditRetentionController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [APIRoute(.get, "/audit-retention", show), APIRoute(.patch, "/audit-retention", update),
         APIRoute(.post, "/audit-retention/purge", purge)]
    }

    struct UpdateRequest: StrictBody {
        let retentionDays: Int?
        let legalHold: Bool?
        public let legalHoldReason: String?
        static let fields: Set<String> = ["retentionDays", "legalHold", "legalHoldReason"]
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try JSON.response(AuditRetentionView(try await read(context, .readAuditLog) { try await $0.auditRetention() }))
    }

    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(UpdateRequest.self, from: request)
        let updated = try await write(request, context, .manageAuditRetention) {
            try await $0.updateAuditRetention(days: body.retentionDays, legalHold: body.legalHold,
                                              legalHoldReason: body.legalHoldReason, by: $1)
        }
        return try JSON.response(AuditRetentionView(updated))
    }

    /// Applies the retention now: what the hourly purge would do.
    @Sendable func purge(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (purge, retention) = try await write(request, context, .manageAuditRetention) { tenant, audit in
            (try await tenant.purgeExpiredAudit(by: audit), try await tenant.auditRetention())
        }
        return try JSON.response(AuditPurgeView(purge, retention: retention))
    }
}

public struct AuditRetentionView: Encodable, Sendable {
    public let retentionDays: Int
    public let legalHold: Bool
    public let legalHoldReason: String?
    public let legalHoldSince: Timestamp?
    /// Events up to this sequence number were purged; the log verifies from its signed checkpoint.
    public let purgedThroughSequence: Int64
    public let lastPurgeAt: Timestamp?

    public init(_ r: AuditRetention) {
        retentionDays = r.retentionDays; legalHold = r.legalHold; legalHoldReason = r.legalHoldReason
        legalHoldSince = r.legalHoldSince; purgedThroughSequence = r.purgedThrough.sequence; lastPurgeAt = r.lastPurgeAt
    }
}

public struct AuditPurgeView: Encodable, Sendable {
    /// False when nothing was due, or a legal hold is in place.
    public let purged: Bool
    public let events: Int64
    public let firstSequence: Int64?
    public let throughSequence: Int64?
    public let retention: AuditRetentionView

    public init(_ purge: AuditPurge?, retention: AuditRetention) {
        purged = purge != nil; events = purge?.events ?? 0; firstSequence = purge?.firstSequence
        throughSequence = purge?.throughSequence; self.retention = AuditRetentionView(retention)
    }
}
