import Hummingbird
import RampartCore
import RampartStorage

/// The audit log's saved filters (`/audit-filters`): named views shared by everyone who reads
/// the log. Saving or deleting one changes what people see, not what happened, so reading the
/// log is permission enough; every change is audited.
struct AuditFiltersController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/audit-filters", list),
            APIRoute(.post, "/audit-filters", create),
            APIRoute(.delete, "/audit-filters/{id}", delete),
        ]
    }

    struct CreateRequest: StrictBody {
        let name: String
        let q: String?
        let action: String?
        let actor: String?
        let target: String?
        let since: Timestamp?
        let until: Timestamp?
        static let fields: Set<String> = ["name", "q", "action", "actor", "target", "since", "until"]
        static let required: Set<String> = ["name"]
        static let nullableFields: Set<String> = ["q", "action", "actor", "target", "since", "until"]

        var view: AuditSavedFilter.View {
            AuditSavedFilter.View(q: q, action: action, actor: actor, target: target, since: since, until: until)
        }
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try JSON.response(ListBody(data: try await read(context, .readAuditLog) { try await $0.auditFilters() }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let filter = try await write(request, context, .readAuditLog) {
            try await $0.saveAuditFilter(name: body.name, view: body.view, by: $1)
        }
        return try JSON.response(filter, status: .created)
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        try await write(request, context, .readAuditLog) { try await $0.deleteAuditFilter(id, by: $1) }
        return JSON.noContent()
    }
}
