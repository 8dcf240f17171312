import Hummingbird
import RampartCore
import RampartStorage

/// The keys products send their events with (`POST /api/v1/events`), for admins.
struct IngestionKeysController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/ingestion-keys", list),
            APIRoute(.post, "/ingestion-keys", create),
            APIRoute(.delete, "/ingestion-keys/{id}", revoke),
        ]
    }

    struct CreateRequest: StrictBody {
        let productId: String
        let name: String
        static let fields: Set<String> = ["productId", "name"]
        static let required: Set<String> = ["productId", "name"]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let product = try request.query("productId")
        let keys = try await read(context, .readTokens) { try await $0.ingestionKeys(product: product) }
        return try JSON.response(ListBody(data: keys))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let (key, secret) = try await write(request, context, .manageTokens) {
            try await $0.createIngestionKey(product: body.productId, name: body.name, by: $1)
        }
        var response = try JSON.response(CreatedIngestionKey(ingestionKey: key, key: secret), status: .created)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await write(request, context, .manageTokens) { try await $0.revokeIngestionKey(id, by: $1) }
        return JSON.noContent()
    }
}

/// A new ingestion key with its secret, shown this once in `key`.
public struct CreatedIngestionKey: Encodable, Sendable {
    let ingestionKey: IngestionKey
    let key: String

    public init(ingestionKey: IngestionKey, key: String) { self.ingestionKey = ingestionKey; self.key = key }

    enum CodingKeys: String, CodingKey { case id, productId, name, createdAt, key }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ingestionKey.id, forKey: .id)
        try c.encode(ingestionKey.productID, forKey: .productId)
        try c.encode(ingestionKey.name, forKey: .name)
        try c.encode(ingestionKey.createdAt, forKey: .createdAt)
        try c.encode(key, forKey: .key)
    }
}
