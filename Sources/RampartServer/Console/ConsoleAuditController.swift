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
        group.post("audit/exports", use: prepareExport)
        group.get("audit/exports/:id", use: showExport)
        group.get("audit/exports/:id/download", use: downloadExport)
        group.get("audit/exports/{id}/delete", use: confirmExportDeletion)
        group.post("audit/exports/{id}/delete", use: deleteExport)
        group.post("audit/retention", use: updateRetention)
        group.post("audit/filters", use: saveFilter)
        group.get("audit/filters/{id}/delete", use: confirmFilterDeletion)
        group.post("audit/filters/{id}/delete", use: deleteFilter)
    }

    /// "Save this view": the form posts to a URL that carries the page's query, so the view
    /// saved is the one on screen and a refused name re-renders that same view with the message.
    @Sendable func saveFilter(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context, requiring: .readAuditLog)
        do {
            let view = AuditSavedFilter.View(q: try request.query("q"), action: try request.query("action"),
                                             actor: try request.query("actor"), target: try request.query("target"),
                                             since: try request.timestamp("since"), until: try request.timestamp("until"))
            let saved = try await write(request, context, .readAuditLog) {
                try await $0.saveAuditFilter(name: form["name"], view: view, by: $1)
            }
            return ConsoleRenderer.redirect(ConsoleNotice.filterSaved.after("/console/audit") + Self.queryString(saved.view))
        } catch let error as RampartError where isFormError(error) || error.code == .invalidParameter {
            return try await page(request, context, saveForm: form, saveError: error)
        }
    }

    @Sendable func confirmFilterDeletion(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let filter = try await read(context, .readAuditLog) { try await $0.requireAuditFilter(id) }
        return ConsoleConfirmation(
            question: "Delete the saved filter \(filter.name)?",
            consequence: "It goes from everyone's list on this page; the events it showed stay in the log.",
            action: "/console/audit/filters/\(filter.id)/delete", button: "Delete", cancel: "/console/audit"
        ).page(context, active: "audit")
    }

    @Sendable func deleteFilter(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context, requiring: .readAuditLog)
        try await write(request, context, .readAuditLog) { try await $0.deleteAuditFilter(id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.filterDeleted.after("/console/audit"))
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

    static func queryString(_ view: AuditSavedFilter.View) -> String {
        queryString(Dictionary(uniqueKeysWithValues: view.parameters.map { ($0.name, $0.value) }))
    }

    /// A "Prepare export" button: queues the job with the page's filters and search words and shows its page.
    @Sendable func prepareExport(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context, requiring: .readAuditLog)
        let (format, filter) = try AuditExport.validate(
            format: form["format"], action: form["action"], actor: form["actor"], target: form["target"],
            since: form["since"], until: form["until"], q: form["q"])
        let job = try await write(request, context, .readAuditLog) {
            try await $0.createAuditExport(format: format.rawValue, filter: filter, by: $1)
        }
        services.auditExportWatch.watch(try context.requirePrincipal().orgID)
        return ConsoleRenderer.redirect("/console/audit/exports/\(job.id)")
    }

    /// A job's page: it reloads itself every 2 seconds while the job runs (no script: the
    /// console's policy allows none), then offers the download.
    @Sendable func showExport(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let job = try await read(context, .readAuditLog) { try await $0.requireAuditExport(id) }
        var values = Self.exportValues(job)
        if !job.isFinished { values["refresh"] = 2 }
        return ConsoleRenderer.page("audit-export", ConsolePage.values(context, title: "Audit export", active: "audit",
                                                                       extra: values))
    }

    @Sendable func downloadExport(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let job = try await read(context, .readAuditLog) { try await $0.requireAuditExport(id) }
        return try AuditExportDownload.response(job, orgID: try context.requirePrincipal().orgID, database: services.database)
    }

    @Sendable func confirmExportDeletion(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let job = try await read(context, .readAuditLog) { try await $0.requireAuditExport(id) }
        return ConsoleConfirmation(
            question: "Delete the \(job.format) export requested \(ConsolePage.time(job.createdAt))?",
            consequence: (job.isFinished ? "Its file can no longer be downloaded" : "It stops, and its file is not kept")
                + "; the events it holds stay in the log. This cannot be undone.",
            action: "/console/audit/exports/\(job.id)/delete", button: "Delete", cancel: "/console/audit/exports/\(job.id)"
        ).page(context, active: "audit")
    }

    /// The same storage call, and so the same `audit.export_deleted` event, as `DELETE /audit-exports/{id}`.
    @Sendable func deleteExport(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context, requiring: .readAuditLog)
        _ = try await write(request, context, .readAuditLog) { try await $0.deleteAuditExport(id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.exportDeleted.after("/console/audit"))
    }

    static func exportValues(_ job: AuditExportJob) -> [String: Any] {
        let filters = job.filter.summary
        return ["id": job.id, "format": job.format, "status": job.status.rawValue, "filters": filters.joined(separator: ", "),
                "filtered": !filters.isEmpty, "search": job.filter.search?.text ?? "", "searched": job.filter.search != nil,
                "eventsRead": job.eventsRead, "eventsTotal": job.eventsTotal,
                "eventsWritten": job.eventsWritten, "percent": job.percent, "byteCount": job.byteCount,
                "createdAt": ConsolePage.time(job.createdAt), "finishedAt": ConsolePage.time(job.finishedAt),
                "expiresAt": ConsolePage.time(job.expiresAt), "running": !job.isFinished, "done": job.status == .done,
                "failed": job.status == .failed, "error": job.error ?? ""]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await page(request, context)
    }

    private func page(_ request: Request, _ context: RampartRequestContext, retentionForm: ConsoleForm? = nil,
                      retentionError: RampartError? = nil, saveForm: ConsoleForm? = nil,
                      saveError: RampartError? = nil) async throws -> Response {
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
        let (found, checkpoint, retention, saved, exports) = try await read(context, .readAuditLog) { [query, search] tenant in
            (try await tenant.auditEvents(query, search: search), try await tenant.latestAuditCheckpoint(),
             try await tenant.auditRetention(), try await tenant.auditFilters(), try await tenant.auditExports(limit: 10))
        }
        let page = found.page
        // An event is proven in the tree a checkpoint signs: the newer ones wait for the next.
        let provableThrough = checkpoint?.treeRoot == nil ? 0 : checkpoint?.sequence ?? 0
        let filterQuery = Self.queryString(filters)
        let next = page.nextCursor.map { "/console/audit?cursor=\($0)" + filterQuery } ?? ""
        var values: [String: Any] = [
            "events": page.items.map { event in
                var values = ConsolePage.event(event)
                values["provable"] = event.sequence <= provableThrough
                return values
            },
            "hasEvents": !page.items.isEmpty, "next": next,
            "hasNext": !next.isEmpty, "filters": filters, "error": error ?? "", "hasError": error != nil,
            "filterQuery": filterQuery, "filtered": !filterQuery.isEmpty, "fastFilters": AuditFastFilter.links(filters),
            "viewQuery": String(filterQuery.dropFirst()),
            "savedFilters": saved.map { filter in
                ["id": filter.id, "name": filter.name, "href": "/console/audit?" + Self.queryString(filter.view).dropFirst()]
            },
            "hasSavedFilters": !saved.isEmpty,
            "save": ["name": saveForm?["name"] ?? "", "error": saveError?.message ?? "", "hasError": saveError != nil] as [String: Any],
            "formats": [("csv", "CSV"), ("jsonl", "JSON lines"), ("ocsf", "OCSF"), ("cef", "CEF"), ("leef", "LEEF")]
                .map { ["format": $0.0, "label": $0.1] },
            "exports": exports.map(Self.exportValues), "hasExports": !exports.isEmpty,
            "searching": !(filters["q"] ?? "").isEmpty,
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
                                    "headHash": checkpoint.headHash, "treeRoot": checkpoint.treeRoot ?? "",
                                    "hasTreeRoot": checkpoint.treeRoot != nil] as [String: Any]
        }
        return ConsoleRenderer.page("audit", ConsolePage.values(context, title: "Audit log", active: "audit", extra: values),
                                    status: error == nil && retentionError == nil && saveError == nil ? .ok
                                        : saveError?.code == .conflict ? .conflict : .badRequest)
    }
}
