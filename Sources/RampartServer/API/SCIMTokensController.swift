import Hummingbird
import RampartCore
import RampartStorage

/// SCIM tokens, the organisation's SCIM setting and the provisioning log, for admins.
struct SCIMTokensController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/scim-tokens", list),
            APIRoute(.post, "/scim-tokens", create),
            APIRoute(.delete, "/scim-tokens/{id}", revoke),
            APIRoute(.get, "/scim-settings", settings),
            APIRoute(.put, "/scim-settings", updateSettings),
            APIRoute(.get, "/scim-requests", requests),
        ]
    }

    struct CreateRequest: StrictBody {
        let name: String
        static let fields: Set<String> = ["name"]
        static let required: Set<String> = ["name"]
    }

    struct SettingsRequest: StrictBody {
        let deleteMode: SCIMDeleteMode
        static let fields: Set<String> = ["deleteMode"]
        static let required: Set<String> = ["deleteMode"]
    }

    var baseURL: String { SCIMHTTP.base(services) }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let tokens = try await read(context, .readTokens) { try await $0.scimTokens() }
        return try JSON.response(SCIMTokenList(data: tokens, baseURL: baseURL))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let (token, secret) = try await write(request, context, .manageTokens) {
            try await $0.createSCIMToken(name: body.name, by: $1)
        }
        var response = try JSON.response(CreatedSCIMToken(scimToken: token, token: secret, baseURL: baseURL), status: .created)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func revoke(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        try await write(request, context, .manageTokens) { try await $0.revokeSCIMToken(id, by: $1) }
        return JSON.noContent()
    }

    @Sendable func settings(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let mode = try await read(context, .readTokens) { try await $0.scimDeleteMode() }
        return try JSON.response(SCIMSettings(deleteMode: mode, baseURL: baseURL))
    }

    @Sendable func updateSettings(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(SettingsRequest.self, from: request)
        try await write(request, context, .manageTokens) { try await $0.setSCIMDeleteMode(body.deleteMode, by: $1) }
        return try JSON.response(SCIMSettings(deleteMode: body.deleteMode, baseURL: baseURL))
    }

    @Sendable func requests(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let failed = try request.query("failed")
        guard failed == nil || failed == "true" || failed == "false" else {
            throw RampartError(.invalidParameter, "Query parameter 'failed' must be true or false.")
        }
        let resourceType = try request.query("resourceType")
        guard resourceType == nil || resourceType == "User" || resourceType == "Group" else {
            throw RampartError(.invalidParameter, "Query parameter 'resourceType' must be User or Group.")
        }
        let filter = SCIMRequestFilter(failedOnly: failed == "true", resourceType: resourceType,
                                       resourceID: try request.query("resourceId"))
        let entries = try await read(context, .readAuditLog) { try await $0.scimRequests(filter) }
        return try JSON.response(ListBody(data: entries.map(SCIMRequestBody.init)))
    }
}

/// A new SCIM token: its secret, shown this once in `token`, and the base URL to paste into
/// the identity provider beside it.
public struct CreatedSCIMToken: Encodable, Sendable {
    let scimToken: SCIMToken
    let token: String
    let baseURL: String

    enum CodingKeys: String, CodingKey { case id, name, createdAt, token, baseURL }

    public init(scimToken: SCIMToken, token: String, baseURL: String) {
        self.scimToken = scimToken; self.token = token; self.baseURL = baseURL
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scimToken.id, forKey: .id)
        try c.encode(scimToken.name, forKey: .name)
        try c.encode(scimToken.createdAt, forKey: .createdAt)
        try c.encode(token, forKey: .token)
        try c.encode(baseURL, forKey: .baseURL)
    }
}

struct SCIMTokenList: Encodable, Sendable {
    let data: [SCIMToken]
    let baseURL: String
}

struct SCIMSettings: Encodable, Sendable {
    let deleteMode: SCIMDeleteMode
    let baseURL: String
}

struct SCIMRequestBody: Encodable, Sendable {
    let id: String
    let occurredAt: Timestamp
    let tokenId: String?
    let method: String
    let path: String
    let resourceType: String
    let resourceId: String?
    let status: Int
    let scimType: String?
    let detail: String?

    init(_ e: SCIMRequestEntry) {
        id = e.id; occurredAt = e.occurredAt; tokenId = e.tokenID; method = e.method; path = e.path
        resourceType = e.resourceType; resourceId = e.resourceID; status = e.status; scimType = e.scimType; detail = e.detail
    }
}
