import Hummingbird
import RampartCore
import RampartSCIM
import RampartStorage

/// `/scim/v2/Groups`. Membership changes take effect at once: product access follows groups.
struct SCIMGroupsController: SCIMResourceEndpoints {
    let services: RampartServices
    let call: SCIMCall

    static let resourceType = SCIMResourceType.group

    func listing(_ tenant: Tenant, _ query: SCIMQuery) async throws -> Response {
        let base = self.base
        // Members are read only when they will be returned or filtered on.
        let members = query.projection.wants("members") || query.filter.map(Self.mentionsMembers) == true
        let records: [SCIMGroupRecord]
        if let lookup = query.filter?.equalityLookup, lookup.path.schema == nil || lookup.path.schema == SCIMSchema.groupID {
            if lookup.path.names("displayName") { records = try await tenant.scimGroups(displayName: lookup.value, members: members) }
            else if lookup.path.names("externalId") { records = try await tenant.scimGroups(externalId: lookup.value, members: members) }
            else if lookup.path.names("id") { records = try await tenant.scimGroup(lookup.value, members: members).map { [$0] } ?? [] }
            else { records = try await tenant.allSCIMGroups(members: members) }
        } else if query.filter == nil, query.sortBy == nil {
            let (items, total) = try await tenant.scimGroupPage(offset: query.startIndex - 1, limit: query.count, members: members)
            let resources = items.map { query.projection.apply(SCIMRenderer.group($0, base: base), .group) }
            return SCIMHTTP.response(SCIMRenderer.listResponse(resources, total: Int(total), startIndex: query.startIndex))
        } else {
            records = try await tenant.allSCIMGroups(members: members)
        }
        return SCIMHTTP.response(try query.page(records.map { SCIMRenderer.group($0, base: base) }, .group))
    }

    static func mentionsMembers(_ filter: SCIMFilter) -> Bool {
        switch filter {
        case .compare(let path, _, _), .present(let path), .valuePath(let path, _): return path.names("members")
        case .and(let a, let b), .or(let a, let b): return mentionsMembers(a) || mentionsMembers(b)
        case .not(let inner): return mentionsMembers(inner)
        }
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let base = self.base
        return await call.handle(request, context, resourceType: typeName, resourceID: nil, write: true) { tenant, audit in
            let input = try SCIMGroupInput.parse(try await SCIMHTTP.body(request))
            let record = try await tenant.createSCIMGroup(displayName: input.displayName, externalId: input.externalId,
                                                          memberIDs: input.memberIDs, attributesJSON: input.attributesJSON, by: audit)
            let resource = SCIMRenderer.group(record, base: base)
            var response = SCIMHTTP.response(resource, status: .created, etag: SCIMHTTP.etag(resource))
            response.headers[.location] = base + "/Groups/" + record.group.id
            return (response, record.group.id)
        }
    }

    @Sendable func replace(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let base = self.base
        return await call.handle(request, context, resourceType: typeName, resourceID: id, write: true) { tenant, audit in
            let body = try await SCIMHTTP.body(request)
            let existing = try await current(tenant, id, base)
            try SCIMHTTP.checkIfMatch(request, SCIMHTTP.etag(existing))
            let input = try SCIMGroupInput.parse(body)
            let record = try await tenant.replaceSCIMGroup(id, displayName: input.displayName, externalId: input.externalId,
                                                           memberIDs: input.memberIDs, attributesJSON: input.attributesJSON, by: audit)
            let resource = SCIMRenderer.group(record, base: base)
            return (SCIMHTTP.response(resource, etag: SCIMHTTP.etag(resource)), nil)
        }
    }

    @Sendable func patch(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let base = self.base
        return await call.handle(request, context, resourceType: typeName, resourceID: id, write: true) { tenant, audit in
            let patch = try SCIMPatchRequest.parse(try await SCIMHTTP.body(request))
            if request.headers[.ifMatch] == nil, let change = SCIMMemberChange(patch) {
                // Members alone: applied as a difference, without reading or rewriting the whole group.
                try await tenant.changeSCIMGroupMembers(id, adding: change.adding, removing: change.removing, by: audit)
            } else {
                let existing = try await current(tenant, id, base)
                try SCIMHTTP.checkIfMatch(request, SCIMHTTP.etag(existing))
                let input = try SCIMGroupInput.parse(try SCIMPatcher(.group).apply(patch, to: existing))
                _ = try await tenant.replaceSCIMGroup(id, displayName: input.displayName, externalId: input.externalId,
                                                      memberIDs: input.memberIDs, attributesJSON: input.attributesJSON, by: audit)
            }
            // `excludedAttributes=members` spares a large group's member list, read and written; the
            // ETag, which covers the members, is then left out rather than computed.
            let projection = try request.scimProjection
            guard projection.wants("members") else {
                guard let record = try await tenant.scimGroup(id, members: false) else { throw SCIMError.notFound("Group not found.") }
                return (SCIMHTTP.response(projection.apply(SCIMRenderer.group(record, base: base), .group)), nil)
            }
            let resource = try await current(tenant, id, base)
            return (SCIMHTTP.response(projection.apply(resource, .group), etag: SCIMHTTP.etag(resource)), nil)
        }
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let base = self.base
        return await call.handle(request, context, resourceType: typeName, resourceID: id, write: true) { tenant, audit in
            if request.headers[.ifMatch] != nil {
                try SCIMHTTP.checkIfMatch(request, SCIMHTTP.etag(try await current(tenant, id, base)))
            }
            try await tenant.deleteSCIMGroup(id, by: audit)
            return (Response(status: .noContent), nil)
        }
    }

    func current(_ tenant: Tenant, _ id: String, _ base: String) async throws -> JSONValue {
        guard let record = try await tenant.scimGroup(id) else { throw SCIMError.notFound("Group \(id.prefix(64)) not found.") }
        return SCIMRenderer.group(record, base: base)
    }
}

/// A PATCH that only adds or removes members, in the forms Okta and Entra ID send:
/// `add members [..]`, `remove members [..]` and `remove members[value eq "id"]`.
struct SCIMMemberChange {
    var adding: [String] = []
    var removing: [String] = []

    init?(_ patch: SCIMPatchRequest) {
        for operation in patch.operations {
            guard let path = operation.path, path.attribute.names("members"), path.attribute.schema == nil,
                  path.attribute.subAttribute == nil, path.filteredSubAttribute == nil else { return nil }
            switch (operation.op, path.filter) {
            case (.add, nil):
                guard let ids = try? SCIMGroupInput.memberIDs(operation.value) else { return nil }
                adding += ids
            case (.remove, nil):
                guard case .array? = operation.value, let ids = try? SCIMGroupInput.memberIDs(operation.value) else { return nil }
                removing += ids
            case (.remove, .compare(let p, .eq, .string(let id))?) where p.names("value") && p.subAttribute == nil:
                removing.append(id)
            default:
                return nil
            }
        }
        // Adding and removing one member in one request depends on their order: the general path keeps it.
        guard Set(adding).isDisjoint(with: removing) else { return nil }
    }
}
