extension Migration {
    /// The search words of an audit export job (`AuditExportFilter.search`), as the list's `q`
    /// takes them: lowercased words joined by spaces. Jobs from before have none. Words that
    /// people typed to find events, as a saved filter keeps them, not personal data from events.
    static let auditExportSearch = Migration(version: 21, name: "audit_export_search", tenantTables: []) { _ in
        ["ALTER TABLE audit_exports ADD COLUMN filter_q TEXT"]
    }
}
