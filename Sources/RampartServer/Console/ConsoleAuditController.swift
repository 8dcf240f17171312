import Hummingbird
import RampartCore
import RampartStorage

/// The audit log page: the same filters as the API, newest first, paginated by sequence.
struct ConsoleAuditController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("audit", use: list)
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
        var next = ""
        if let cursor = page.nextCursor {
            var components = ["cursor=\(cursor)"]
            for (name, value) in filters.sorted(by: { $0.key < $1.key }) where !value.isEmpty {
                components.append("\(name)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
            }
            next = "/console/audit?" + components.joined(separator: "&")
        }
        var values: [String: Any] = [
            "events": page.items.map(ConsolePage.event), "hasEvents": !page.items.isEmpty, "next": next,
            "hasNext": !next.isEmpty, "filters": filters, "error": error ?? "", "hasError": error != nil,
        ]
        if let checkpoint {
            values["checkpoint"] = ["sequence": checkpoint.sequence, "signedAt": checkpoint.signedAt.rfc3339,
                                    "headHash": checkpoint.headHash]
        }
        return ConsoleRenderer.page("audit", ConsolePage.values(context, title: "Audit log", active: "audit", extra: values),
                                    status: error == nil ? .ok : .badRequest)
    }
}
