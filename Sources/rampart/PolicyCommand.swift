import ArgumentParser
import Foundation
import RampartAuthn
import RampartCore
import RampartServer
import RampartStorage

/// `rampart policy`: the organisation's authentication policies and where they are assigned,
/// through the same calls as `/api/v1/authentication-policies`.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "List, create, change, delete and assign authentication policies.",
        subcommands: [List.self, Show.self, Create.self, Update.self, Delete.self, Assign.self, Unassign.self,
                      Simulate.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's authentication policies.")
        @OptionGroup var tenant: TenantOptions

        func run() async throws {
            try await runReportingErrors {
                let policies = try await tenant.read { try await $0.authenticationPoliciesWithDefault().map { PolicyBody($0) } }
                try tenant.output(["data": policies]) {
                    let rows = policies.map { [$0.id, $0.isDefault ? "default" : "-", $0.name] }
                    return table([["ID", "DEFAULT", "NAME"]] + rows, empty: "No policies.")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a policy's settings.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Policy id or name (`default` for the organisation's default).") var policy: String

        func run() async throws {
            try await runReportingErrors {
                let policy = self.policy
                let found = try await tenant.read { tenant in
                    let found = try await tenant.findPolicy(policy)
                    return PolicyBody(found, assignments: try await tenant.assignments(ofPolicy: found.id))
                }
                try tenant.output(found) {
                    let assigned = (found.assignments ?? []).map { "  \($0.type) \($0.name)" }
                    return describe(found) + (found.isDefault ? "" : "\nAssigned to:\n"
                        + (assigned.isEmpty ? "  nobody" : assigned.joined(separator: "\n")))
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a policy; unnamed settings take the standard values.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Name, unique in the organisation.") var name: String
        @Option(help: "Settings as a JSON object, as in the API, e.g. '{\"mfaRequired\": true}'.") var settings: String?

        func run() async throws {
            try await runReportingErrors {
                let settings = try PolicySettingsInput.apply(try self.settings.map(parseSettings), to: .standard)
                let name = self.name
                let created = try await tenant.write {
                    PolicyBody(try await $0.createAuthenticationPolicy(name: name, settings: settings, by: .system))
                }
                try tenant.output(created) { "Created policy \(created.name) (\(created.id)).\n" + describe(created) }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change some of a policy's settings; the others keep their values.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Policy id or name (`default` for the organisation's default).") var policy: String
        @Option(help: "The settings to change, as a JSON object, e.g. '{\"idleTimeoutSeconds\": 900}'.") var settings: String
        @Flag(help: "Save even though no org-admin could sign in afterwards (see `rampart policy simulate`).")
        var override = false

        func run() async throws {
            try await runReportingErrors {
                let changes = try parseSettings(settings)
                let policy = self.policy, override = self.override
                let updated = try await tenant.write { tenant in
                    let existing = try await tenant.findPolicy(policy)
                    let settings = try PolicySettingsInput.apply(changes, to: existing.settings)
                    return PolicyBody(try await tenant.updateAuthenticationPolicy(existing.id, settings: settings, override: override,
                                                                              by: .system))
                }
                try tenant.output(updated) { "Updated policy \(updated.name).\n" + describe(updated) }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a policy; the people it governed fall back to their groups' policies or the default.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Policy id or name.") var policy: String
        @Flag(help: "Save even though no org-admin could sign in afterwards (see `rampart policy simulate`).")
        var override = false

        func run() async throws {
            try await runReportingErrors {
                let policy = self.policy, override = self.override
                let deleted = try await tenant.write { tenant in
                    let found = try await tenant.findPolicy(policy)
                    try await tenant.deleteAuthenticationPolicy(found.id, override: override, by: .system)
                    return PolicyBody(found)
                }
                try tenant.output(deleted) { "Deleted policy \(deleted.name)." }
            }
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Assign a policy to a user or a group, replacing the one assigned there before.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var assignment: AssignmentOptions

        func run() async throws {
            try await assignment.apply(in: tenant, saying: "now applies to") { tenant, policy, target, override in
                try await tenant.assignPolicy(policy, to: target, override: override, by: .system)
            }
        }
    }

    struct Unassign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a policy's assignment from a user or a group.")
        @OptionGroup var tenant: TenantOptions
        @OptionGroup var assignment: AssignmentOptions

        func run() async throws {
            try await assignment.apply(in: tenant, saying: "no longer applies to") { tenant, policy, target, override in
                try await tenant.unassignPolicy(policy, from: target, override: override, by: .system)
            }
        }
    }

    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show who a proposed policy, or a change to one, would affect; nothing is changed.",
            discussion: """
                Name --policy to change an existing policy (with --settings) or assign it; leave it out to \
                simulate a new policy with --settings. Reads the people, sessions and factors as they are and \
                the sign-ins of the last 30 days.
                """)
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Policy id or name (`default` for the organisation's default); leave out for a new policy.")
        var policy: String?
        @Option(help: "Settings to change, as a JSON object, as in the API.") var settings: String?
        @Option(help: "A user (id or email) to assign the policy to; repeatable.") var assignUser: [String] = []
        @Option(help: "A group (id or name) to assign the policy to; repeatable.") var assignGroup: [String] = []
        @Option(help: "A user (id or email) to remove an assignment from; repeatable.") var unassignUser: [String] = []
        @Option(help: "A group (id or name) to remove an assignment from; repeatable.") var unassignGroup: [String] = []

        func run() async throws {
            try await runReportingErrors {
                let settings = try self.settings.map(parseSettings)
                guard settings != nil || !(assignUser + assignGroup + unassignUser + unassignGroup).isEmpty else {
                    throw RampartError(.invalidField, "Nothing to simulate: give --settings, --assign-… or --unassign-….")
                }
                let command = self
                let now = Timestamp.now()
                let body = try await tenant.read { tenant in
                    var policyID: String?
                    if let policy = command.policy { policyID = try await tenant.findPolicy(policy).id }
                    func targets(_ users: [String], _ groups: [String]) async throws -> [PolicyAssignmentTarget] {
                        var out: [PolicyAssignmentTarget] = []
                        for user in users { out.append(.user(try await tenant.findUser(user).id)) }
                        for group in groups { out.append(.group(try await tenant.findGroup(group).id)) }
                        return out
                    }
                    let proposal = PolicyProposal(policyID: policyID, settings: settings,
                                                  assignTo: try await targets(command.assignUser, command.assignGroup),
                                                  unassignFrom: try await targets(command.unassignUser, command.unassignGroup))
                    return SimulationBody(try await tenant.simulate(try await proposal.changes(in: tenant), now: now), at: now)
                }
                try tenant.output(body) { simulationReport(body) }
            }
        }
    }

    /// A policy and exactly one of a user or a group.
    struct AssignmentOptions: ParsableArguments {
        @Option(help: "Policy id or name.") var policy: String
        @Option(help: "User id or email.") var user: String?
        @Option(help: "Group id or name.") var group: String?
        @Flag(help: "Save even though no org-admin could sign in afterwards (see `rampart policy simulate`).")
        var override = false

        func validate() throws {
            guard (user == nil) != (group == nil) else { throw ValidationError("Name exactly one of --user and --group.") }
        }

        /// Resolves the policy and the target, makes the change in one transaction and prints
        /// "Policy NAME <verb> KIND NAME." (or the JSON result).
        func apply(in tenant: TenantOptions, saying verb: String,
                   _ change: @escaping @Sendable (Tenant, String, PolicyAssignmentTarget, Bool) async throws -> Void) async throws {
            try await runReportingErrors {
                let options = self
                let done = try await tenant.write { tenant in
                    let (policy, target, described) = try await options.resolve(in: tenant)
                    try await change(tenant, policy.id, target, options.override)
                    return AssignmentResult(policyId: policy.id, policyName: policy.name, target: described)
                }
                try tenant.output(done) { "Policy \(done.policyName) \(verb) \(done.target.kind) \(done.target.name)." }
            }
        }

        func resolve(in tenant: Tenant) async throws -> (AuthenticationPolicy, PolicyAssignmentTarget, AssignmentResult.Target) {
            let policy = try await tenant.findPolicy(self.policy)
            if let user {
                let found = try await tenant.findUser(user)
                return (policy, .user(found.id), .init(kind: "user", id: found.id, name: found.email))
            }
            let found = try await tenant.findGroup(group ?? "")
            return (policy, .group(found.id), .init(kind: "group", id: found.id, name: found.name))
        }
    }

    struct AssignmentResult: Encodable, Sendable {
        struct Target: Encodable, Sendable {
            let kind: String
            let id: String
            let name: String
        }
        let policyId: String
        let policyName: String
        let target: Target
    }

    /// A policy's settings one per line, in the names the API and `--settings` use.
    static func describe(_ policy: PolicyBody) -> String {
        let header = "\(policy.name) (\(policy.id))\(policy.isDefault ? ", the organisation's default" : "")"
        return ([header] + settingLines(policy.settings)).joined(separator: "\n")
    }
}

private func describe(_ policy: PolicyBody) -> String { PolicyCommand.describe(policy) }

/// A simulation as a person reads it: each list under its heading, the lockout first.
private func simulationReport(_ body: SimulationBody) -> String {
    if body.affectedUsers.isEmpty { return "Nobody's sign-in changes." }
    var lines = ["The rules change for \(body.affectedUsers.count) people."]
    if body.leavesNoOrgAdminAbleToSignIn {
        lines.append("NO ORG-ADMIN COULD SIGN IN AFTERWARDS: saving it needs --override.")
    }
    func section(_ title: String, _ items: [String]) {
        guard !items.isEmpty else { return }
        lines.append("\(title):")
        lines += items.map { "  " + $0 }
    }
    section("Admins who would lose access", body.adminsLosingAccess.map {
        "\($0.user.email) (\($0.roles.map(\.rawValue).joined(separator: ", "))): \($0.reason)"
    })
    section("Refused by the IP allowlist", body.blockedByIpAllowlist.map {
        "\($0.user.email), lately from \($0.addresses.joined(separator: ", "))"
    })
    section("Sessions that would end", body.sessionsEnding.map { "\($0.user.email) (\($0.sessionId)): \($0.reason)" })
    section("Without a second factor", body.usersWithoutMfa.map {
        "\($0.user.email): " + ($0.overdue ? "must enrol at the next sign-in" : "may enrol until \($0.graceEndsAt.rfc3339)")
    })
    return lines.joined(separator: "\n")
}

/// `name: value` for each setting, nested password settings flattened as `password.name`.
func settingLines(_ settings: AuthenticationPolicySettings) -> [String] {
    guard let data = try? JSONEncoder().encode(settings), case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data)
    else { return [] }
    var lines: [String] = []
    for (name, value) in object.sorted(by: { $0.key < $1.key }) {
        if case .object(let nested) = value {
            for (inner, innerValue) in nested.sorted(by: { $0.key < $1.key }) { lines.append("  \(name).\(inner): \(text(innerValue))") }
        } else {
            lines.append("  \(name): \(text(value))")
        }
    }
    return lines
}

private func text(_ value: JSONValue) -> String {
    guard let data = try? JSONEncoder().encode(value) else { return "?" }
    return String(decoding: data, as: UTF8.self)
}

/// `--settings` as JSON; a typo is caught here with the same wording as the API's.
private func parseSettings(_ text: String) throws -> JSONValue {
    do {
        return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    } catch {
        throw RampartError.invalidField("settings", "is not valid JSON")
    }
}

extension Tenant {
    /// A policy by id, by name (in any case, as names are unique), or `default`; anything else is a clear "not found" (exit 4).
    func findPolicy(_ idOrName: String) async throws -> AuthenticationPolicy {
        let all = try await authenticationPoliciesWithDefault()
        if idOrName == Tenant.builtInDefaultPolicyID, let found = all.first(where: \.isDefault) { return found }
        if let id = Identifier.canonical(idOrName), let found = all.first(where: { $0.id == id }) { return found }
        if let found = all.first(where: { $0.name.lowercased() == idOrName.lowercased() }) { return found }
        throw RampartError(.notFound, "No authentication policy '\(idOrName)'; `rampart policy list` shows them.")
    }
}
