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
