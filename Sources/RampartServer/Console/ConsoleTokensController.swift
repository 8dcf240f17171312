import Hummingbird
import RampartCore
import RampartStorage

struct ConsoleTokensController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("api-tokens", use: list)
        group.post("api-tokens", use: create)
        group.get("api-tokens/{id}/revoke", use: confirmRevoke)
        group.post("api-tokens/{id}/revoke", use: revoke)
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await listPage(request, context, created: nil, error: nil, form: [:])
    }

    /// The secret of a new token appears on this one response and never again.
    private func listPage(_ request: Request, _ context: RampartRequestContext, created: String?, error: String?,
                          form: [String: String], status: HTTPResponse.Status = .ok) async throws -> Response {
        let after = request.uri.queryParameters.get("cursor").flatMap(Identifier.canonical)
        let page = try await read(context, .readTokens) { try await $0.apiTokens(page: PageRequest(after: after, limit: 50)) }
        let roles = Role.allCases.map { ["value": $0.rawValue, "selected": form["role"] == $0.rawValue] }
        return ConsoleRenderer.page("tokens", ConsolePage.values(context, title: "API tokens", active: "tokens", extra: [
            "tokens": page.items.map(ConsolePage.token), "nextCursor": page.nextCursor ?? "",
            "hasNext": page.nextCursor != nil, "created": created ?? "", "hasCreated": created != nil,
            "error": error ?? "", "hasError": error != nil, "roleOptions": roles, "formName": form["name"] ?? "",
        ].merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context)
        do {
            guard let role = Role(rawValue: form["role"]) else {
                throw RampartError.invalidField("role", "must be one of org-admin, user-admin, auditor")
            }
            var expiresAt: Timestamp?
            if let days = Int(form["expires_in_days"]), days > 0 {
                expiresAt = Timestamp.now().adding(days: min(days, APIToken.maximumLifetimeDays))
            } else if !form["expires_in_days"].isEmpty {
                throw RampartError.invalidField("expires_in_days", "must be a whole number of days")
            }
            let expiry = expiresAt
            let (_, secret) = try await write(request, context, .manageTokens) {
                try await $0.createAPIToken(name: form["name"], role: role, expiresAt: expiry, by: $1)
            }
            return try await listPage(request, context, created: secret, error: nil, form: [:], status: .created)
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, created: nil, error: error.message, form: form.fields,
                                      status: error.httpStatus)
        }
    }

    @Sendable func confirmRevoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let token = try await read(context, .manageTokens) { try await $0.requireAPIToken(id) }
        return ConsoleConfirmation(
            question: "Revoke API token ‘\(token.name)’?",
            consequence: "The next request that presents it is refused. A revoked token cannot be restored; "
                + "whatever uses it needs a new one.",
            action: "/console/api-tokens/\(token.id)/revoke", button: "Revoke", cancel: "/console/api-tokens"
        ).page(context, active: "tokens")
    }

    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        try await write(request, context, .manageTokens) { try await $0.revokeAPIToken(id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.tokenRevoked.after("/console/api-tokens"))
    }
}
