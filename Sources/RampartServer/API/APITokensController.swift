import Hummingbird
import RampartCore
import RampartStorage

struct APITokensController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/api-tokens", list),
            APIRoute(.post, "/api-tokens", create),
            APIRoute(.get, "/api-tokens/{id}", show),
            APIRoute(.delete, "/api-tokens/{id}", revoke),
        ]
    }

    struct CreateRequest: StrictBody {
        let name: String
        let role: Role
        let expiresAt: Timestamp?
        static let fields: Set<String> = ["name", "role", "expiresAt"]
        static let required: Set<String> = ["name", "role"]
        static let nullableFields: Set<String> = ["expiresAt"]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let page = try request.pageRequest()
        return try JSON.response(PageBody(try await read(context, .readTokens) { try await $0.apiTokens(page: page) }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let (token, secret) = try await write(request, context, .manageTokens) {
            try await $0.createAPIToken(name: body.name, role: body.role, expiresAt: body.expiresAt, by: $1)
        }
        var response = try JSON.response(CreatedAPIToken(token: token, secret: secret), status: .created)
        response.headers[.location] = "/api/v1/api-tokens/\(token.id)"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(try await read(context, .readTokens) { try await $0.requireAPIToken(id) })
    }

    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        try await write(request, context, .manageTokens) { try await $0.revokeAPIToken(id, by: $1) }
        return JSON.noContent()
    }
}

/// A new token and its secret, shown this once: the API's and the CLI's answer to "create".
public struct CreatedAPIToken: Encodable, Sendable {
    let token: APIToken
    let secret: String

    public init(token: APIToken, secret: String) { self.token = token; self.secret = secret }
}
