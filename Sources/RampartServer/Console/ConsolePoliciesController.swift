import Hummingbird
import RampartAuthn
import RampartCore
import RampartStorage

/// Authentication policies in the console: the list, a policy's settings and assignments,
/// and the what-if simulation shown before every change is saved. The console has no
/// JavaScript, so "Preview" posts the form and the page comes back with the simulation and
/// the button that saves it.
struct ConsolePoliciesController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("policies", use: list)
        group.post("policies", use: create)
        group.get("policies/{id}", use: show)
        group.post("policies/{id}/preview", use: preview)
        group.post("policies/{id}", use: save)
        group.post("policies/{id}/assignments/preview", use: previewAssignment)
        group.post("policies/{id}/assignments", use: assign)
        group.get("policies/{id}/assignments/{kind}/{targetId}/remove", use: confirmUnassign)
        group.post("policies/{id}/assignments/{kind}/{targetId}/remove", use: unassign)
        group.get("policies/{id}/delete", use: confirmDelete)
        group.post("policies/{id}/delete", use: delete)
    }

    // MARK: The list

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await listPage(request, context, error: nil, name: "")
    }

    private func listPage(_ request: Request, _ context: RampartRequestContext, error: String?, name: String,
                          status: HTTPResponse.Status = .ok) async throws -> Response {
        let counted = try await read(context, .readAuthenticationPolicies) { tenant -> [PolicyCount] in
            let stored = try await tenant.authenticationPolicies()
            let all = stored.contains(where: \.isDefault) ? stored : [try await tenant.defaultAuthenticationPolicy()] + stored
            var counted: [PolicyCount] = []
            for policy in all.sorted(by: { $0.isDefault && !$1.isDefault }) {
                counted.append(PolicyCount(policy: policy, assignments: try await tenant.assignments(ofPolicy: policy.id).count))
            }
            return counted
        }
        var policies: [[String: Any]] = []
        for row in counted {
            policies.append(["id": row.policy.id, "name": row.policy.name, "isDefault": row.policy.isDefault,
                             "summary": Self.summary(row.policy.settings), "assignments": row.assignments])
        }
        return ConsoleRenderer.page("policies", ConsolePage.values(context, title: "Authentication policies", active: "policies",
                                                                   extra: [
            "policies": policies, "error": error ?? "", "hasError": error != nil, "formName": name,
        ].merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context)
        do {
            let policy = try await write(request, context, .manageAuthenticationPolicies) {
                try await $0.createAuthenticationPolicy(name: form["name"], settings: .standard, by: $1)
            }
            return ConsoleRenderer.redirect("/console/policies/\(policy.id)")
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, error: error.message, name: form["name"], status: error.httpStatus)
        }
    }

    private struct PolicyCount: Sendable {
        let policy: AuthenticationPolicy
        let assignments: Int
    }

    // MARK: One policy

    /// What a policy page shows besides the policy: a form being edited, a simulation and
    /// the change it simulated, an error.
    private struct PageState {
        var form: PolicySettingsForm?
        var simulation: PolicySimulation?
        /// `settings` or `assignment`: which confirm button goes with the simulation.
        var simulated: String?
        var assignment: (kind: String, who: String)?
        var error: String?
        var status: HTTPResponse.Status = .ok
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await policyPage(request, context, PageState())
    }

    private func policyPage(_ request: Request, _ context: RampartRequestContext, _ state: PageState) async throws -> Response {
        let id = try AuthenticationPoliciesController.policyID(context)
        let (policy, assignments, emails) = try await read(context, .readAuthenticationPolicies) { tenant in
            let policy = try await tenant.requirePolicy(id)
            var emails: [String: String] = [:]
            for userID in policy.settings.breakGlassUserIDs { emails[userID] = try await tenant.user(userID)?.email }
            return (policy, try await tenant.assignments(ofPolicy: policy.id), emails)
        }
        let form = state.form ?? PolicySettingsForm(policy.settings, emails: emails)
        var extra: [String: Any] = [
            "policy": ["id": policy.id, "name": policy.name, "isDefault": policy.isDefault],
            "assignments": assignments.map(Self.assignmentValues),
            "hasAssignments": !assignments.isEmpty,
            "error": state.error ?? "", "hasError": state.error != nil,
            "previewingSettings": state.simulated == "settings",
            "previewingAssignment": state.simulated == "assignment",
            "assignKind": state.assignment?.kind ?? "group", "assignWho": state.assignment?.who ?? "",
            "assignKindUser": state.assignment?.kind == "user",
        ]
        extra.merge(form.templateValues) { $1 }
        if let simulation = state.simulation { extra.merge(Self.simulationValues(simulation)) { $1 } }
        extra.merge(ConsoleNotice.values(request)) { $1 }
        return ConsoleRenderer.page("policy", ConsolePage.values(context, title: policy.name, active: "policies", extra: extra),
                                    status: state.status)
    }

    /// The submitted settings with break-glass emails resolved, or the form with its errors.
    private func submittedSettings(_ form: ConsoleForm, _ context: RampartRequestContext)
        async throws -> (PolicySettingsForm, AuthenticationPolicySettings?)
    {
        var settingsForm = PolicySettingsForm(submitted: form)
        let emails = form["break_glass"].split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        let ids = try await read(context, .readAuthenticationPolicies) { tenant in
            var ids: [String: String] = [:]
            for email in emails.prefix(100) { ids[email] = try await tenant.user(email: email)?.id }
            return ids
        }
        var settings = settingsForm.settings { ids[$0] }
        if let problem = settings?.problems.first {
            settingsForm.fieldErrors["settings"] = problem.prefix(1).uppercased() + problem.dropFirst() + "."
            settings = nil
        }
        return (settingsForm, settings)
    }

    @Sendable func preview(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try AuthenticationPoliciesController.policyID(context)
        let form = try await self.form(request, context)
        var (settingsForm, settings) = try await submittedSettings(form, context)
        guard let settings else { return try await refused(request, context, &settingsForm) }
        let simulation = try await read(context, .manageAuthenticationPolicies) { tenant in
            try await tenant.simulate([.settings(policyID: try await tenant.requirePolicy(id).id, settings)], now: .now())
        }
        return try await policyPage(request, context, PageState(form: settingsForm, simulation: simulation, simulated: "settings"))
    }

    @Sendable func save(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try AuthenticationPoliciesController.policyID(context)
        let form = try await self.form(request, context, requiring: .manageAuthenticationPolicies)
        var (settingsForm, settings) = try await submittedSettings(form, context)
        guard let settings else { return try await refused(request, context, &settingsForm) }
        do {
            try await write(request, context, .manageAuthenticationPolicies) { tenant, audit in
                let policy = try await tenant.requirePolicy(id)
                _ = try await tenant.updateAuthenticationPolicy(policy.id, settings: settings,
                                                                override: form["override"] == "on", by: audit)
            }
        } catch let error as RampartError where error.code == .adminLockout || isFormError(error) {
            let simulation = try await read(context, .manageAuthenticationPolicies) { tenant in
                try await tenant.simulate([.settings(policyID: try await tenant.requirePolicy(id).id, settings)], now: .now())
            }
            return try await policyPage(request, context, PageState(form: settingsForm, simulation: simulation,
                                                                    simulated: "settings", error: error.message,
                                                                    status: error.httpStatus))
        }
        return ConsoleRenderer.redirect(ConsoleNotice.policySaved.after("/console/policies/\(id)"))
    }

    private func refused(_ request: Request, _ context: RampartRequestContext,
                         _ form: inout PolicySettingsForm) async throws -> Response {
        let error = form.fieldErrors["settings"] ?? "Some settings need correcting; see the messages beside them."
        return try await policyPage(request, context, PageState(form: form, error: error, status: .badRequest))
    }

    // MARK: Assignments

    /// The user (by email) or group (by name) an assignment form names.
    private func target(_ kind: String, _ who: String, in tenant: Tenant) async throws -> PolicyAssignmentTarget {
        let who = who.trimmingCharacters(in: .whitespaces)
        switch kind {
        case "user":
            guard let user = try await tenant.user(email: who.lowercased()) else {
                throw RampartError.invalidField("who", "does not name a user of this organisation; type their email")
            }
            return .user(user.id)
        case "group":
            guard let group = try await tenant.group(named: who) else {
                throw RampartError.invalidField("who", "does not name a group of this organisation; type its name")
            }
            return .group(group.id)
        default:
            throw RampartError.invalidField("kind", "must be user or group")
        }
    }

    @Sendable func previewAssignment(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try AuthenticationPoliciesController.policyID(context)
        let form = try await self.form(request, context)
        let assignment = (kind: form["kind"], who: form["who"])
        do {
            let simulation = try await read(context, .manageAuthenticationPolicies) { tenant in
                let policy = try await tenant.requirePolicy(id)
                guard !policy.isDefault else { throw Self.defaultNeedsNoAssignment }
                let target = try await target(assignment.kind, assignment.who, in: tenant)
                return try await tenant.simulate([.assign(policyID: policy.id, target)], now: .now())
            }
            return try await policyPage(request, context, PageState(simulation: simulation, simulated: "assignment",
                                                                    assignment: assignment))
        } catch let error as RampartError where isFormError(error) {
            return try await policyPage(request, context, PageState(assignment: assignment, error: error.message,
                                                                    status: error.httpStatus))
        }
    }

    @Sendable func assign(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try AuthenticationPoliciesController.policyID(context)
        let form = try await self.form(request, context)
        let assignment = (kind: form["kind"], who: form["who"])
        do {
            try await write(request, context, .manageAuthenticationPolicies) { tenant, audit in
                let policy = try await tenant.requirePolicy(id)
                guard !policy.isDefault else { throw Self.defaultNeedsNoAssignment }
                let target = try await target(assignment.kind, assignment.who, in: tenant)
                try await tenant.assignAuthenticationPolicy(policy.id, to: target, override: form["override"] == "on", by: audit)
            }
        } catch let error as RampartError where error.code == .adminLockout || isFormError(error) {
            return try await policyPage(request, context, PageState(assignment: assignment, error: error.message,
                                                                    status: error.httpStatus))
        }
        return ConsoleRenderer.redirect(ConsoleNotice.policyAssigned.after("/console/policies/\(id)"))
    }

    static let defaultNeedsNoAssignment = RampartError(.conflict, "The default policy applies to everyone without an assignment.")

    private static func assignmentTarget(_ context: RampartRequestContext) throws -> PolicyAssignmentTarget {
        let targetID = try context.id("targetId")
        switch context.pathParameter("kind") {
        case "user": return .user(targetID)
        case "group": return .group(targetID)
        default: throw RampartError.notFound("Policy assignment")
        }
    }

    @Sendable func confirmUnassign(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try AuthenticationPoliciesController.policyID(context)
        let target = try Self.assignmentTarget(context)
        let (policy, name, simulation) = try await read(context, .manageAuthenticationPolicies) { tenant in
            let policy = try await tenant.requirePolicy(id)
            guard let assignment = try await tenant.assignments(ofPolicy: policy.id).first(where: { $0.target == target }) else {
                throw RampartError.notFound("Policy assignment")
            }
            return (policy, assignment.name, try await tenant.simulate([.assign(policyID: nil, target)], now: .now()))
        }
        let kind = context.pathParameter("kind") ?? ""
        return ConsoleConfirmation(
            question: "Stop applying \(policy.name) to \(name)?",
            consequence: "They fall back to their other policies. " + Self.sentence(simulation),
            action: "/console/policies/\(policy.id)/assignments/\(kind)/\(try context.id("targetId"))/remove",
            button: "Remove assignment", cancel: "/console/policies/\(policy.id)"
        ).page(context, active: "policies")
    }

    @Sendable func unassign(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try AuthenticationPoliciesController.policyID(context)
        let target = try Self.assignmentTarget(context)
        _ = try await form(request, context)
        do {
            try await write(request, context, .manageAuthenticationPolicies) { tenant, audit in
                let policy = try await tenant.requirePolicy(id)
                guard try await tenant.assignedPolicyID(target) == policy.id else { throw RampartError.notFound("Policy assignment") }
                try await tenant.assignAuthenticationPolicy(nil, to: target, by: audit)
            }
        } catch let error as RampartError where error.code == .adminLockout {
            return try await policyPage(request, context, PageState(error: error.message, status: error.httpStatus))
        }
        return ConsoleRenderer.redirect(ConsoleNotice.policyUnassigned.after("/console/policies/\(id)"))
    }

    // MARK: Deletion

    @Sendable func confirmDelete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let (policy, simulation) = try await read(context, .manageAuthenticationPolicies) { tenant in
            let policy = try await tenant.requirePolicy(id)
            guard !policy.isDefault else { throw RampartError(.conflict, "The default authentication policy cannot be deleted.") }
            return (policy, try await tenant.simulate([.delete(policyID: policy.id)], now: .now()))
        }
        return ConsoleConfirmation(
            question: "Delete the policy \(policy.name)?",
            consequence: "Its assignments go with it; the people it governed fall back to their groups' policies or the default. "
                + Self.sentence(simulation),
            action: "/console/policies/\(policy.id)/delete", button: "Delete policy", cancel: "/console/policies/\(policy.id)"
        ).page(context, active: "policies")
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        do {
            try await write(request, context, .manageAuthenticationPolicies) { try await $0.deleteAuthenticationPolicy(id, by: $1) }
        } catch let error as RampartError where error.code == .adminLockout || error.code == .conflict {
            return try await policyPage(request, context, PageState(error: error.message, status: error.httpStatus))
        }
        return ConsoleRenderer.redirect(ConsoleNotice.deleted.after("/console/policies"))
    }

    // MARK: Showing settings and simulations

    static func summary(_ settings: AuthenticationPolicySettings) -> String {
        var parts = [settings.mfaRequired ? "MFA required" : "MFA optional",
                     "sessions \(settings.sessionLifetimeSeconds / 3600 > 0 ? "\(settings.sessionLifetimeSeconds / 3600) h" : "\(settings.sessionLifetimeSeconds / 60) min")",
                     "idle \(settings.idleTimeoutSeconds / 60) min"]
        if let allowlist = settings.ipAllowlist { parts.append("\(allowlist.count) allowed network(s)") }
        if !settings.passwordSignInAllowed { parts.append("no password sign-in") }
        return parts.joined(separator: " · ")
    }

    static func assignmentValues(_ assignment: PolicyAssignment) -> [String: Any] {
        switch assignment.target {
        case .user(let id): ["kind": "user", "id": id, "name": assignment.name, "link": "/console/users/\(id)", "label": "user"]
        case .group(let id): ["kind": "group", "id": id, "name": assignment.name, "link": "/console/groups/\(id)", "label": "group"]
        }
    }

    static let reasons = [
        "address_not_allowed": "address not on the allowlist",
        "password_sign_in_not_allowed": "password sign-in no longer allowed",
        "sso_required": "single sign-on required",
        "lifetime": "older than the new session lifetime",
        "idle_timeout": "idle longer than the new idle timeout",
    ]

    static func simulationValues(_ simulation: PolicySimulation) -> [String: Any] {
        let nothing = simulation.affectedUsers.isEmpty
        return [
            "hasSimulation": true,
            "simNothing": nothing,
            "simAffected": simulation.affectedUsers.count,
            "simBlocked": simulation.blockedByIpAllowlist.map {
                ["email": $0.user.email, "id": $0.user.id, "addresses": $0.addresses.joined(separator: ", ")]
            },
            "simHasBlocked": !simulation.blockedByIpAllowlist.isEmpty,
            "simWithoutMfa": simulation.usersWithoutMfa.map {
                ["email": $0.user.email, "id": $0.user.id, "overdue": $0.overdue, "graceEndsAt": ConsolePage.time($0.graceEndsAt)]
            },
            "simHasWithoutMfa": !simulation.usersWithoutMfa.isEmpty,
            "simSessions": simulation.sessionsEnding.map {
                ["email": $0.user.email, "id": $0.user.id, "reason": reasons[$0.reason] ?? $0.reason]
            },
            "simHasSessions": !simulation.sessionsEnding.isEmpty,
            "simAdmins": simulation.adminsLosingAccess.map {
                ["email": $0.user.email, "id": $0.user.id, "roles": $0.roles.map(\.rawValue).joined(separator: ", "),
                 "reason": reasons[$0.reason] ?? $0.reason]
            },
            "simHasAdmins": !simulation.adminsLosingAccess.isEmpty,
            "simLockout": simulation.leavesNoOrgAdminAbleToSignIn,
        ]
    }

    /// A simulation in one sentence, for confirmation pages.
    static func sentence(_ simulation: PolicySimulation) -> String {
        if simulation.affectedUsers.isEmpty { return "Nobody's sign-in changes." }
        var parts = ["\(simulation.affectedUsers.count) people's rules change"]
        if !simulation.sessionsEnding.isEmpty { parts.append("\(simulation.sessionsEnding.count) sessions end") }
        if !simulation.adminsLosingAccess.isEmpty { parts.append("\(simulation.adminsLosingAccess.count) admins lose access") }
        if simulation.leavesNoOrgAdminAbleToSignIn { parts.append("no org-admin could sign in afterwards, so it will be refused") }
        return parts.joined(separator: "; ") + "."
    }
}
