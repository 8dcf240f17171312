import Hummingbird
import RampartCore
import RampartSCIM
import RampartStorage

/// `/scim/v2/Users`.
struct SCIMUsersController: SCIMResourceEndpoints {
    let services: RampartServices
    let call: SCIMCall

    static let resourceType = SCIMResourceType.user

    func listing(_ tenant: Tenant, _ query: SCIMQuery) async throws -> Response {
        let base = self.base
        let records: [SCIMUserRecord]
        // The lookups identity providers make before every create are answered from an index.
        if let lookup = query.filter?.equalityLookup, lookup.path.schema == nil || lookup.path.schema == SCIMSchema.userID {
            if lookup.path.names("userName") { records = try await tenant.scimUsers(userName: lookup.value) }
            else if lookup.path.names("externalId") { records = try await tenant.scimUsers(externalId: lookup.value) }
            else if lookup.path.names("id") { records = try await tenant.scimUser(lookup.value).map { [$0] } ?? [] }
            else { records = try await tenant.allSCIMUsers() }
        } else if query.filter == nil, query.sortBy == nil {
            let (items, total) = try await tenant.scimUserPage(offset: query.startIndex - 1, limit: query.count)
            let resources = items.map { query.projection.apply(SCIMRenderer.user($0, base: base), .user) }
            return SCIMHTTP.response(SCIMRenderer.listResponse(resources, total: Int(total), startIndex: query.startIndex))
        } else {
            records = try await tenant.allSCIMUsers()
        }
        return SCIMHTTP.response(try query.page(records.map { SCIMRenderer.user($0, base: base) }, .user))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let base = self.base
        return await call.handle(request, context, resourceType: typeName, resourceID: nil, write: true) { tenant, audit in
            let input = try SCIMUserInput.parse(try await SCIMHTTP.body(request))
            let record = try await tenant.createSCIMUser(SCIMRenderer.fields(input), by: audit)
            let resource = SCIMRenderer.user(record, base: base)
            var response = SCIMHTTP.response(resource, status: .created, etag: SCIMHTTP.etag(resource))
            response.headers[.location] = base + "/Users/" + record.user.id
            return (response, record.user.id)
        }
    }

    @Sendable func replace(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let base = self.base
        return await call.handle(request, context, resourceType: typeName, resourceID: id, write: true) { tenant, audit in
            let body = try await SCIMHTTP.body(request)
            let existing = try await current(tenant, id, base)
            try SCIMHTTP.checkIfMatch(request, SCIMHTTP.etag(existing))
            let input = try SCIMUserInput.parse(body)
            return (try await save(tenant, id, input, audit, base), nil)
        }
    }

    @Sendable func patch(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let base = self.base
        return await call.handle(request, context, resourceType: typeName, resourceID: id, write: true) { tenant, audit in
            let patch = try SCIMPatchRequest.parse(try await SCIMHTTP.body(request))
            let existing = try await current(tenant, id, base)
            try SCIMHTTP.checkIfMatch(request, SCIMHTTP.etag(existing))
            let patched = try SCIMPatcher(.user).apply(patch, to: existing)
            return (try await save(tenant, id, try SCIMUserInput.parse(patched), audit, base), nil)
        }
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let base = self.base
        return await call.handle(request, context, resourceType: typeName, resourceID: id, write: true) { tenant, audit in
            let existing = try await current(tenant, id, base)
            try SCIMHTTP.checkIfMatch(request, SCIMHTTP.etag(existing))
            try await tenant.deleteSCIMUser(id, by: audit)
            return (Response(status: .noContent), nil)
        }
    }

    func current(_ tenant: Tenant, _ id: String, _ base: String) async throws -> JSONValue {
        guard let record = try await tenant.scimUser(id) else { throw SCIMError.notFound("User \(id.prefix(64)) not found.") }
        return SCIMRenderer.user(record, base: base, groups: try await tenant.groupsOf(user: record.user.id))
    }

    private func save(_ tenant: Tenant, _ id: String, _ input: SCIMUserInput, _ audit: AuditContext, _ base: String)
        async throws -> Response
    {
        let record = try await tenant.replaceSCIMUser(id, SCIMRenderer.fields(input), by: audit)
        let resource = SCIMRenderer.user(record, base: base, groups: try await tenant.groupsOf(user: record.user.id))
        return SCIMHTTP.response(resource, etag: SCIMHTTP.etag(resource))
    }
}
