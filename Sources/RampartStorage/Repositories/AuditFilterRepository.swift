import RampartCore
import SQLKit

/// Saved filters of the audit log (`AuditSavedFilter`), each change audited in its transaction.
extension Tenant {
    public func auditFilters() async throws -> [AuditSavedFilter] {
        try await sql.raw("SELECT * FROM audit_filters WHERE org_id = \(bind: orgID) ORDER BY name_key, id")
            .all().map(Self.decodeAuditFilter)
    }

    public func auditFilter(_ id: String) async throws -> AuditSavedFilter? {
        guard let id = Identifier.canonical(id) else { return nil }
        return try await sql.raw("SELECT * FROM audit_filters WHERE org_id = \(bind: orgID) AND id = \(bind: id)")
            .first().map(Self.decodeAuditFilter)
    }

    public func requireAuditFilter(_ id: String) async throws -> AuditSavedFilter {
        guard let filter = try await auditFilter(id) else { throw RampartError.notFound("Saved filter") }
        return filter
    }

    /// The event names the filters set, not their values: search words may name a person, and
    /// the log keeps them for good while the saved filter can be deleted.
    public func saveAuditFilter(name rawName: String, view rawView: AuditSavedFilter.View, by context: AuditContext)
        async throws -> AuditSavedFilter
    {
        let name = try Validate.name(rawName, field: "name", max: AuditSavedFilter.maxNameLength)
        let view = try rawView.validated()
        try await ensureAuditFilterNameFree(name)
        let count = try await sql.raw("SELECT COUNT(*) AS n FROM audit_filters WHERE org_id = \(bind: orgID)").first()!.int("n")
        guard count < AuditSavedFilter.maxPerOrganization else {
            throw RampartError(.conflict, """
                The organisation already keeps \(AuditSavedFilter.maxPerOrganization) saved filters: delete one it no longer needs first.
                """)
        }
        let filter = AuditSavedFilter(id: Identifier.make(), name: name, view: view, createdAt: clock())
        try await sql.raw("""
            INSERT INTO audit_filters (org_id, id, name, name_key, q, action, actor, target, since, until, created_at)
            VALUES (\(bind: orgID), \(bind: filter.id), \(bind: name), \(bind: name.lowercased()), \(bind: view.q),
                    \(bind: view.action), \(bind: view.actor), \(bind: view.target), \(bind: view.since?.microseconds),
                    \(bind: view.until?.microseconds), \(bind: filter.createdAt.microseconds))
            """).run()
        try await appendAudit([context.record(.auditFilterCreated, [.auditFilter(filter)],
                                              details: AuditDetails(["fields": .array(view.parameters.map { .string($0.name) })]))])
        return filter
    }

    /// Renames a filter or changes its view, checked as `saveAuditFilter` checks a new one;
    /// a change that changes nothing writes nothing. The event names the fields changed.
    public func updateAuditFilter(_ id: String, _ change: AuditSavedFilter.Change, by context: AuditContext)
        async throws -> AuditSavedFilter
    {
        var filter = try await requireAuditFilter(id)
        var changed: [String] = []
        if let rawName = change.name {
            let name = try Validate.name(rawName, field: "name", max: AuditSavedFilter.maxNameLength)
            if name.lowercased() != filter.name.lowercased() { try await ensureAuditFilterNameFree(name) }
            if name != filter.name { changed.append("name") }
            filter.name = name
        }
        let view = try change.applied(to: filter.view).validated()
        changed += filter.view.fieldsChanged(in: view)
        guard !changed.isEmpty else { return filter }
        filter.view = view
        try await sql.raw("""
            UPDATE audit_filters SET name = \(bind: filter.name), name_key = \(bind: filter.name.lowercased()), q = \(bind: view.q),
                action = \(bind: view.action), actor = \(bind: view.actor), target = \(bind: view.target),
                since = \(bind: view.since?.microseconds), until = \(bind: view.until?.microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: filter.id)
            """).run()
        try await appendAudit([context.record(.auditFilterUpdated, [.auditFilter(filter)],
                                              details: AuditDetails(["changed": .array(changed.map { .string($0) })]))])
        return filter
    }

    /// Names are unique per organisation in any case (409 otherwise).
    private func ensureAuditFilterNameFree(_ name: String) async throws {
        if try await sql.raw("""
            SELECT id FROM audit_filters WHERE org_id = \(bind: orgID) AND name_key = \(bind: name.lowercased())
            """).first() != nil {
            throw RampartError(.conflict, "A saved filter named '\(name)' already exists: choose another name or delete it first.",
                               field: "name")
        }
    }

    public func deleteAuditFilter(_ id: String, by context: AuditContext) async throws {
        let filter = try await requireAuditFilter(id)
        try await sql.raw("DELETE FROM audit_filters WHERE org_id = \(bind: orgID) AND id = \(bind: filter.id)").run()
        try await appendAudit([context.record(.auditFilterDeleted, [.auditFilter(filter)])])
    }

    static func decodeAuditFilter(_ row: any SQLRow) throws -> AuditSavedFilter {
        AuditSavedFilter(
            id: try row.string("id"), name: try row.string("name"),
            view: AuditSavedFilter.View(q: try row.optionalString("q"), action: try row.optionalString("action"),
                                        actor: try row.optionalString("actor"), target: try row.optionalString("target"),
                                        since: try row.optionalTimestamp("since"), until: try row.optionalTimestamp("until")),
            createdAt: try row.timestamp("created_at"))
    }
}
