import ArgumentParser
import RampartCore
import RampartServer
import RampartStorage

extension Audit {
    /// The audit log's saved filters, shared with the console's audit page and `/api/v1/audit-filters`.
    struct Filters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, save, change and delete the audit log's saved filters (named views the console links to).",
            subcommands: [List.self, Save.self, Update.self, Delete.self])

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

        /// The filters of a view, as `save` and `update` take them.
        struct ViewOptions: ParsableArguments {
            @Option(help: ArgumentHelp("Words to search for, as `audit events --search`.", valueName: "words")) var search: String?
            @Option(help: "Only this action, or a prefix ending in '.'.") var action: String?
            @Option(help: "Only events by this actor: a user's id or email, or an API token id.") var actor: String?
            @Option(help: "Only events about this target id.") var target: String?
            @Option(help: "Only events at or after this RFC 3339 time.") var since: Timestamp?
            @Option(help: "Only events before this RFC 3339 time.") var until: Timestamp?

            var isEmpty: Bool { search == nil && action == nil && actor == nil && target == nil && since == nil && until == nil }
        }

        struct Save: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Save a named view of the log: at least one of --search, --action, --actor, --target, --since, --until.")
            @OptionGroup var tenant: TenantOptions
            @Option(help: "Its name, unique in the organisation (at most \(AuditSavedFilter.maxNameLength) characters).")
            var name: String
            @OptionGroup var view: ViewOptions

            func run() async throws {
                try await runReportingErrors {
                    let (name, view) = (name, view)
                    let filter = try await tenant.write { tenant in
                        let saved = AuditSavedFilter.View(q: view.search, action: view.action, actor: try await tenant.auditActorID(view.actor),
                                                          target: view.target, since: view.since, until: view.until)
                        return try await tenant.saveAuditFilter(name: name, view: saved, by: .system)
                    }
                    try tenant.output(filter) { "Saved filter \(filter.name) (\(filter.id))." }
                }
            }
        }

        struct Update: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Rename a saved filter or change its view: what is not given is kept; --clear removes a filter.")
            @OptionGroup var tenant: TenantOptions
            @Option(help: "The filter's id or name.") var filter: String
            @Option(help: "Its new name, unique in the organisation (at most \(AuditSavedFilter.maxNameLength) characters).")
            var name: String?
            @OptionGroup var view: ViewOptions
            @Option(help: ArgumentHelp("A filter to remove from the view: search, action, actor, target, since or until; repeat for more.",
                                       valueName: "filter"))
            var clear: [ViewField] = []

            enum ViewField: String, ExpressibleByArgument, CaseIterable { case search, action, actor, target, since, until }

            func validate() throws {
                guard name != nil || !view.isEmpty || !clear.isEmpty else {
                    throw ValidationError("Give --name, a filter to change (--search, --action, ...) or --clear.")
                }
                let given: [ViewField: Bool] = [.search: view.search != nil, .action: view.action != nil, .actor: view.actor != nil,
                                                .target: view.target != nil, .since: view.since != nil, .until: view.until != nil]
                if let both = clear.first(where: { given[$0] == true }) {
                    throw ValidationError("--\(both.rawValue) and --clear \(both.rawValue) contradict each other: give one.")
                }
            }

            /// Kept when neither given nor cleared; cleared is a change to nothing.
            private func changed<T>(_ value: T?, _ field: ViewField) -> T?? {
                clear.contains(field) ? .some(nil) : value.map { .some($0) }
            }

            func run() async throws {
                try await runReportingErrors {
                    let (wanted, view) = (filter, view)
                    let change = AuditSavedFilter.Change(
                        name: name, q: changed(view.search, .search), action: changed(view.action, .action),
                        actor: changed(view.actor, .actor), target: changed(view.target, .target),
                        since: changed(view.since, .since), until: changed(view.until, .until))
                    let updated = try await tenant.write { tenant in
                        let found = try await tenant.findAuditFilter(wanted)
                        var resolved = change
                        if case .some(.some(let actor)) = change.actor { resolved.actor = .some(try await tenant.auditActorID(actor)) }
                        return try await tenant.updateAuditFilter(found.id, resolved, by: .system)
                    }
                    try tenant.output(updated) { "Updated saved filter \(updated.name) (\(updated.id))." }
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
                        let found = try await tenant.findAuditFilter(wanted)
                        try await tenant.deleteAuditFilter(found.id, by: .system)
                        return Deleted(id: found.id, name: found.name)
                    }
                    try tenant.output(deleted) { "Deleted saved filter \(deleted.name) (\(deleted.id))." }
                }
            }
        }
    }
}

extension Tenant {
    /// A saved filter by id or by name in any case.
    func findAuditFilter(_ idOrName: String) async throws -> AuditSavedFilter {
        let all = try await auditFilters()
        guard let found = all.first(where: { $0.id == idOrName.lowercased() })
            ?? all.first(where: { $0.name.lowercased() == idOrName.lowercased() }) else {
            throw RampartError(.notFound, "No saved filter '\(idOrName)'; `rampart audit filters list` shows them.")
        }
        return found
    }
}
