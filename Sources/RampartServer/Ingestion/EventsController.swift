import Hummingbird
import NIOCore
import RampartCore
import RampartStorage

/// `POST /api/v1/events`: a product appends a batch of its events to the organisation's audit
/// log, all of them or none, in one transaction. The batch is read, checked and sealed before
/// that transaction starts, so a writer holds the log only for the append itself.
struct EventsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [APIRoute(.post, "/events", takesAdminToken: false, ingest)]
    }

    /// Written by `JSONObjectWriter`: through `Encodable`'s containers, the answer's thousand
    /// entries took 2 % of ingestion's CPU.
    struct Answer: JSONObjectWritable, Sendable {
        struct Event: JSONObjectWritable, Sendable {
            let idempotencyKey: String
            let sequence: Int64
            let duplicate: Bool

            func writeFields(to object: inout JSONObjectWriter) {
                object.field("duplicate", duplicate)
                object.field("idempotencyKey", idempotencyKey)
                object.field("sequence", sequence)
            }
        }

        let accepted: Int
        let duplicates: Int
        let events: [Event]

        func writeFields(to object: inout JSONObjectWriter) {
            object.field("accepted", accepted)
            object.field("duplicates", duplicates)
            object.field("events", objects: events)
        }
    }

    @Sendable func ingest(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let credential = try EventCredential(request)
        let source = try await credential.prepare(services)
        let buffer = try await Body.collectJSON(request, limit: ProductEvent.maxBodyBytes)
        let now = Timestamp.now()
        let events = try buffer.withUnsafeReadableBytes { raw throws(RampartError) in
            try ProductEvent.batch(text: raw.bindMemory(to: UInt8.self), now: now)
        }
        let requestID = context.requestID
        // Sealing the events' personal data is most of the work: it is done in a read
        // transaction, so that concurrent batches seal while another is appended.
        let prepared = try await services.database.read(org: source.orgID) { tenant in
            try await tenant.prepareIngestion(events, from: try await source.resolve(in: tenant), requestID: requestID)
        }
        let ingested = try await services.database.write(org: source.orgID) { tenant in
            // The credential is checked again where the batch is appended: revoked a moment ago, it is refused.
            let current = try await source.resolve(in: tenant, noting: services.tokenUsage, at: now)
            let batch = current == prepared.source
                ? prepared : try await tenant.prepareIngestion(events, from: current, requestID: requestID)
            return try await tenant.ingest(batch)
        }
        let duplicates = ingested.reduce(0) { $0 + ($1.duplicate ? 1 : 0) }
        return try JSON.response(Answer(
            accepted: ingested.count - duplicates, duplicates: duplicates,
            events: ingested.map { Answer.Event(idempotencyKey: $0.idempotencyKey, sequence: $0.sequence, duplicate: $0.duplicate) }))
    }
}
