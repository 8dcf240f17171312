import HTTPTypes
import Hummingbird
import RampartCore
import RampartStorage
import RampartStreams

/// `/audit-exports`: exports of the audit log that run on the server and can be followed
/// (`AuditExportJob`), then downloaded from any node for 24 hours. The streaming
/// `GET /audit-events/export` stays for clients that read as it is written.
struct AuditExportsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [APIRoute(.post, "/audit-exports", create), APIRoute(.get, "/audit-exports", list),
         APIRoute(.get, "/audit-exports/{id}", show), APIRoute(.delete, "/audit-exports/{id}", delete),
         APIRoute(.get, "/audit-exports/{id}/download", download)]
    }

    struct CreateRequest: StrictBody {
        let format: String
        let action: String?
        let actor: String?
        let target: String?
        let since: String?
        let until: String?
        let q: String?
        static let fields: Set<String> = ["format", "action", "actor", "target", "since", "until", "q"]
        static let required: Set<String> = ["format"]
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let (format, filter) = try AuditExport.validate(format: body.format, action: body.action, actor: body.actor, target: body.target,
                                                 since: body.since, until: body.until, q: body.q)
        let job = try await write(request, context, .readAuditLog) {
            try await $0.createAuditExport(format: format.rawValue, filter: filter, by: $1)
        }
        services.auditExportWatch.watch(try context.requireCredential().orgID)
        return try JSON.response(AuditExportView(job), status: .accepted)
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let limit = try request.limit()
        return try JSON.response(ListBody(data: try await read(context, .readAuditLog) {
            try await $0.auditExports(limit: limit)
        }.map(AuditExportView.init)))
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(AuditExportView(try await read(context, .readAuditLog) { try await $0.requireAuditExport(id) }))
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await write(request, context, .readAuditLog) { try await $0.deleteAuditExport(id, by: $1) }
        return JSON.noContent()
    }

    @Sendable func download(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let job = try await read(context, .readAuditLog) { try await $0.requireAuditExport(id) }
        return try AuditExportDownload.response(job, orgID: try context.requireCredential().orgID, database: services.database)
    }
}

/// A finished job's output as an HTTP download, for the API and the console: its chunks are
/// read in order, each in its own read transaction, so a slow reader holds none open. The
/// file's name and type are those of the streaming export of the same range.
enum AuditExportDownload {
    static func response(_ job: AuditExportJob, orgID: String, database: Database) throws -> Response {
        guard job.status == .done, let format = AuditExport.Format(rawValue: job.format) else {
            throw RampartError(.conflict, job.status == .failed
                ? "The export failed (\(job.error ?? "no reason kept")); request it again."
                : "The export is not finished yet (\(job.percent) %); download it once its status is done.")
        }
        var headers = HTTPFields()
        headers[.contentType] = format.contentType
        headers[AuditDownload.contentDisposition] =
            "attachment; filename=\"audit-\(orgID)-\(job.headSequence).\(format.fileExtension)\""
        headers[AuditDownload.exportHead] = String(job.headSequence)
        headers[.cacheControl] = "no-store"
        let (id, chunks) = (job.id, job.chunks)
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: Int(job.byteCount)) { writer in
            for index in 0..<chunks {
                let bytes = try await database.read(org: orgID) { try await $0.auditExportChunk(id, index: index) }
                try await writer.write(ByteBuffer(bytes: bytes))
            }
            try await writer.finish(nil)
        })
    }
}

/// A job as the API shows it. `eventsRead` of `eventsTotal` is how far through the log's range
/// the run is (with search words, every one of them is examined); `eventsWritten` how many of
/// those the filters and words kept (all, without filters).
public struct AuditExportView: Encodable, Sendable {
    let id: String
    let format: String
    let filter: AuditExportFilter
    let status: String
    let eventsRead: Int64
    let eventsWritten: Int64
    let eventsTotal: Int64
    let percent: Int64
    let byteCount: Int64
    let headSequence: Int64
    let attempts: Int64
    let error: String?
    let createdAt: Timestamp
    let startedAt: Timestamp?
    let finishedAt: Timestamp?
    let expiresAt: Timestamp

    public init(_ job: AuditExportJob) {
        id = job.id; format = job.format; filter = job.filter
        status = job.status.rawValue; eventsRead = job.eventsRead; eventsWritten = job.eventsWritten
        eventsTotal = job.eventsTotal; percent = job.percent; byteCount = job.byteCount; headSequence = job.headSequence
        attempts = job.attempts; error = job.error; createdAt = job.createdAt; startedAt = job.startedAt
        finishedAt = job.finishedAt; expiresAt = job.expiresAt
    }
}
