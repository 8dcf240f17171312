import Hummingbird
import RampartCore
import RampartStorage

/// SCIM provisioning in the console: the base URL and tokens for the identity provider, what
/// DELETE does, and the provisioning log that shows why a user did not arrive.
struct ConsoleSCIMController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("scim", use: show)
        group.post("scim/tokens", use: createToken)
        group.post("scim/tokens/{id}/revoke", use: revokeToken)
        group.post("scim/settings", use: updateSettings)
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await page(request, context, created: nil, error: nil)
    }

    private func page(_ request: Request, _ context: RampartRequestContext, created: String?, error: String?,
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let query = request.uri.queryParameters
        let failedOnly = query.get("failed") == "true"
        let requested = query.get("resourceType")
        let resourceType: String? = requested == "User" || requested == "Group" ? requested : nil
        let filter = SCIMRequestFilter(failedOnly: failedOnly, resourceType: resourceType)
        let view = try await read(context, .readAuditLog) { tenant in
            SCIMConsoleView(tokens: try await tenant.scimTokens(), mode: try await tenant.scimDeleteMode(),
                            entries: try await tenant.scimRequests(filter))
        }
        var names: [String: String] = [:]
        for token in view.tokens { names[token.id] = token.name }
        let tokens = view.tokens.map {
            ConsolePage.credential(id: $0.id, name: $0.name, createdAt: $0.createdAt, lastUsedAt: $0.lastUsedAt, revokedAt: $0.revokedAt)
        }
        var requests: [[String: Any]] = []
        for e in view.entries {
            let token: String = e.tokenID.flatMap { names[$0] } ?? ""
            requests.append(["time": ConsolePage.time(e.occurredAt), "token": token, "method": e.method, "path": e.path,
                             "resourceType": e.resourceType, "resourceId": e.resourceID ?? "", "status": e.status,
                             "failed": e.status >= 400, "scimType": e.scimType ?? "", "detail": e.detail ?? ""])
        }
        let extra: [String: Any] = [
            "baseURL": SCIMHTTP.base(services), "tokens": tokens, "requests": requests,
            "created": created ?? "", "hasCreated": created != nil, "error": error ?? "", "hasError": error != nil,
            "deactivateSelected": view.mode == .deactivate, "deleteSelected": view.mode == .delete,
            "failedOnly": failedOnly, "typeUser": resourceType == "User", "typeGroup": resourceType == "Group",
        ]
        return ConsoleRenderer.page("scim", ConsolePage.values(context, title: "SCIM provisioning", active: "scim", extra: extra),
                                    status: status)
    }

    @Sendable func createToken(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context)
        do {
            let (_, secret) = try await write(request, context, .manageTokens) {
                try await $0.createSCIMToken(name: form["name"], by: $1)
            }
            return try await page(request, context, created: secret, error: nil, status: .created)
        } catch let error as RampartError where isFormError(error) {
            return try await page(request, context, created: nil, error: error.message, status: error.httpStatus)
        }
    }

    @Sendable func revokeToken(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        try await write(request, context, .manageTokens) { try await $0.revokeSCIMToken(id, by: $1) }
        return ConsoleRenderer.redirect("/console/scim")
    }

    @Sendable func updateSettings(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context)
        guard let mode = SCIMDeleteMode(rawValue: form["delete_mode"]) else {
            return try await page(request, context, created: nil, error: "Choose what DELETE does: deactivate or delete.",
                                  status: .badRequest)
        }
        try await write(request, context, .manageTokens) { try await $0.setSCIMDeleteMode(mode, by: $1) }
        return ConsoleRenderer.redirect("/console/scim")
    }
}

/// What the SCIM page reads in one transaction.
private struct SCIMConsoleView: Sendable {
    let tokens: [SCIMToken]
    let mode: SCIMDeleteMode
    let entries: [SCIMRequestEntry]
}
