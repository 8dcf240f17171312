import Foundation
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
        group.post("audit/retention", use: updateRetention)
    }

    /// The retention form: days kept, and the legal hold with its reason.
    @Sendable func updateRetention(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context, requiring: .manageAuditRetention)
        do {
            guard let days = Int(form["retentionDays"].trimmingCharacters(in: .whitespaces)) else {
                throw RampartError.invalidField("retentionDays", "must be a whole number of days")
            }
            let hold = form["legalHold"] == "on"
            let reason = form["legalHoldReason"]
            _ = try await write(request, context, .manageAuditRetention) {
                try await $0.updateAuditRetention(days: days, legalHold: hold, legalHoldReason: hold ? reason : nil, by: $1)
            }
            return ConsoleRenderer.redirect(ConsoleNotice.retentionSaved.after("/console/audit"))
        } catch let error as RampartError where isFormError(error) {
            return try await page(request, context, retentionForm: form, retentionError: error)
        }
    }

    /// The download links' target: the API's export, with the console's session.
    @Sendable func export(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let export = try AuditExport(format: try AuditEventsController.exportFormat(request),
                                     filter: try AuditEventsController.exportFilter(request),
                                     orgID: try context.requirePrincipal().orgID)
        let scope = try await read(context, .readAuditLog) { try await $0.auditExportScope(withCheckpoints: export.format == .bundle) }
        return AuditDownload.response(export, scope: scope, database: services.database)
    }

    /// The page's filters, in the order of its form; also what a saved view keeps.
    static let filterNames = ["q", "action", "actor", "target", "since", "until"]

    /// `&name=value` for each filter that is set, sorted by name, for links that keep the view.
    static func queryString(_ filters: [String: String]) -> String {
        filters.sorted(by: { $0.key < $1.key }).filter { !$0.value.isEmpty }
            .map { "&\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined()
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await page(request, context)
    }

    private func page(_ request: Request, _ context: RampartRequestContext, retentionForm: ConsoleForm? = nil,
                      retentionError: RampartError? = nil) async throws -> Response {
        var filters: [String: String] = [:]
        for name in Self.filterNames {
            filters[name] = request.queryValue(name).map { String($0.prefix(200)) } ?? ""
        }
        var query = AuditQuery()
        var search: AuditSearch?
        var error: String?
        do {
            query = try AuditEventsController.query(from: request)
            search = try AuditEventsController.search(from: request)
        } catch let invalid as RampartError {
            error = invalid.message
        }
        let (found, checkpoint, retention) = try await read(context, .readAuditLog) { [query, search] tenant in
            let found = if let search { try await tenant.searchAuditEvents(query, search) } else {
                (page: try await tenant.auditEvents(query), progress: nil as AuditSearch.Progress?)
            }
            return (found, try await tenant.latestAuditCheckpoint(), try await tenant.auditRetention())
        }
        let page = found.page
        let filterQuery = Self.queryString(filters)
        let next = page.nextCursor.map { "/console/audit?cursor=\($0)" + filterQuery } ?? ""
        var values: [String: Any] = [
            "events": page.items.map(ConsolePage.event), "hasEvents": !page.items.isEmpty, "next": next,
            "hasNext": !next.isEmpty, "filters": filters, "error": error ?? "", "hasError": error != nil,
            "filterQuery": filterQuery, "filtered": !filterQuery.isEmpty, "fastFilters": AuditFastFilter.links(filters),
        ]
        // The bound stopped the scan before the page filled: say how far back it looked.
        if let progress = found.progress, !progress.complete, page.items.count < query.limit {
            values["searchedBack"] = ["time": ConsolePage.time(progress.searchedBackTo), "examined": progress.examined]
        }
        values["retention"] = [
            "retentionDays": retentionForm?["retentionDays"] ?? String(retention.retentionDays),
            "legalHold": retentionForm.map { $0["legalHold"] == "on" } ?? retention.legalHold,
            "legalHoldReason": retentionForm?["legalHoldReason"] ?? retention.legalHoldReason ?? "",
            "legalHoldSince": ConsolePage.time(retention.legalHoldSince), "held": retention.legalHold,
            "purgedThrough": retention.purgedThrough.sequence, "hasPurged": retention.purgedThrough.sequence > 0,
            "lastPurgeAt": ConsolePage.time(retention.lastPurgeAt),
            "error": retentionError?.message ?? "", "hasError": retentionError != nil,
        ] as [String: Any]
        values.merge(ConsoleNotice.values(request)) { $1 }
        if let checkpoint {
            values["checkpoint"] = ["sequence": checkpoint.sequence, "signedAt": checkpoint.signedAt.rfc3339,
                                    "headHash": checkpoint.headHash]
        }
        return ConsoleRenderer.page("audit", ConsolePage.values(context, title: "Audit log", active: "audit", extra: values),
                                    status: error == nil && retentionError == nil ? .ok : .badRequest)
    }
}
