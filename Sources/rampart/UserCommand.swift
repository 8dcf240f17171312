import ArgumentParser
import Foundation
import RampartCore
import RampartStorage

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "List, create and deactivate users.",
                                                    subcommands: [List.self, Create.self, Deactivate.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's users.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Organisation id or slug.") var org: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runReportingErrors {
                let users = try await store.withStore { database in
                    let organization = try await resolveOrganization(org, in: database)
                    return try await database.read(org: organization.id) { tenant in
                        var all: [User] = []
                        var page = PageRequest(limit: 200)
                        repeat {
                            let result = try await tenant.users(page: page)
                            all += result.items
                            page.after = result.nextCursor
                        } while page.after != nil
                        return all
                    }
                }
                try emit(json: json, ["data": users]) {
                    users.map { "\($0.id)  \($0.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \($0.email)  \($0.displayName)" }
                        .joined(separator: "\n")
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Organisation id or slug.") var org: String
        @Option(help: "Email address.") var email: String
        @Option(help: "Display name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runReportingErrors {
                let user = try await store.withStore { database in
                    let organization = try await resolveOrganization(org, in: database)
                    return try await database.write(org: organization.id) {
                        try await $0.createUser(email: email, displayName: name, by: .system)
                    }
                }
                try emit(json: json, user) { "Created user \(user.email) (\(user.id))." }
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deactivate a user; their console sessions end.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Organisation id or slug.") var org: String
        @Option(help: "User id or email.") var user: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runReportingErrors {
                let result = try await store.withStore { database in
                    let organization = try await resolveOrganization(org, in: database)
                    return try await database.write(org: organization.id) { tenant in
                        let found = Identifier.canonical(user) != nil ? try await tenant.user(Identifier.canonical(user)!)
                            : try await tenant.user(email: user)
                        guard let found else { throw RampartError(.notFound, "No user '\(user)' in \(organization.slug).") }
                        return try await tenant.setUserStatus(found.id, .deactivated, by: .system)
                    }
                }
                try emit(json: json, result) { "Deactivated \(result.email)." }
            }
        }
    }
}
