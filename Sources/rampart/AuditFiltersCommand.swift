import ArgumentParser
import RampartCore
import RampartServer
import RampartStorage

extension Audit {
    /// The audit log's saved filters, shared with the console's audit page and `/api/v1/audit-filters`.
    struct Filters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, save and delete the audit log's saved filters (named views the console links to).",
            subcommands: [List.self, Save.self, Delete.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the saved filters, by name.")
            @OptionGroup var tenant: TenantOptions

            func run() async throws {
                try await runReportingErrors {
                    let filters = try await tenant.read { try await $0.auditFilters() }
                    try tenant.output(["data": filters]) {
                        table(filters.map { filter in
                            [filter.id, filter.name, filter.view.parameters.map { "\($0.name)=\($0.value)" }.joined(separator: " ")]
                        }, empty: "No saved filters.")
                    }
                }
            }
        }

        struct Save: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Save a named view of the log: at least one of --search, --action, --actor, --target, --since, --until.")
            @OptionGroup var tenant: TenantOptions
            @Option(help: "Its name, unique in the organisation (at most \(AuditSavedFilter.maxNameLength) characters).")
            var name: String
            @Option(help: ArgumentHelp("Words to search for, as `audit events --search`.", valueName: "words")) var search: String?
            @Option(help: "Only this action, or a prefix ending in '.'.") var action: String?
            @Option(help: "Only events by this actor: a user's id or email, or an API token id.") var actor: String?
            @Option(help: "Only events about this target id.") var target: String?
            @Option(help: "Only events at or after this RFC 3339 time.") var since: Timestamp?
            @Option(help: "Only events before this RFC 3339 time.") var until: Timestamp?

            func run() async throws {
                try await runReportingErrors {
                    let (name, search, action, actor, target, since, until) = (name, search, action, actor, target, since, until)
                    let filter = try await tenant.write { tenant in
                        let actorID = try await tenant.auditActorID(actor)
                        let view = AuditSavedFilter.View(q: search, action: action, actor: actorID, target: target,
                                                         since: since, until: until)
                        return try await tenant.saveAuditFilter(name: name, view: view, by: .system)
                    }
                    try tenant.output(filter) { "Saved filter \(filter.name) (\(filter.id))." }
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a saved filter.")
            @OptionGroup var tenant: TenantOptions
            @Option(help: "The filter's id or name.") var filter: String

            struct Deleted: Encodable { let id: String; let name: String; let deleted = true }

            func run() async throws {
                try await runReportingErrors {
                    let wanted = filter
                    let deleted = try await tenant.write { tenant in
                        let all = try await tenant.auditFilters()
                        guard let found = all.first(where: { $0.id == wanted.lowercased() })
                            ?? all.first(where: { $0.name.lowercased() == wanted.lowercased() }) else {
                            throw RampartError(.notFound, "No saved filter '\(wanted)'; `rampart audit filters list` shows them.")
                        }
                        try await tenant.deleteAuditFilter(found.id, by: .system)
                        return Deleted(id: found.id, name: found.name)
                    }
                    try tenant.output(deleted) { "Deleted saved filter \(deleted.name) (\(deleted.id))." }
                }
            }
        }
    }
}
