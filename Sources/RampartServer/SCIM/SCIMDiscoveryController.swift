import Hummingbird
import RampartCore
import RampartSCIM

/// `ServiceProviderConfig`, `ResourceTypes` and `Schemas` (RFC 7644 §4). Public, as the RFC
/// allows, so that an identity provider can test its connection before it has a token.
struct SCIMDiscoveryController: Sendable {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("ServiceProviderConfig") { _, _ in SCIMHTTP.response(serviceProviderConfig) }
        group.get("ResourceTypes") { _, _ in
            let types = [SCIMResourceType.user, .group].map { $0.json(location: base) }
            return SCIMHTTP.response(SCIMRenderer.listResponse(types, total: types.count, startIndex: 1))
        }
        group.get("ResourceTypes/{name}") { _, context in
            guard let type = [SCIMResourceType.user, .group].first(where: { $0.name == context.parameters.get("name") }) else {
                return SCIMHTTP.error(.notFound("No such resource type."))
            }
            return SCIMHTTP.response(type.json(location: base))
        }
        group.get("Schemas") { _, _ in
            let schemas = Self.schemas.map { $0.json(location: base) }
            return SCIMHTTP.response(SCIMRenderer.listResponse(schemas, total: schemas.count, startIndex: 1))
        }
        group.get("Schemas/{id}") { _, context in
            guard let schema = Self.schemas.first(where: { $0.id == context.parameters.get("id") }) else {
                return SCIMHTTP.error(.notFound("No such schema."))
            }
            return SCIMHTTP.response(schema.json(location: base))
        }
        // Discovery is read-only: other methods answer 405 with `Allow` (RFC 7644 §4).
        for path in ["ServiceProviderConfig", "ResourceTypes", "ResourceTypes/{name}", "Schemas", "Schemas/{id}"] {
            for method: HTTPRequest.Method in [.post, .put, .patch, .delete] {
                group.on(RouterPath(path), method: method) { _, _ in
                    var response = SCIMHTTP.error(SCIMError(status: 405, nil, "Discovery endpoints answer GET only."))
                    response.headers[.allow] = "GET"
                    return response
                }
            }
        }
    }

    static let schemas: [SCIMSchema] = [.user, .enterpriseUser, .entraUser, .group, .entraGroup]

    var base: String { SCIMHTTP.base(services) }

    var serviceProviderConfig: JSONValue {
        .object([
            "schemas": .array([.string("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")]),
            "documentationUri": .string(services.configuration.publicURL + "/docs/scim"),
            "patch": .object(["supported": .bool(true)]),
            "bulk": .object(["supported": .bool(false), "maxOperations": .int(0), "maxPayloadSize": .int(0)]),
            "filter": .object(["supported": .bool(true), "maxResults": .int(Int64(SCIMQuery.maximumCount))]),
            "changePassword": .object(["supported": .bool(false)]),
            "sort": .object(["supported": .bool(true)]),
            "etag": .object(["supported": .bool(true)]),
            "authenticationSchemes": .array([.object([
                "type": .string("oauthbearertoken"), "name": .string("SCIM token"), "primary": .bool(true),
                "description": .string("A per-organisation SCIM token created in the console, the API or the CLI, sent as 'Authorization: Bearer <token>'."),
            ])]),
            "meta": .object(["resourceType": .string("ServiceProviderConfig"),
                             "location": .string(base + "/ServiceProviderConfig")]),
        ])
    }
}
