import HTTPTypes
import Hummingbird
import RampartCore
import RampartStorage
import RampartStreams

struct AuditEventsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [APIRoute(.get, "/audit-events", list), APIRoute(.get, "/audit-events/export", export),
         APIRoute(.get, "/audit-checkpoints", checkpoints), APIRoute(.get, "/audit-proofs/inclusion", inclusionProof),
         APIRoute(.get, "/audit-proofs/consistency", consistencyProof)]
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
        let (query, search) = (try Self.query(from: request), try Self.search(from: request))
        let found = try await read(context, .readAuditLog) { try await $0.auditEvents(query, search: search) }
        guard let progress = found.progress else {
            return try JSON.response(PageBody(Page(items: found.page.items.map(AuditEventView.init), nextCursor: found.page.nextCursor)))
        }
        return try JSON.response(AuditSearchPageBody((found.page, progress)))
    }

    /// `q`, the words to search for; nil when there are none.
    static func search(from request: Request) throws -> AuditSearch? {
        guard let text = try request.query("q", maxLength: AuditSearchText.maxLength) else { return nil }
        return try AuditSearchText(text).map { AuditSearch(text: $0) }
    }

    /// The signed checkpoints of the log, newest first: each can be checked on its own.
    @Sendable func checkpoints(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let limit = try request.limit()
        return try JSON.response(ListBody(data: try await read(context, .readAuditLog) { try await $0.auditCheckpoints(limit: limit) }))
    }

    /// That event `seq` is in the tree a signed checkpoint's root covers (`AuditInclusionProof`):
    /// `treeSize`, the checkpoint's sequence, defaults to the newest that signs a tree root.
    @Sendable func inclusionProof(_ request: Request, context: RampartRequestContext) async throws -> Response {
        // Read now, refused only once the caller may read the log: a 403 comes before a 400.
        let parameters = Result { () throws -> (sequence: Int64, treeSize: Int64?) in
            guard let sequence = try Self.positiveInteger(request, "seq") else {
                throw RampartError(.invalidParameter, "Query parameter 'seq' is required: the sequence number of the event to prove.")
            }
            return (sequence, try Self.positiveInteger(request, "treeSize"))
        }
        return try JSON.response(try await read(context, .readAuditLog) {
            let (sequence, treeSize) = try parameters.get()
            return try await $0.auditInclusionProof(sequence: sequence, treeSize: treeSize)
        })
    }

    /// That the tree of the first `first` events (a checkpoint's, held elsewhere) is the start of
    /// the tree of the checkpoint at `second` (`AuditConsistencyProof`); `second` defaults to
    /// the newest that signs a tree root.
    @Sendable func consistencyProof(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let parameters = Result { () throws -> (first: Int64, second: Int64?) in
            guard let first = try Self.positiveInteger(request, "first") else {
                throw RampartError(.invalidParameter, """
                    Query parameter 'first' is required: the size of the tree already held (its checkpoint's sequence).
                    """)
            }
            return (first, try Self.positiveInteger(request, "second"))
        }
        return try JSON.response(try await read(context, .readAuditLog) {
            let (first, second) = try parameters.get()
            return try await $0.auditConsistencyProof(first: first, second: second)
        })
    }

    static func positiveInteger(_ request: Request, _ name: String) throws -> Int64? {
        guard let raw = try request.query(name, maxLength: 19) else { return nil }
        guard let value = Int64(raw), value > 0 else {
            throw RampartError(.invalidParameter, "Query parameter '\(name)' must be a whole number from 1 on.")
        }
        return value
    }

    /// The log, or the events the filters and search words keep, as one streamed download (`AuditExport`).
    @Sendable func export(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let export = try AuditExport(format: try Self.exportFormat(request), filter: try Self.exportFilter(request),
                                     orgID: try context.requireCredential().orgID)
        let scope = try await read(context, .readAuditLog) { try await $0.auditExportScope(withCheckpoints: export.format == .bundle) }
        return AuditDownload.response(export, scope: scope, database: services.database)
    }

    static func exportFormat(_ request: Request) throws -> AuditExport.Format {
        guard let raw = try request.query("format", maxLength: 10) else { return .jsonl }
        guard let format = AuditExport.Format(rawValue: raw) else {
            throw RampartError(.invalidParameter, "Query parameter 'format' must be one of jsonl, ocsf, cef, leef, csv, bundle.")
        }
        return format
    }

    /// The list's filters and search words (`q`, checked as the list checks it).
    static func exportFilter(_ request: Request) throws -> AuditExport.Filter {
        AuditExport.Filter(action: try request.query("action"), actor: try request.query("actor"),
                           target: try request.query("target"), since: try request.timestamp("since"),
                           until: try request.timestamp("until"), search: try search(from: request)?.text)
    }
}

/// A page of a search: `{"data", "nextCursor", "search": {"examined", "searchedBackTo", "complete"}}`,
/// for the API and the CLI's `--json`.
public struct AuditSearchPageBody: Encodable, Sendable {
    let data: [AuditEventView]
    let nextCursor: String?
    let search: AuditSearch.Progress

    public init(_ found: (page: Page<AuditEvent>, progress: AuditSearch.Progress)) {
        data = found.page.items.map(AuditEventView.init)
        nextCursor = found.page.nextCursor
        search = found.progress
    }
}

/// An export as an HTTP download, for the API and the console: the head and checkpoints are
/// read with the caller's permission checked, then the events stream in pages, each its own
/// read transaction, so a slow reader holds no transaction open.
enum AuditDownload {
    static let exportHead = HTTPField.Name("Rampart-Export-Head")!
    static let contentDisposition = HTTPField.Name("Content-Disposition")!

    static func response(_ export: AuditExport, scope: AuditExportScope, database: Database) -> Response {
        let head = scope.head
        var headers = HTTPFields()
        headers[.contentType] = export.format.contentType
        headers[contentDisposition] = "attachment; filename=\"audit-\(export.orgID)-\(head).\(export.format.fileExtension)\""
        headers[exportHead] = String(head)
        headers[.cacheControl] = "no-store"
        let orgID = export.orgID
        let form: AuditEventForm = export.carriesStoredEvents ? .stored : .readable
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            _ = try await export.run(from: scope.start, head: head, checkpoints: scope.checkpoints, page: { after in
                try await database.read(org: orgID) {
                    try await $0.auditEvents(after: after, limit: AuditExport.pageSize, as: form)
                }
            }, write: { bytes in
                if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
            })
            try await writer.finish(nil)
        })
    }
}
