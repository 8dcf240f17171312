import Hummingbird
import RampartCore
import RampartStorage
import RampartStreams

/// The audit log page: the same filters as the API, newest first, paginated by sequence.
struct ConsoleAuditController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("audit", use: list)
        group.get("audit/export", use: export)
    }

    /// The download links' target: the API's export, with the console's session.
    @Sendable func export(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let export = try AuditExport(format: try AuditEventsController.exportFormat(request),
                                     filter: try AuditEventsController.exportFilter(request),
                                     orgID: try context.requirePrincipal().orgID)
        let (head, checkpoints) = try await read(context, .readAuditLog) { try await AuditDownload.start(export, $0) }
        return AuditDownload.response(export, head: head, checkpoints: checkpoints, database: services.database)
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        var filters: [String: String] = [:]
        for name in ["action", "actor", "target", "since", "until"] {
            filters[name] = request.queryValue(name).map { String($0.prefix(200)) } ?? ""
        }
        let query: AuditQuery
        var error: String?
        do {
            query = try AuditEventsController.query(from: request)
        } catch let invalid as RampartError {
            error = invalid.message
            query = AuditQuery()
        }
        let (page, checkpoint) = try await read(context, .readAuditLog) {
            (try await $0.auditEvents(query), try await $0.latestAuditCheckpoint())
        }
        let filterQuery = filters.sorted(by: { $0.key < $1.key }).filter { !$0.value.isEmpty }
            .map { "&\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined()
        let next = page.nextCursor.map { "/console/audit?cursor=\($0)" + filterQuery } ?? ""
        var values: [String: Any] = [
            "events": page.items.map(ConsolePage.event), "hasEvents": !page.items.isEmpty, "next": next,
            "hasNext": !next.isEmpty, "filters": filters, "error": error ?? "", "hasError": error != nil,
            "filterQuery": filterQuery, "filtered": !filterQuery.isEmpty,
        ]
        if let checkpoint {
            values["checkpoint"] = ["sequence": checkpoint.sequence, "signedAt": checkpoint.signedAt.rfc3339,
                                    "headHash": checkpoint.headHash]
        }
        return ConsoleRenderer.page("audit", ConsolePage.values(context, title: "Audit log", active: "audit", extra: values),
                                    status: error == nil ? .ok : .badRequest)
    }
}
