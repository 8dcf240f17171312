import Hummingbird
import RampartCore
import RampartStorage

struct ProductsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/products", list),
            APIRoute(.post, "/products", create),
            APIRoute(.get, "/products/{id}", show),
            APIRoute(.patch, "/products/{id}", update),
            APIRoute(.delete, "/products/{id}", delete),
            APIRoute(.get, "/products/{id}/access", access),
            APIRoute(.put, "/products/{id}/access/{groupId}", grant),
            APIRoute(.delete, "/products/{id}/access/{groupId}", revoke),
        ]
    }

    struct CreateRequest: StrictBody {
        let name: String
        let kind: ProductKind
        let url: String
        static let fields: Set<String> = ["name", "kind", "url"]
        static let required: Set<String> = ["name", "kind", "url"]
    }

    struct UpdateRequest: StrictBody {
        let name: String?
        let kind: ProductKind?
        let url: String?
        static let fields: Set<String> = ["name", "kind", "url"]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let page = try request.pageRequest()
        return try JSON.response(PageBody(try await read(context, .readDirectory) { try await $0.products(page: page) }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let product = try await write(request, context, .manageDirectory) {
            try await $0.createProduct(name: body.name, kind: body.kind, url: body.url, by: $1)
        }
        var response = try JSON.response(product, status: .created)
        response.headers[.location] = "/api/v1/products/\(product.id)"
        return response
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(try await read(context, .readDirectory) { try await $0.requireProduct(id) })
    }

    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(UpdateRequest.self, from: request)
        return try JSON.response(try await write(request, context, .manageDirectory) {
            try await $0.updateProduct(id, name: body.name, kind: body.kind, url: body.url, by: $1)
        })
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        try await write(request, context, .manageDirectory) { try await $0.deleteProduct(id, by: $1) }
        return JSON.noContent()
    }

    @Sendable func access(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(ListBody(data: try await read(context, .readDirectory) { try await $0.productAccess(id) }))
    }

    @Sendable func grant(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let groupID = try context.id("groupId")
        _ = try await write(request, context, .manageDirectory) { try await $0.grantProductAccess(id, to: groupID, by: $1) }
        return JSON.noContent()
    }

    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let groupID = try context.id("groupId")
        _ = try await write(request, context, .manageDirectory) { try await $0.revokeProductAccess(id, from: groupID, by: $1) }
        return JSON.noContent()
    }
}
