import Hummingbird
import RampartCore
import RampartSCIM
import RampartStorage

/// What `/Users` and `/Groups` share: their routes, listing and `.search`, and reading one
/// resource with its ETag and projection. Each controller supplies how its resources are
/// found, created, replaced, patched and deleted.
protocol SCIMResourceEndpoints: Sendable {
    var services: RampartServices { get }
    var call: SCIMCall { get }
    /// Its endpoint (`/Users`), and its name in the provisioning log (`User`).
    static var resourceType: SCIMResourceType { get }

    func listing(_ tenant: Tenant, _ query: SCIMQuery) async throws -> Response
    /// The resource as it is now, or `SCIMError.notFound`.
    func current(_ tenant: Tenant, _ id: String, _ base: String) async throws -> JSONValue
    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response
    @Sendable func replace(_ request: Request, context: RampartRequestContext) async throws -> Response
    @Sendable func patch(_ request: Request, context: RampartRequestContext) async throws -> Response
    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response
}

extension SCIMResourceEndpoints {
    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        let endpoint = String(Self.resourceType.endpoint.dropFirst())
        let path = RouterPath(stringLiteral: endpoint)
        group.get(path, use: list)
        group.post(RouterPath(stringLiteral: endpoint + "/.search"), use: search)
        group.post(path, use: create)
        let one = RouterPath(stringLiteral: endpoint + "/{id}")
        group.get(one, use: show)
        group.put(one, use: replace)
        group.patch(one, use: patch)
        group.delete(one, use: delete)
    }

    var base: String { SCIMHTTP.base(services) }
    var typeName: String { Self.resourceType.name }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        await call.handle(request, context, resourceType: typeName, resourceID: nil, write: false) { tenant, _ in
            (try await listing(tenant, try SCIMQuery(request.scimParameters)), nil)
        }
    }

    /// POST `.search` (RFC 7644 §3.4.3): the query in a SearchRequest body.
    @Sendable func search(_ request: Request, context: RampartRequestContext) async throws -> Response {
        await call.handle(request, context, resourceType: typeName, resourceID: nil, write: false) { tenant, _ in
            (try await listing(tenant, try SCIMQuery(searchRequest: try await SCIMHTTP.body(request))), nil)
        }
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let base = self.base
        return await call.handle(request, context, resourceType: typeName, resourceID: id, write: false) { tenant, _ in
            let resource = try await current(tenant, id, base)
            let etag = SCIMHTTP.etag(resource)
            if SCIMHTTP.notModified(request, etag) { return (Response(status: .notModified, headers: [.eTag: etag]), nil) }
            return (SCIMHTTP.response(try request.scimProjection.apply(resource, Self.resourceType), etag: etag), nil)
        }
    }
}

extension Request {
    /// `attributes` / `excludedAttributes` of the query.
    var scimProjection: SCIMProjection {
        get throws {
            let parameters = scimParameters
            return try SCIMProjection(attributes: parameters["attributes"], excludedAttributes: parameters["excludedAttributes"])
        }
    }
}
