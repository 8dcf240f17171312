import ArgumentParser
import RampartCore
import RampartStorage

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "List, create, deactivate and reactivate users and manage their authentication.",
        subcommands: [List.self, Create.self, Update.self, Deactivate.self, Reactivate.self, Access.self, GrantRole.self, RevokeRole.self,
                      EffectivePolicy.self, Sessions.self, EndSessions.self, Factors.self, ResetMFA.self,
                      ForcePasswordReset.self, ImportHash.self, ImportHashes.self, Invite.self, Erase.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's users.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Only users whose email is this (any case).") var email: String?
        @Option(help: "Only active or only deactivated users.") var status: UserStatus?
        @Option(help: "Only users whose email or display name contains this.") var search: String?

        func run() async throws {
            try await runReportingErrors {
                let filter = UserFilter(email: email, status: status, search: search)
                let (users, assignments) = try await tenant.read { tenant in
                    (try await tenant.all { try await tenant.users(filter, page: $0) },
                     try await tenant.all { try await tenant.roleAssignments(page: $0) })
                }
                let roles = Dictionary(grouping: assignments, by: \.userId).mapValues { $0.map(\.role.rawValue).sorted() }
                try tenant.output(["data": users]) {
                    let rows = users.map { user in
                        [user.id, user.status.rawValue, user.email, roles[user.id]?.joined(separator: ",") ?? "-", user.displayName]
                    }
                    return table(users.isEmpty ? [] : [["ID", "STATUS", "EMAIL", "ROLES", "NAME"]] + rows, empty: "No users.")
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Email address.") var email: String
        @Option(help: "Display name.") var name: String

        func run() async throws {
            try await runReportingErrors {
                let user = try await tenant.write { try await $0.createUser(email: email, displayName: name, by: .system) }
                try tenant.output(user) { "Created user \(user.email) (\(user.id))." }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a user's email or name.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String
        @Option(help: "The new email.") var email: String?
        @Option(help: "The new display name.") var name: String?

        func validate() throws {
            guard email != nil || name != nil else { throw ValidationError("Give --email or --name.") }
        }

        func run() async throws {
            try await runReportingErrors {
                let (user, email, name) = (self.user, self.email, self.name)
                let updated = try await tenant.write { tenant in
                    try await tenant.updateUser(try await tenant.findUser(user).id, email: email, displayName: name, by: .system)
                }
                try tenant.output(updated) { "Updated user \(updated.email) (\(updated.displayName))." }
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deactivate a user; their console sessions end.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String

        func run() async throws { try await setStatus(.deactivated, of: user, in: tenant, done: "Deactivated") }
    }

    struct Reactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reactivate a deactivated user.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String

        func run() async throws { try await setStatus(.active, of: user, in: tenant, done: "Reactivated") }
    }

    struct Access: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the products a user may use and the groups that give each.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String

        func run() async throws {
            try await runReportingErrors {
                let user = self.user
                let grants = try await tenant.read { try await $0.effectiveAccess(ofUser: try await $0.findUser(user).id) }
                try tenant.output(["data": grants]) {
                    let rows = grants.map { [$0.product.name, $0.via.map(\.name).joined(separator: ", ")] }
                    return table(rows.isEmpty ? [] : [["PRODUCT", "THROUGH GROUPS"]] + rows,
                                 empty: "\(user) may use no product: none of their groups has access to one.")
                }
            }
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: """
            Erase a person from the audit log: delete the user and destroy the key their personal data in it is \
            sealed under. Their events stay and verify, and read as "erased user". Cannot be undone.
            """)
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id, or email of a user not yet deleted.") var user: String

        func run() async throws {
            try await runReportingErrors {
                let user = self.user
                let erasure = try await tenant.withDatabase { database, _, orgID in
                    let erasure = try await database.write(org: orgID) { tenant in
                        let id: String
                        if let canonical = Identifier.canonical(user) { id = canonical } else { id = try await tenant.findUser(user).id }
                        return try await tenant.eraseUser(id, by: .system)
                    }
                    await database.scrubAfterErasure()
                    return erasure
                }
                try tenant.output(erasure) {
                    var lines = ["Erased user \(erasure.userId): \(erasure.subjectKeysDestroyed) subject key(s) destroyed."]
                    if erasure.legacyEvents > 0 {
                        lines.append("""
                            \(erasure.legacyEvents) event(s) written before personal data was sealed still name them; \
                            they cannot be shredded (docs/security-model.md).
                            """)
                    }
                    return lines.joined(separator: "\n")
                }
            }
        }
    }

    struct GrantRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grant-role", abstract: "Give a user a role; giving a role they hold changes nothing.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String
        @Option(help: "One of \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: Role

        func run() async throws { try await changeRole(role, of: user, grant: true, in: tenant) }
    }

    struct RevokeRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-role", abstract: "Take a role from a user; taking a role they lack changes nothing.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "User id or email.") var user: String
        @Option(help: "One of \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: Role

        func run() async throws { try await changeRole(role, of: user, grant: false, in: tenant) }
    }

    /// The same storage calls as the API's role endpoints; the message says whether anything changed.
    static func changeRole(_ role: Role, of user: String, grant: Bool, in tenant: TenantOptions) async throws {
        try await runReportingErrors {
            let (result, changed) = try await tenant.write { store in
                let found = try await store.findUser(user)
                let held = found.roles.contains(role)
                guard held != grant else { return (found, false) }
                if grant { try await store.assignRole(role, to: found.id, by: .system) } else {
                    try await store.revokeRole(role, from: found.id, by: .system)
                }
                return (try await store.requireUser(found.id), true)
            }
            try tenant.output(result) {
                switch (grant, changed) {
                case (true, true): "\(result.email) now has the role \(role.rawValue)."
                case (false, true): "\(result.email) no longer has the role \(role.rawValue)."
                case (true, false): "\(result.email) already has the role \(role.rawValue); nothing changed."
                case (false, false): "\(result.email) does not have the role \(role.rawValue); nothing changed."
                }
            }
        }
    }

    /// A user already in the wanted status is left alone, and the message says so: a
    /// command that claims a change it did not make misleads whoever reads the terminal.
    static func setStatus(_ status: UserStatus, of user: String, in tenant: TenantOptions, done: String) async throws {
        try await runReportingErrors {
            let (result, changed) = try await tenant.write { store in
                let found = try await store.findUser(user)
                guard found.status != status else { return (found, false) }
                return (try await store.setUserStatus(found.id, status, by: .system), true)
            }
            try tenant.output(result) {
                changed ? "\(done) \(result.email)." : "\(result.email) is already \(status.rawValue); nothing changed."
            }
        }
    }
}

extension UserStatus: ExpressibleByArgument {}
