import Foundation
import Hummingbird
import RampartAuthn
import RampartCore
import RampartStorage

/// `POST /authentication-policies/simulate`: who a proposed policy, or a change to an
/// existing one, would affect, before anything is enforced. It reads and changes nothing,
/// so those who may read policies may simulate them.
struct PolicySimulationController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [APIRoute(.post, "/authentication-policies/simulate", simulate)]
    }

    struct SimulateRequest: StrictBody {
        let policyId: String?
        let settings: JSONValue?
        let assignTo: JSONValue?
        let unassignFrom: JSONValue?
        static let fields: Set<String> = ["policyId", "settings", "assignTo", "unassignFrom"]
    }

    @Sendable func simulate(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(SimulateRequest.self, from: request)
        let assign = try PolicyTargetsInput.parse(body.assignTo, field: "assignTo")
        let unassign = try PolicyTargetsInput.parse(body.unassignFrom, field: "unassignFrom")
        guard body.settings != nil || !assign.isEmpty || !unassign.isEmpty else {
            throw RampartError(.invalidField, "Nothing to simulate: give settings, assignTo or unassignFrom.")
        }
        let now = Timestamp.now()
        let simulation = try await read(context, AuthenticationPoliciesController.Access.read) { tenant in
            let changes = try await PolicyProposal(policyID: body.policyId, settings: body.settings, assignTo: assign,
                                                   unassignFrom: unassign).changes(in: tenant)
            return try await tenant.simulate(changes, now: now)
        }
        return try JSON.response(SimulationBody(simulation, at: now))
    }
}

/// A proposal as the API and the console state it, turned into the steps the simulation
/// applies: a new policy (no `policyID`) or new settings for an existing one, then
/// assignments made and removed.
struct PolicyProposal: Sendable {
    /// The id a proposed policy carries while it is simulated; never stored.
    static let proposedID = "proposed"

    var policyID: String?
    var settings: JSONValue?
    var assignTo: [PolicyAssignmentTarget]
    var unassignFrom: [PolicyAssignmentTarget]

    func changes(in tenant: Tenant) async throws -> [PolicyChange] {
        var changes = [PolicyChange]()
        let target: AuthenticationPolicy
        if let policyID {
            guard policyID == Tenant.builtInDefaultPolicyID || Identifier.canonical(policyID) != nil else {
                throw RampartError.invalidField("policyId", "must be a policy id or \"default\"")
            }
            target = try await tenant.requirePolicy(Identifier.canonical(policyID) ?? policyID)
            if settings != nil {
                changes.append(.settings(policyID: target.id, try PolicySettingsInput.apply(settings, to: target.settings)))
            }
        } else {
            target = AuthenticationPolicy(id: Self.proposedID, name: "Proposed", isDefault: false,
                                          settings: try PolicySettingsInput.apply(settings, to: .standard))
            if let problem = target.settings.problems.first { throw RampartError(.invalidField, "Policy settings: \(problem).") }
            changes.append(.add(target))
        }
        if target.isDefault && !assignTo.isEmpty {
            throw RampartError.invalidField("assignTo", "cannot name people or groups for the default policy, which applies without assignment")
        }
        for assignment in assignTo {
            try await Self.requireExists(assignment, in: tenant)
            changes.append(.assign(policyID: target.id, assignment))
        }
        for assignment in unassignFrom {
            try await Self.requireExists(assignment, in: tenant)
            changes.append(.assign(policyID: nil, assignment))
        }
        return changes
    }

    private static func requireExists(_ target: PolicyAssignmentTarget, in tenant: Tenant) async throws {
        switch target {
        case .user(let id): _ = try await tenant.requireUser(id)
        case .group(let id): _ = try await tenant.requireGroup(id)
        }
    }
}

/// `[{"type": "user" | "group", "id": UUID}]`, at most 1,000 of them.
enum PolicyTargetsInput {
    static func parse(_ value: JSONValue?, field: String) throws -> [PolicyAssignmentTarget] {
        guard let value, value != .null else { return [] }
        guard case .array(let items) = value, items.count <= 1_000 else {
            throw RampartError.invalidField(field, "must be a list of at most 1000 {\"type\", \"id\"} objects")
        }
        return try items.enumerated().map { index, item in
            guard case .object(let object) = item, Set(object.keys) == ["type", "id"],
                  case .string(let type)? = object["type"], case .string(let rawID)? = object["id"],
                  let id = Identifier.canonical(rawID) else {
                throw RampartError.invalidField("\(field)[\(index)]", "must be {\"type\": \"user\" or \"group\", \"id\": a UUID}")
            }
            switch type {
            case "user": return .user(id)
            case "group": return .group(id)
            default: throw RampartError.invalidField("\(field)[\(index)].type", "must be \"user\" or \"group\"")
            }
        }
    }
}

/// The simulation as the API shows it.
struct SimulationBody: Encodable, Sendable {
    let evaluatedAt: Timestamp
    let windowDays: Int
    let affectedUsers: [PolicySimulation.PersonRef]
    let blockedByIpAllowlist: [PolicySimulation.BlockedAddresses]
    let usersWithoutMfa: [PolicySimulation.MissingFactor]
    let sessionsEnding: [PolicySimulation.EndingSession]
    let adminsLosingAccess: [PolicySimulation.AdminLosingAccess]
    let leavesNoOrgAdminAbleToSignIn: Bool

    init(_ simulation: PolicySimulation, at now: Timestamp) {
        evaluatedAt = now
        windowDays = Tenant.simulationWindowDays
        affectedUsers = simulation.affectedUsers
        blockedByIpAllowlist = simulation.blockedByIpAllowlist
        usersWithoutMfa = simulation.usersWithoutMfa
        sessionsEnding = simulation.sessionsEnding
        adminsLosingAccess = simulation.adminsLosingAccess
        leavesNoOrgAdminAbleToSignIn = simulation.leavesNoOrgAdminAbleToSignIn
    }
}
