import Hummingbird
import RampartCore
import RampartStorage

/// The audit log's saved filters (`/audit-filters`): named views shared by everyone who reads
/// the log. Saving, changing or deleting one changes what people see, not what happened, so
/// reading the log is permission enough; every change is audited.
struct AuditFiltersController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/audit-filters", list),
            APIRoute(.post, "/audit-filters", create),
            APIRoute(.patch, "/audit-filters/{id}", update),
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

    /// A field left out is kept; `null` (or an empty string) clears a filter.
    struct UpdateRequest: StrictBody {
        let change: AuditSavedFilter.Change
        static let fields = CreateRequest.fields
        static let nullableFields = CreateRequest.nullableFields

        enum CodingKeys: String, CodingKey { case name, q, action, actor, target, since, until }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func given<T: Decodable>(_ key: CodingKeys, _ type: T.Type) throws -> T?? {
                c.contains(key) ? .some(try c.decodeIfPresent(type, forKey: key)) : .none
            }
            change = AuditSavedFilter.Change(
                name: try c.decodeIfPresent(String.self, forKey: .name), q: try given(.q, String.self),
                action: try given(.action, String.self), actor: try given(.actor, String.self),
                target: try given(.target, String.self), since: try given(.since, Timestamp.self),
                until: try given(.until, Timestamp.self))
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

    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(UpdateRequest.self, from: request)
        return try JSON.response(try await write(request, context, .readAuditLog) {
            try await $0.updateAuditFilter(id, body.change, by: $1)
        })
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        try await write(request, context, .readAuditLog) { try await $0.deleteAuditFilter(id, by: $1) }
        return JSON.noContent()
    }
}
