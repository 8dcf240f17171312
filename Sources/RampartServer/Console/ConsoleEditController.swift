import Hummingbird
import RampartCore
import RampartStorage

/// Editing a user, a group, a product or a saved filter of the audit log in the console: one
/// form each, through the same storage calls, permissions and audit events as
/// `PATCH /users|groups|products|audit-filters/{id}` and `rampart … update`. A refused value
/// comes back beside its field, with the form as it was typed.
struct ConsoleEditController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("users/{id}/edit", use: showUser)
        group.post("users/{id}/edit", use: saveUser)
        group.get("groups/{id}/edit", use: showGroup)
        group.post("groups/{id}/edit", use: saveGroup)
        group.get("products/{id}/edit", use: showProduct)
        group.post("products/{id}/edit", use: saveProduct)
        group.get("audit/filters/{id}/edit", use: showAuditFilter)
        group.post("audit/filters/{id}/edit", use: saveAuditFilter)
    }

    // MARK: Users

    @Sendable func showUser(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let user = try await read(context, .manageDirectory) { try await $0.requireUser(id) }
        return page(context, title: "Edit \(user.email)", active: "users", fields: ConsoleFormField.user,
                    values: ["email": user.email, "display_name": user.displayName], path: "/console/users/\(id)")
    }

    @Sendable func saveUser(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context)
        return try await save(context, fields: ConsoleFormField.user, form: form, path: "/console/users/\(id)", active: "users") {
            try await writeAccount(request, context, .manageDirectory, account: id) {
                _ = try await $0.updateUser(id, email: form["email"], displayName: form["display_name"], by: $1)
            }
        }
    }

    // MARK: Groups

    @Sendable func showGroup(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let group = try await read(context, .manageDirectory) { try await $0.requireGroup(id) }
        return page(context, title: "Edit \(group.name)", active: "groups", fields: ConsoleFormField.group,
                    values: ["name": group.name, "description": group.description], path: "/console/groups/\(id)")
    }

    @Sendable func saveGroup(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context)
        return try await save(context, fields: ConsoleFormField.group, form: form, path: "/console/groups/\(id)", active: "groups") {
            try await write(request, context, .manageDirectory) {
                _ = try await $0.updateGroup(id, name: form["name"], description: form["description"], by: $1)
            }
        }
    }

    // MARK: Products

    @Sendable func showProduct(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let product = try await read(context, .manageDirectory) { try await $0.requireProduct(id) }
        return page(context, title: "Edit \(product.name)", active: "products", fields: ConsoleFormField.product,
                    values: ["name": product.name, "url": product.url], path: "/console/products/\(id)")
    }

    @Sendable func saveProduct(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context)
        return try await save(context, fields: ConsoleFormField.product, form: form, path: "/console/products/\(id)",
                              active: "products") {
            try await write(request, context, .manageDirectory) {
                _ = try await $0.updateProduct(id, name: form["name"], kind: nil, url: form["url"], by: $1)
            }
        }
    }

    // MARK: Saved filters of the audit log

    /// Its name and its view as the audit page's filters show them; a field emptied clears it.
    @Sendable func showAuditFilter(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let filter = try await read(context, .readAuditLog) { try await $0.requireAuditFilter(id) }
        var values = Dictionary(uniqueKeysWithValues: filter.view.parameters.map { ($0.name, $0.value) })
        values["name"] = filter.name
        return page(context, title: "Edit the saved filter \(filter.name)", active: "audit", fields: ConsoleFormField.auditFilter,
                    values: values, path: "/console/audit/filters/\(id)", back: "/console/audit")
    }

    @Sendable func saveAuditFilter(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context, requiring: .readAuditLog)
        return try await save(context, fields: ConsoleFormField.auditFilter, form: form, path: "/console/audit/filters/\(id)",
                              back: "/console/audit", active: "audit") {
            let change = try Self.auditFilterChange(form)
            try await write(request, context, .readAuditLog) { _ = try await $0.updateAuditFilter(id, change, by: $1) }
        }
    }

    /// The form sends every field, so each takes the filter's place; a time that is not
    /// RFC 3339 is refused beside its field.
    static func auditFilterChange(_ form: ConsoleForm) throws -> AuditSavedFilter.Change {
        func time(_ name: String) throws -> Timestamp?? {
            let text = form[name].trimmingCharacters(in: .whitespaces)
            return .some(text.isEmpty ? nil : try Validate.time(text, field: name))
        }
        return AuditSavedFilter.Change(name: form["name"], q: .some(form["q"]), action: .some(form["action"]),
                                       actor: .some(form["actor"]), target: .some(form["target"]),
                                       since: try time("since"), until: try time("until"))
    }

    // MARK: The form

    /// Runs the change; a refusal the person can fix comes back beside the field it names.
    /// `back` is the page that shows the thing (its own `path` unless it has none).
    private func save(_ context: RampartRequestContext, fields: [ConsoleFormField], form: ConsoleForm, path: String,
                      back: String? = nil, active: String, _ change: () async throws -> Void) async throws -> Response {
        do {
            try await change()
            return ConsoleRenderer.redirect(ConsoleNotice.updated.after(back ?? path))
        } catch let error as RampartError where isFormError(error) {
            return page(context, title: "Edit", active: active, fields: fields, values: form.fields, path: path, back: back,
                        error: error, status: error.httpStatus)
        }
    }

    private func page(_ context: RampartRequestContext, title: String, active: String, fields: [ConsoleFormField], values: [String: String],
                      path: String, back: String? = nil, error: RampartError? = nil, status: HTTPResponse.Status = .ok) -> Response {
        ConsoleRenderer.page("edit", ConsolePage.values(context, title: title, active: active, extra: [
            "heading": title, "action": path + "/edit", "cancel": back ?? path,
        ].merging(ConsoleFormField.values(fields, typed: values, error: error)) { $1 }), status: status)
    }
}
