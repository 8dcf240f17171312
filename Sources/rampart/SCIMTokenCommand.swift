import ArgumentParser
import RampartCore
import RampartServer
import RampartStorage

struct SCIMTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scim-token", abstract: "List, create and revoke SCIM tokens; choose what a SCIM DELETE does.",
        subcommands: [List.self, Create.self, Revoke.self, DeleteMode.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's SCIM tokens (never their secrets).")
        @OptionGroup var tenant: TenantOptions

        func run() async throws {
            try await runReportingErrors {
                let tokens = try await tenant.read { try await $0.scimTokens() }
                try tenant.output(["data": tokens]) {
                    table(tokens.map { token in
                        [token.id, token.revokedAt != nil ? "revoked" : "active",
                         token.lastUsedAt.map { "used \($0.rfc3339)" } ?? "never used", token.name]
                    }, empty: "No SCIM tokens.")
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a SCIM token; its secret is printed once.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "What the token is for (the identity provider).") var name: String
        @Option(help: "The address the server is reached at, as given to `rampart serve`.")
        var publicURL = "http://localhost:8080"

        func run() async throws {
            try await runReportingErrors {
                let (token, secret) = try await tenant.write { try await $0.createSCIMToken(name: name, by: .system) }
                let baseURL = PublicLink.to("/scim/v2", at: publicURL)
                let created = CreatedSCIMToken(scimToken: token, token: secret, baseURL: baseURL)
                try tenant.output(created) {
                    """
                    Created SCIM token \(token.name) (\(token.id)).
                    \(secret)
                    SCIM base URL: \(baseURL)
                    This is the only time the secret is shown; Rampart keeps only its hash.
                    """
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a SCIM token; the next SCIM request that presents it is refused.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Token id.") var token: String

        func run() async throws {
            try await runReportingErrors {
                let revoked = try await tenant.write { tenant in
                    try await tenant.revokeSCIMToken(token, by: .system)
                    return try await tenant.requireSCIMToken(token)
                }
                try tenant.output(revoked) { "Revoked SCIM token \(revoked.name) (\(revoked.id))." }
            }
        }
    }

    struct DeleteMode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-mode", abstract: "Show or set what a SCIM DELETE of a user does: delete or deactivate.")
        @OptionGroup var tenant: TenantOptions
        @Argument(help: "delete or deactivate; shows the current mode when left out.") var mode: SCIMDeleteMode?

        func run() async throws {
            try await runReportingErrors {
                let mode = self.mode
                let current = try await tenant.write { tenant in
                    if let mode { try await tenant.setSCIMDeleteMode(mode, by: .system) }
                    return try await tenant.scimDeleteMode()
                }
                try tenant.output(["deleteMode": current.rawValue]) { "A SCIM DELETE of a user: \(current.rawValue)." }
            }
        }
    }
}

extension SCIMDeleteMode: ExpressibleByArgument {}
