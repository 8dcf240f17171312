import ArgumentParser
import RampartCore
import RampartServer
import RampartStorage

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "List, create and revoke admin API tokens.",
        subcommands: [List.self, Create.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's API tokens (never their secrets).")
        @OptionGroup var tenant: TenantOptions

        func run() async throws {
            try await runReportingErrors {
                let tokens = try await tenant.read { tenant in try await tenant.all { try await tenant.apiTokens(page: $0) } }
                try tenant.output(["data": tokens]) {
                    let rows = tokens.map { token in
                        let state = token.revokedAt != nil ? "revoked" : token.isUsable(at: .now()) ? "active" : "expired"
                        return [token.id, token.role.rawValue, state, token.expiresAt?.rfc3339 ?? "never",
                                token.lastUsedAt?.rfc3339 ?? "never", token.name]
                    }
                    return table(tokens.isEmpty ? [] : [["ID", "ROLE", "STATE", "EXPIRES", "LAST USED", "NAME"]] + rows,
                                 empty: "No API tokens.")
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API token; its secret is printed once.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "What the token is for.") var name: String
        @Option(help: "One of \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: Role
        @Option(help: "Days until it stops working (1 to \(APIToken.maximumLifetimeDays)); no expiry when left out.")
        var expiresInDays: Int?

        func validate() throws {
            if let expiresInDays, !(1...APIToken.maximumLifetimeDays).contains(expiresInDays) {
                throw ValidationError("--expires-in-days must be between 1 and \(APIToken.maximumLifetimeDays).")
            }
        }

        func run() async throws {
            try await runReportingErrors {
                let expiresAt = expiresInDays.map { Timestamp.now().adding(days: $0) }
                let (token, secret) = try await tenant.write {
                    try await $0.createAPIToken(name: name, role: role, expiresAt: expiresAt, by: .system)
                }
                try tenant.output(CreatedAPIToken(token: token, secret: secret)) {
                    """
                    Created API token \(token.name) (\(token.id)), role \(token.role.rawValue)\(expiresAt.map { ", expires \($0.rfc3339)" } ?? "").
                    \(secret)
                    This is the only time the secret is shown; Rampart keeps only its hash.
                    """
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API token; the next request that presents it is refused.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Token id, or its name when no other unrevoked token has that name.") var token: String

        func run() async throws {
            try await runReportingErrors {
                let revoked = try await tenant.write { tenant in
                    let found = try await tenant.findAPIToken(token)
                    try await tenant.revokeAPIToken(found.id, by: .system)
                    return try await tenant.requireAPIToken(found.id)
                }
                try tenant.output(revoked) { "Revoked API token \(revoked.name) (\(revoked.id))." }
            }
        }
    }
}

extension Role: ExpressibleByArgument {}

extension Tenant {
    /// A token by id, or by a name only one unrevoked token has: names are not unique, and
    /// revoking the wrong token of two namesakes would cut off the wrong client.
    func findAPIToken(_ idOrName: String) async throws -> APIToken {
        if let id = Identifier.canonical(idOrName), let token = try await apiToken(id) { return token }
        let named = try await all { try await apiTokens(page: $0) }.filter { $0.name == idOrName && $0.revokedAt == nil }
        guard let first = named.first else {
            throw RampartError(.notFound, "API token '\(idOrName)' not found: no unrevoked token has that id or name; `rampart token list` shows them.")
        }
        guard named.count == 1 else {
            throw RampartError(.conflict, "\(named.count) API tokens are named '\(idOrName)'; give the id (`rampart token list`).")
        }
        return first
    }
}
