import ArgumentParser
import RampartCore
import RampartStorage

/// What every command about one organisation's data takes: the store, the organisation and
/// `--json`. Its work runs in one tenant transaction, as an API request's does, and its
/// changes are audited with the system as the actor: whoever runs the CLI holds the store.
struct TenantOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Option(help: "Organisation id or slug.") var org: String
    @Flag(help: "Print JSON.") var json = false

    func read<R: Sendable>(_ body: @Sendable (Tenant) async throws -> R) async throws -> R {
        try await store.withStore { database in
            let organization = try await resolveOrganization(org, in: database)
            return try await database.read(org: organization.id, body)
        }
    }

    func write<R: Sendable>(_ body: @Sendable (Tenant) async throws -> R) async throws -> R {
        try await store.withStore { database in
            let organization = try await resolveOrganization(org, in: database)
            return try await database.write(org: organization.id, body)
        }
    }

    /// `write`, for changes that seal something with the organisation's key (queued mail).
    func write<R: Sendable>(withKeys body: @Sendable @escaping (Tenant, KeyService) async throws -> R) async throws -> R {
        let source = store.keySource()
        return try await store.withStore { database in
            let keys = try await KeyService.open(source: source, database: database)
            let organization = try await resolveOrganization(org, in: database)
            return try await database.write(org: organization.id) { try await body($0, keys) }
        }
    }

    /// The store, its keys and the organisation's id, for work that spans several transactions
    /// with something outside between them (a dead letter's replay sends between its read and its write).
    func withDatabase<R: Sendable>(_ body: @Sendable @escaping (Database, KeyService, String) async throws -> R) async throws -> R {
        let source = store.keySource()
        return try await store.withStore { database in
            let keys = try await KeyService.open(source: source, database: database)
            return try await body(database, keys, try await resolveOrganization(org, in: database).id)
        }
    }

    /// Finds what a command names, changes it in the same transaction, and prints the result.
    func change<Found: Sendable, Result: Encodable & Sendable>(
        _ find: @escaping @Sendable (Tenant) async throws -> Found,
        _ apply: @escaping @Sendable (Tenant, Found) async throws -> Result,
        done: (Result) -> String
    ) async throws {
        try await runReportingErrors {
            let result = try await write { tenant in try await apply(tenant, try await find(tenant)) }
            try output(result) { done(result) }
        }
    }

    func output(_ value: some Encodable, text: () -> String) throws {
        try emit(json: json, value, text: text)
    }
}

/// Commands name things the way people know them: a user by id or email, a group or a
/// product by id or name. Anything else is a clear "not found" (exit 4).
extension Tenant {
    func findUser(_ idOrEmail: String) async throws -> User {
        let found = if let id = Identifier.canonical(idOrEmail) { try await user(id) } else { try await user(email: idOrEmail) }
        guard let found else { throw RampartError(.notFound, "No user '\(idOrEmail)'; `rampart user list` shows them.") }
        return found
    }

    /// An audit filter's actor: people know users by email, the log records their id.
    func auditActorID(_ actor: String?) async throws -> String? {
        guard let actor, actor.contains("@") else { return actor }
        return try await findUser(actor).id
    }

    func findGroup(_ idOrName: String) async throws -> Group {
        let found = if let id = Identifier.canonical(idOrName) { try await group(id) } else { try await group(named: idOrName) }
        guard let found else { throw RampartError(.notFound, "No group '\(idOrName)'; `rampart group list` shows them.") }
        return found
    }

    func findProduct(_ idOrName: String) async throws -> Product {
        let found = if let id = Identifier.canonical(idOrName) { try await product(id) } else {
            try await product(named: idOrName)
        }
        guard let found else {
            throw RampartError(.notFound, "No product '\(idOrName)'; `rampart product list` shows them.")
        }
        return found
    }

    /// Every page of a paginated listing, for commands that print the whole list.
    func all<Item>(_ fetch: (PageRequest) async throws -> Page<Item>) async throws -> [Item] {
        var items: [Item] = []
        var page = PageRequest(limit: 200)
        repeat {
            let result = try await fetch(page)
            items += result.items
            page.after = result.nextCursor
        } while page.after != nil
        return items
    }
}

/// Left-aligned columns for people; scripts use `--json`.
func table(_ rows: [[String]], empty: String) -> String {
    guard let first = rows.first else { return empty }
    let widths = (0..<first.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
