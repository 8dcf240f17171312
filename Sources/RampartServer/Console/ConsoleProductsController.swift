import Hummingbird
import RampartCore
import RampartStorage

struct ConsoleProductsController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("products", use: list)
        group.post("products", use: create)
        group.get("products/{id}", use: show)
        group.post("products/{id}/access", use: grant)
        group.get("products/{id}/access/{groupId}/revoke", use: confirmRevoke)
        group.post("products/{id}/access/{groupId}/revoke", use: revoke)
        group.post("products/{id}/ingestion-keys", use: createIngestionKey)
        group.post("products/{id}/ingestion-keys/{keyId}/revoke", use: revokeIngestionKey)
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await listPage(request, context, form: [:])
    }

    private func listPage(_ request: Request, _ context: RampartRequestContext, form: [String: String],
                          error: RampartError? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let after = request.uri.queryParameters.get("cursor").flatMap(Identifier.canonical)
        let page = try await read(context, .readDirectory) { try await $0.products(page: PageRequest(after: after, limit: 50)) }
        let kinds = ProductKind.allCases.map { ["value": $0.rawValue, "selected": form["kind"] == $0.rawValue] }
        return ConsoleRenderer.page("products", ConsolePage.values(context, title: "Products", active: "products", extra: [
            "products": page.items.map(ConsolePage.product), "nextCursor": page.nextCursor ?? "",
            "hasNext": page.nextCursor != nil, "kinds": kinds,
        ].merging(ConsoleFormField.values(ConsoleFormField.product, typed: form, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context)
        do {
            guard let kind = ProductKind(rawValue: form["kind"]) else {
                throw RampartError.invalidField("kind", "must be one of \(ProductKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let product = try await write(request, context, .manageDirectory) {
                try await $0.createProduct(name: form["name"], kind: kind, url: form["url"], by: $1)
            }
            return ConsoleRenderer.redirect(ConsoleNotice.productCreated.after("/console/products/\(product.id)"))
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await page(request, context)
    }

    /// The product's page; `createdKey` is a new ingestion key's secret, shown this once.
    private func page(_ request: Request, _ context: RampartRequestContext, createdKey: String? = nil,
                      form: [String: String] = [:], error: RampartError? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let id = try context.id()
        let showKeys = context.principal?.can(.readTokens) ?? false
        let (product, access, groups, clients, keys) = try await read(context, .readDirectory) { tenant in
            let product = try await tenant.requireProduct(id)
            return (product, try await tenant.productAccess(product.id), try await tenant.groups(page: PageRequest(limit: 200)).items,
                    try await tenant.oauthClients().filter { $0.productID == product.id },
                    showKeys ? try await tenant.ingestionKeys(product: product.id) : [])
        }
        let granted = Set(access.map(\.id))
        let keyRows = keys.map {
            ConsolePage.credential(id: $0.id, name: $0.name, createdAt: $0.createdAt, lastUsedAt: $0.lastUsedAt, revokedAt: $0.revokedAt)
        }
        return ConsoleRenderer.page("product", ConsolePage.values(context, title: product.name, active: "products", extra: [
            "product": ConsolePage.product(product), "access": access.map(ConsolePage.group), "hasAccess": !access.isEmpty,
            "grantable": groups.filter { !granted.contains($0.id) }.map(ConsolePage.group),
            "oauthClients": clients.map { ConsoleOAuthClientsController.values($0, productName: product.name) },
            "hasOAuthClients": !clients.isEmpty,
            "ingestionKeys": keyRows, "hasIngestionKeys": !keys.isEmpty,
            "createdKey": createdKey ?? "", "hasCreatedKey": createdKey != nil,
        ].merging(ConsoleFormField.values(ConsoleFormField.ingestionKey, typed: form, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    @Sendable func createIngestionKey(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context)
        do {
            let (_, secret) = try await write(request, context, .manageTokens) {
                try await $0.createIngestionKey(product: id, name: form["name"], by: $1)
            }
            return try await page(request, context, createdKey: secret, status: .created)
        } catch let error as RampartError where isFormError(error) {
            return try await page(request, context, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    @Sendable func revokeIngestionKey(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let keyID = try context.id("keyId")
        _ = try await form(request, context)
        _ = try await write(request, context, .manageTokens) { tenant, audit in
            guard try await tenant.requireIngestionKey(keyID).productID == id else { throw RampartError.notFound("Ingestion key") }
            return try await tenant.revokeIngestionKey(keyID, by: audit)
        }
        return ConsoleRenderer.redirect("/console/products/\(id)")
    }

    @Sendable func grant(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context, requiring: .manageDirectory)
        guard let groupID = Identifier.canonical(form["group_id"]) else {
            throw RampartError.invalidField("group_id", "must name a group")
        }
        _ = try await write(request, context, .manageDirectory) { try await $0.grantProductAccess(id, to: groupID, by: $1) }
        return ConsoleRenderer.redirect("/console/products/\(id)")
    }

    @Sendable func confirmRevoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let groupID = try context.id("groupId")
        let (product, group) = try await read(context, .manageDirectory) {
            (try await $0.requireProduct(id), try await $0.requireGroup(groupID))
        }
        return ConsoleConfirmation(
            question: "Take \(product.name) away from \(group.name)?",
            consequence: "Members of \(group.name) can no longer use \(product.name), unless another of their groups gives it.",
            action: "/console/products/\(product.id)/access/\(group.id)/revoke", button: "Revoke access",
            cancel: "/console/products/\(product.id)"
        ).page(context, active: "products")
    }

    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let groupID = try context.id("groupId")
        _ = try await form(request, context)
        _ = try await write(request, context, .manageDirectory) { try await $0.revokeProductAccess(id, from: groupID, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.accessRevoked.after("/console/products/\(id)"))
    }
}
