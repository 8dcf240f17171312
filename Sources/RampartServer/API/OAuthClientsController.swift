import Hummingbird
import RampartCore
import RampartStorage

/// Products registered as OAuth clients of the organisation's OpenID Connect provider
/// (`/oauth-clients`), and the provider's signing key rotation.
struct OAuthClientsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/oauth-clients", list),
            APIRoute(.post, "/oauth-clients", create),
            APIRoute(.get, "/oauth-clients/{id}", show),
            APIRoute(.patch, "/oauth-clients/{id}", update),
            APIRoute(.delete, "/oauth-clients/{id}", delete),
            APIRoute(.post, "/oauth-clients/{id}/secret", rotateSecret),
            APIRoute(.post, "/oauth-signing-keys/rotate", rotateSigningKey),
        ]
    }

    struct CreateRequest: StrictBody {
        let name: String
        let productId: String
        let type: OAuthClientType?
        let tokenEndpointAuthMethod: OAuthClientAuthMethod?
        let firstParty: Bool?
        let redirectUris: [String]
        let postLogoutRedirectUris: [String]?
        let scopes: [String]?
        let backchannelLogoutUri: String?
        let backchannelLogoutSessionRequired: Bool?
        let jwks: JSONValue?
        let idTokenSigningAlg: OAuthTokenSigningAlgorithm?
        static let fields: Set<String> = ["name", "productId", "type", "tokenEndpointAuthMethod", "firstParty", "redirectUris",
                                          "postLogoutRedirectUris", "scopes",
                                          "backchannelLogoutUri", "backchannelLogoutSessionRequired", "jwks", "idTokenSigningAlg"]
        static let required: Set<String> = ["name", "productId", "redirectUris"]
    }

    struct UpdateRequest: StrictBody {
        let name: String?
        let firstParty: Bool?
        let redirectUris: [String]?
        let postLogoutRedirectUris: [String]?
        let scopes: [String]?
        let backchannelLogoutUri: String?
        let backchannelLogoutSessionRequired: Bool?
        let tokenEndpointAuthMethod: OAuthClientAuthMethod?
        let jwks: JSONValue?
        let idTokenSigningAlg: OAuthTokenSigningAlgorithm?
        static let fields: Set<String> = ["name", "firstParty", "redirectUris", "postLogoutRedirectUris", "scopes",
                                          "backchannelLogoutUri", "backchannelLogoutSessionRequired",
                                          "tokenEndpointAuthMethod", "jwks", "idTokenSigningAlg"]
    }

    struct RotateRequest: StrictBody {
        let overlapSeconds: Int?
        static let fields: Set<String> = ["overlapSeconds"]
        static let mayBeEmpty = true
    }

    private var issuerBase: (Organization) -> String {
        { OIDCIssuer.url(slug: $0.slug, publicURL: services.configuration.publicURL) }
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (clients, organization, logouts) = try await read(context, .readDirectory) {
            (try await $0.oauthClients(), try await $0.organization(), try await $0.oauthBackchannelLogouts())
        }
        return try JSON.response(ListBody(data: clients.map {
            OAuthClientBody($0, issuer: issuerBase(organization)).with(logouts[$0.id])
        }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let jwks = try body.jwks.map { value throws(RampartError) in try OAuthClientJWKS.parse(value, field: "jwks") }
        let (client, secret, organization, logout) = try await write(request, context, .manageOAuthClients) { tenant, audit in
            let (client, secret) = try await tenant.createOAuthClient(
                productID: body.productId, name: body.name, type: body.type ?? .confidential, authMethod: body.tokenEndpointAuthMethod,
                firstParty: body.firstParty ?? true, redirectURIs: body.redirectUris,
                postLogoutRedirectURIs: body.postLogoutRedirectUris ?? [], scopes: body.scopes,
                backchannelLogoutURI: body.backchannelLogoutUri, backchannelLogoutSessionRequired: body.backchannelLogoutSessionRequired,
                jwks: jwks, idTokenSigningAlg: body.idTokenSigningAlg, by: audit)
            return (client, secret, try await tenant.organization(), try await tenant.oauthBackchannelLogout(of: client.id))
        }
        var response = try JSON.response(OAuthClientBody(client, issuer: issuerBase(organization), secret: secret).with(logout),
                                         status: .created)
        response.headers[.location] = "/api/v1/oauth-clients/\(client.id)"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let (client, organization, logout) = try await read(context, .readDirectory) {
            (try await $0.requireOAuthClient(id), try await $0.organization(), try await $0.oauthBackchannelLogout(of: id))
        }
        return try JSON.response(OAuthClientBody(client, issuer: issuerBase(organization)).with(logout))
    }

    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(UpdateRequest.self, from: request)
        var changes = OAuthClientChanges(name: body.name, firstParty: body.firstParty, redirectURIs: body.redirectUris,
                                         postLogoutRedirectURIs: body.postLogoutRedirectUris, scopes: body.scopes)
        changes.backchannelLogoutURI = body.backchannelLogoutUri
        changes.backchannelLogoutSessionRequired = body.backchannelLogoutSessionRequired
        changes.authMethod = body.tokenEndpointAuthMethod
        changes.jwks = try body.jwks.map { value throws(RampartError) in try OAuthClientJWKS.parse(value, field: "jwks") }
        changes.idTokenSigningAlg = body.idTokenSigningAlg
        let (client, organization, logout) = try await write(request, context, .manageOAuthClients) { [changes] tenant, audit in
            let client = try await tenant.updateOAuthClient(id, changes, by: audit)
            return (client, try await tenant.organization(), try await tenant.oauthBackchannelLogout(of: client.id))
        }
        return try JSON.response(OAuthClientBody(client, issuer: issuerBase(organization)).with(logout))
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        try await write(request, context, .manageOAuthClients) { try await $0.deleteOAuthClient(id, by: $1) }
        return JSON.noContent()
    }

    /// A new secret, shown once; the previous one keeps working for `overlapSeconds`.
    @Sendable func rotateSecret(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(RotateRequest.self, from: request)
        let (client, secret, organization, logout) = try await write(request, context, .manageOAuthClients) { tenant, audit in
            let (client, secret) = try await tenant.rotateOAuthClientSecret(
                id, overlapSeconds: body.overlapSeconds ?? OAuthClientRules.defaultSecretOverlapSeconds, by: audit)
            return (client, secret, try await tenant.organization(), try await tenant.oauthBackchannelLogout(of: client.id))
        }
        var response = try JSON.response(OAuthClientBody(client, issuer: issuerBase(organization), secret: secret).with(logout))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// A new token signing key signs from now on; the previous one stays in the JWKS for a day.
    @Sendable func rotateSigningKey(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let keys = services.keys
        let (kid, orgID) = try await write(request, context, .manageOAuthClients) { tenant, audit in
            (try await tenant.rotateOAuthSigningKey(keys: keys, by: audit).kid, tenant.orgID)
        }
        try await services.oidcKeyring.load(orgID: orgID)
        return try JSON.response(["kid": kid])
    }
}

/// A client as the API shows it: its settings, and what its product needs to be configured
/// with (the issuer and the discovery document's address). `clientSecret` only when it is new.
public struct OAuthClientBody: Encodable, Sendable {
    public let client: OAuthClient
    public let issuer: String
    public var secret: String?
    /// Where the product hears of ended sessions, if it asked to.
    public var backchannelLogout: OAuthBackchannelLogout?

    public init(_ client: OAuthClient, issuer: String, secret: String? = nil) {
        self.client = client; self.issuer = issuer; self.secret = secret
    }

    enum CodingKeys: String, CodingKey {
        case id, clientId, productId, name, type, tokenEndpointAuthMethod, firstParty, redirectUris, postLogoutRedirectUris
        case scopes, createdAt, previousSecretExpiresAt, issuer, discoveryUrl, clientSecret
        case backchannelLogoutUri, backchannelLogoutSessionRequired
        case jwks, idTokenSigningAlg
    }

    public func with(_ logout: OAuthBackchannelLogout?) -> OAuthClientBody {
        var body = self
        body.backchannelLogout = logout
        return body
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(client.id, forKey: .id)
        try c.encode(client.id, forKey: .clientId)
        try c.encode(client.productID, forKey: .productId)
        try c.encode(client.name, forKey: .name)
        try c.encode(client.type, forKey: .type)
        try c.encode(client.authMethod, forKey: .tokenEndpointAuthMethod)
        try c.encode(client.firstParty, forKey: .firstParty)
        try c.encode(client.redirectURIs, forKey: .redirectUris)
        try c.encode(client.postLogoutRedirectURIs, forKey: .postLogoutRedirectUris)
        try c.encode(client.scopes, forKey: .scopes)
        try c.encode(client.createdAt, forKey: .createdAt)
        try c.encode(client.previousSecretExpiresAt, forKey: .previousSecretExpiresAt)
        try c.encode(issuer, forKey: .issuer)
        try c.encode(issuer + "/.well-known/openid-configuration", forKey: .discoveryUrl)
        try c.encodeIfPresent(secret, forKey: .clientSecret)
        try c.encode(backchannelLogout?.uri, forKey: .backchannelLogoutUri)
        try c.encode(backchannelLogout?.sessionRequired ?? false, forKey: .backchannelLogoutSessionRequired)
        try c.encode(client.jwks, forKey: .jwks)
        try c.encode(client.idTokenSigningAlg, forKey: .idTokenSigningAlg)
    }
}
