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

    /// A "Prepare export" button: queues the job with the page's filters and shows its page.
    @Sendable func prepareExport(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context, requiring: .readAuditLog)
        let (format, filter) = try AuditExport.validate(
            format: form["format"], action: form["action"], actor: form["actor"], target: form["target"],
            since: form["since"], until: form["until"])
        let job = try await write(request, context, .readAuditLog) {
            try await $0.createAuditExport(format: format.rawValue, filter: filter, by: $1)
        }
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

    static func exportValues(_ job: AuditExportJob) -> [String: Any] {
        let f = job.filter
        let filters = [("action", f.action), ("actor", f.actor), ("target", f.target), ("since", f.since?.rfc3339),
                       ("until", f.until?.rfc3339)].compactMap { name, value in value.map { "\(name) \($0)" } }
        return ["id": job.id, "format": job.format, "status": job.status.rawValue, "filters": filters.joined(separator: ", "),
                "filtered": !filters.isEmpty, "eventsRead": job.eventsRead, "eventsTotal": job.eventsTotal,
                "eventsWritten": job.eventsWritten, "percent": job.percent, "byteCount": job.byteCount,
                "createdAt": ConsolePage.time(job.createdAt), "finishedAt": ConsolePage.time(job.finishedAt),
                "expiresAt": ConsolePage.time(job.expiresAt), "running": !job.isFinished, "done": job.status == .done,
                "failed": job.status == .failed, "error": job.error ?? ""]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await page(request, context)
    }

    private func page(_ request: Request, _ context: RampartRequestContext, retentionForm: ConsoleForm? = nil,
                      retentionError: RampartError? = nil) async throws -> Response {
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
        let (page, checkpoint, retention, exports) = try await read(context, .readAuditLog) {
            (try await $0.auditEvents(query), try await $0.latestAuditCheckpoint(), try await $0.auditRetention(),
             try await $0.auditExports(limit: 10))
        }
        let filterQuery = filters.sorted(by: { $0.key < $1.key }).filter { !$0.value.isEmpty }
            .map { "&\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined()
        let next = page.nextCursor.map { "/console/audit?cursor=\($0)" + filterQuery } ?? ""
        var values: [String: Any] = [
            "events": page.items.map(ConsolePage.event), "hasEvents": !page.items.isEmpty, "next": next,
            "hasNext": !next.isEmpty, "filters": filters, "error": error ?? "", "hasError": error != nil,
            "filterQuery": filterQuery, "filtered": !filterQuery.isEmpty,
            "formats": [("csv", "CSV"), ("jsonl", "JSON lines"), ("ocsf", "OCSF"), ("cef", "CEF"), ("leef", "LEEF")]
                .map { ["format": $0.0, "label": $0.1] },
            "exports": exports.map(Self.exportValues), "hasExports": !exports.isEmpty,
        ]
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
