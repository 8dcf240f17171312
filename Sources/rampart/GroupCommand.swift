import ArgumentParser
import RampartCore
import RampartStorage

struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "List and create groups and manage their members.",
        subcommands: [List.self, Create.self, Update.self, Members.self, AddMember.self, RemoveMember.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's groups.")
        @OptionGroup var tenant: TenantOptions

        func run() async throws {
            try await runReportingErrors {
                let groups = try await tenant.read { tenant in try await tenant.all { try await tenant.groups(page: $0) } }
                try tenant.output(["data": groups]) {
                    table(groups.map { [$0.id, "\($0.memberCount) members", $0.name] }, empty: "No groups.")
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a group.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Name, unique in the organisation.") var name: String
        @Option(help: "What the group is for.") var description: String?

        func run() async throws {
            try await runReportingErrors {
                let group = try await tenant.write { try await $0.createGroup(name: name, description: description, by: .system) }
                try tenant.output(group) { "Created group \(group.name) (\(group.id))." }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a group or change its description.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Group id or name.") var group: String
        @Option(help: "The new name.") var name: String?
        @Option(help: "The new description.") var description: String?

        func validate() throws {
            guard name != nil || description != nil else { throw ValidationError("Give --name or --description.") }
        }

        func run() async throws {
            try await runReportingErrors {
                let (group, name, description) = (self.group, self.name, self.description)
                let updated = try await tenant.write { tenant in
                    try await tenant.updateGroup(try await tenant.findGroup(group).id, name: name, description: description,
                                                 by: .system)
                }
                try tenant.output(updated) { "Updated group \(updated.name) (\(updated.id))." }
            }
        }
    }

    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a group's members.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Group id or name.") var group: String

        func run() async throws {
            try await runReportingErrors {
                let members = try await tenant.read { tenant in
                    let group = try await tenant.findGroup(group)
                    return try await tenant.all { try await tenant.groupMembers(group.id, page: $0) }
                }
                try tenant.output(["data": members]) {
                    table(members.map { [$0.id, $0.status.rawValue, $0.email, $0.displayName] }, empty: "No members.")
                }
            }
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-member", abstract: "Add a user to a group; adding a member again changes nothing.")
        @OptionGroup var membership: MembershipOptions

        func run() async throws {
            try await membership.change({ try await $0.addMember($2.id, to: $1.id, by: .system) }) {
                "\($0.user.email) is a member of \($0.group.name)."
            }
        }
    }

    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-member", abstract: "Remove a user from a group; removing a non-member changes nothing.")
        @OptionGroup var membership: MembershipOptions

        func run() async throws {
            try await membership.change({ try await $0.removeMember($2.id, from: $1.id, by: .system) }) {
                "\($0.user.email) is not a member of \($0.group.name)."
            }
        }
    }

    struct MembershipOptions: ParsableArguments {
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Group id or name.") var group: String
        @Option(help: "User id or email.") var user: String

        func change(_ apply: @escaping @Sendable (Tenant, Group, User) async throws -> Void,
                    done: (Membership) -> String) async throws {
            let (group, user) = (self.group, self.user)
            try await tenant.change({ Membership(group: try await $0.findGroup(group), user: try await $0.findUser(user)) },
                                    { try await apply($0, $1.group, $1.user); return $1 }, done: done)
        }
    }

    /// What `add-member` and `remove-member` resolved, which `--json` prints.
    struct Membership: Encodable, Sendable {
        let group: Group
        let user: User
    }
}
