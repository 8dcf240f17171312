import Hummingbird
import RampartCore
import RampartStorage

/// The register of products' access to people's accounts (`/oauth-grants`): who signed into
/// which product, with which scopes, and when the product last refreshed; revoking one ends
/// its refresh tokens at once and its access tokens at userinfo and introspection.
struct OAuthGrantsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/oauth-grants", list),
            APIRoute(.delete, "/oauth-grants/{id}", revoke),
        ]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let userID = try Self.id(request, "userId")
        let clientID = try Self.id(request, "clientId")
        let (grants, clients) = try await read(context, .readDirectory) { tenant in
            (try await tenant.oauthGrants(userID: userID, clientID: clientID), try await tenant.oauthClients())
        }
        let names = Dictionary(uniqueKeysWithValues: clients.map { ($0.id, $0.name) })
        return try JSON.response(ListBody(data: grants.map { OAuthGrantBody($0, clientName: names[$0.clientID]) }))
    }

    /// An optional id filter; given, even empty, it must be an id.
    private static func id(_ request: Request, _ name: String) throws -> String? {
        guard let raw = request.uri.queryParameters.get(name) else { return nil }
        guard let id = Identifier.canonical(String(raw)) else {
            throw RampartError(.invalidParameter, "Query parameter '\(name)' must be an id.")
        }
        return id
    }

    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let revoked = try await write(request, context, .manageDirectory) { tenant, audit in
            try await tenant.revokeLiveOAuthGrant(id, reason: "revoked_by_admin", by: audit)
        }
        guard revoked else { throw RampartError.notFound("OAuth grant") }
        return JSON.noContent()
    }
}

/// A grant as the API and My account show it.
struct OAuthGrantBody: Encodable, Sendable {
    let id: String
    let userId: String
    let clientId: String
    let clientName: String?
    let scopes: [String]
    let amr: [String]
    let authTime: Timestamp
    let createdAt: Timestamp
    let lastUsedAt: Timestamp

    init(_ grant: OAuthGrant, clientName: String?) {
        id = grant.id; userId = grant.userID; clientId = grant.clientID; self.clientName = clientName; scopes = grant.scope
        amr = grant.amr; authTime = grant.authTime; createdAt = grant.createdAt; lastUsedAt = grant.lastUsedAt
    }
}
