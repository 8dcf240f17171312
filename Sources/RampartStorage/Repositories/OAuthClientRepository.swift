import Foundation
import RampartCore
import SQLKit

/// What an admin sets on a client; nil leaves a field as it is.
public struct OAuthClientChanges: Sendable {
    public var name: String?
    public var firstParty: Bool?
    public var redirectURIs: [String]?
    public var postLogoutRedirectURIs: [String]?
    public var scopes: [String]?
    /// Back-channel logout: an empty URI removes it; nil leaves it (and the flag) as it is.
    public var backchannelLogoutURI: String?
    public var backchannelLogoutSessionRequired: Bool?
    /// Between the confidential methods only; moving to `private_key_jwt` ends the secret,
    /// moving away from it drops the keys (a secret then comes from a rotation).
    public var authMethod: OAuthClientAuthMethod?
    public var jwks: OAuthClientJWKS?
    public var idTokenSigningAlg: OAuthTokenSigningAlgorithm?

    public init(name: String? = nil, firstParty: Bool? = nil, redirectURIs: [String]? = nil,
                postLogoutRedirectURIs: [String]? = nil, scopes: [String]? = nil) {
        self.name = name; self.firstParty = firstParty; self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs; self.scopes = scopes
    }
}

extension Tenant {
    /// Registers a product as an OAuth client. A confidential client gets a secret, returned
    /// here once; only its hash is kept.
    public func createOAuthClient(productID: String, name rawName: String, type: OAuthClientType,
                                  authMethod: OAuthClientAuthMethod?, firstParty: Bool, redirectURIs: [String],
                                  postLogoutRedirectURIs: [String], scopes: [String]?,
                                  backchannelLogoutURI: String? = nil, backchannelLogoutSessionRequired: Bool? = nil,
                                  jwks: OAuthClientJWKS? = nil, idTokenSigningAlg: OAuthTokenSigningAlgorithm? = nil,
                                  by context: AuditContext) async throws -> (OAuthClient, secret: String?) {
        let product = try await requireProduct(productID)
        let name = try Validate.name(rawName, field: "name")
        let method = try OAuthClientRules.authMethod(authMethod, for: type)
        try OAuthClientRules.keys(jwks, for: method)
        var client = OAuthClient(
            id: Identifier.make(), productID: product.id, name: name, type: type, authMethod: method, firstParty: firstParty,
            redirectURIs: try OAuthClientRules.redirectURIs(redirectURIs, field: "redirectUris", required: true),
            postLogoutRedirectURIs: try OAuthClientRules.redirectURIs(postLogoutRedirectURIs, field: "postLogoutRedirectUris",
                                                                      required: false),
            scopes: try OAuthClientRules.scopes(scopes), createdAt: clock(), previousSecretExpiresAt: nil)
        client.jwks = jwks
        client.idTokenSigningAlg = idTokenSigningAlg ?? .es256
        try await ensureOAuthClientNameFree(name)
        let secret = type == .confidential && method != .privateKeyJWT ? SecretToken.generate(.clientSecret, orgID: orgID) : nil
        try await sql.raw("""
            INSERT INTO oauth_clients (org_id, id, product_id, name, name_key, client_type, auth_method, first_party,
                                       redirect_uris, post_logout_redirect_uris, scopes, secret_hash, created_at)
            VALUES (\(bind: orgID), \(bind: client.id), \(bind: product.id), \(bind: name), \(bind: name.lowercased()),
                    \(bind: type.rawValue), \(bind: method.rawValue), \(bind: Int64(firstParty ? 1 : 0)),
                    \(bind: Self.jsonList(client.redirectURIs)), \(bind: Self.jsonList(client.postLogoutRedirectURIs)),
                    \(bind: Self.jsonList(client.scopes)), \(bind: secret?.hash), \(bind: client.createdAt.microseconds))
            """).run()
        try await storeOAuthClientKeys(client, endingSecret: false)
        // The creation event states the URI itself (below), not a change from nothing.
        var unreported = AuditDetails()
        try await setOAuthBackchannelLogout(client.id, uri: backchannelLogoutURI, sessionRequired: backchannelLogoutSessionRequired,
                                            details: &unreported)
        var details = AuditDetails(["type": .string(type.rawValue), "authMethod": .string(method.rawValue),
                                    "firstParty": .bool(firstParty),
                                    "redirectUris": .array(client.redirectURIs.map(JSONValue.string)),
                                    "scopes": .array(client.scopes.map(JSONValue.string)),
                                    "idTokenSigningAlg": .string(client.idTokenSigningAlg.rawValue),
                                    "jwks": Self.auditKeys(client.jwks)])
        if let uri = try await oauthBackchannelLogout(of: client.id)?.uri { details["backchannelLogoutUri"] = .string(uri) }
        try await appendAudit([context.record(.oauthClientCreated, [.oauthClient(client), .product(product)],
                                              details: details, at: client.createdAt)])
        return (client, secret?.text)
    }

    public func oauthClients() async throws -> [OAuthClient] {
        try await rows("SELECT \(Self.oauthClientColumns) FROM oauth_clients WHERE org_id = ?1 ORDER BY name_key, id",
                       [orgID], Self.decodeOAuthClient)
    }

    /// The client a `client_id` names, or nil: the endpoints answer an unknown client without
    /// saying whether the id exists elsewhere.
    public func oauthClient(_ id: String) async throws -> OAuthClient? {
        guard let id = Identifier.canonical(id) else { return nil }
        return try await row("SELECT \(Self.oauthClientColumns) FROM oauth_clients WHERE org_id = ?1 AND id = ?2",
                             [orgID, id], Self.decodeOAuthClient)
    }

    public func requireOAuthClient(_ id: String) async throws -> OAuthClient {
        guard let client = try await oauthClient(id) else { throw RampartError.notFound("OAuth client") }
        return client
    }

    public func updateOAuthClient(_ id: String, _ changes: OAuthClientChanges, by context: AuditContext) async throws -> OAuthClient {
        var client = try await requireOAuthClient(id)
        var details = AuditDetails()
        if let raw = changes.name {
            let name = try Validate.name(raw, field: "name")
            if name.lowercased() != client.name.lowercased() { try await ensureOAuthClientNameFree(name) }
            details.change("name", from: .string(client.name), to: .string(name))
            client.name = name
        }
        if let firstParty = changes.firstParty {
            details.change("firstParty", from: .bool(client.firstParty), to: .bool(firstParty))
            client.firstParty = firstParty
        }
        if let raw = changes.redirectURIs {
            let uris = try OAuthClientRules.redirectURIs(raw, field: "redirectUris", required: true)
            details.change("redirectUris", from: .array(client.redirectURIs.map(JSONValue.string)), to: .array(uris.map(JSONValue.string)))
            client.redirectURIs = uris
        }
        if let raw = changes.postLogoutRedirectURIs {
            let uris = try OAuthClientRules.redirectURIs(raw, field: "postLogoutRedirectUris", required: false)
            details.change("postLogoutRedirectUris", from: .array(client.postLogoutRedirectURIs.map(JSONValue.string)),
                           to: .array(uris.map(JSONValue.string)))
            client.postLogoutRedirectURIs = uris
        }
        if let raw = changes.scopes {
            let scopes = try OAuthClientRules.scopes(raw)
            details.change("scopes", from: .array(client.scopes.map(JSONValue.string)), to: .array(scopes.map(JSONValue.string)))
            client.scopes = scopes
        }
        if changes.backchannelLogoutURI != nil || changes.backchannelLogoutSessionRequired != nil {
            try await setOAuthBackchannelLogout(client.id, uri: changes.backchannelLogoutURI,
                                                sessionRequired: changes.backchannelLogoutSessionRequired, details: &details)
        }
        let endingSecret = try changeKeys(of: &client, changes, details: &details)
        guard details.hasChanges else { return client }
        try await sql.raw("""
            UPDATE oauth_clients SET name = \(bind: client.name), name_key = \(bind: client.name.lowercased()),
            first_party = \(bind: Int64(client.firstParty ? 1 : 0)), redirect_uris = \(bind: Self.jsonList(client.redirectURIs)),
            post_logout_redirect_uris = \(bind: Self.jsonList(client.postLogoutRedirectURIs)),
            scopes = \(bind: Self.jsonList(client.scopes))
            WHERE org_id = \(bind: orgID) AND id = \(bind: client.id)
            """).run()
        try await storeOAuthClientKeys(client, endingSecret: endingSecret)
        try await appendAudit([context.record(.oauthClientUpdated, [.oauthClient(client)], details: details)])
        return client
    }

    /// Removes the client with every grant, code and refresh token it holds: nothing it was
    /// given works afterwards.
    public func deleteOAuthClient(_ id: String, by context: AuditContext) async throws {
        let client = try await requireOAuthClient(id)
        try await removeOAuthClientRows(client.id)
        try await appendAudit([context.record(.oauthClientDeleted, [.oauthClient(client)])])
    }

    func removeOAuthClientRows(_ clientID: String) async throws {
        try await sql.raw("""
            DELETE FROM oauth_refresh_tokens WHERE org_id = \(bind: orgID) AND grant_id IN
                (SELECT id FROM oauth_grants WHERE org_id = \(bind: orgID) AND client_id = \(bind: clientID))
            """).run()
        for table in ["oauth_grants", "oauth_codes"] {
            try await sql.raw(SQLQueryString("DELETE FROM \(ident: table) WHERE org_id = ") + "\(bind: orgID)"
                + " AND client_id = " + "\(bind: clientID)").run()
        }
        try await removeOAuthBackchannelLogoutRows(clientID)
        try await sql.raw("DELETE FROM oauth_clients WHERE org_id = \(bind: orgID) AND id = \(bind: clientID)").run()
    }

    /// A new secret for a confidential client. The one before keeps working for
    /// `overlapSeconds` (0 ends it at once, after a leak); the one before that ends now.
    public func rotateOAuthClientSecret(_ id: String, overlapSeconds: Int, by context: AuditContext) async throws
        -> (OAuthClient, secret: String)
    {
        var client = try await requireOAuthClient(id)
        guard client.type == .confidential else {
            throw RampartError(.conflict, "A public client has no secret to rotate; it proves itself with PKCE alone.")
        }
        guard client.authMethod != .privateKeyJWT else {
            throw RampartError(.conflict, "A private_key_jwt client has no secret to rotate; change the keys in its jwks instead.")
        }
        guard (0...30 * 86_400).contains(overlapSeconds) else {
            throw RampartError.invalidField("overlapSeconds", "must be between 0 and 2592000 (30 days)")
        }
        let secret = SecretToken.generate(.clientSecret, orgID: orgID)
        let now = clock()
        client.previousSecretExpiresAt = overlapSeconds > 0 ? now.adding(seconds: Double(overlapSeconds)) : nil
        try await sql.raw("""
            UPDATE oauth_clients SET previous_secret_hash = CASE WHEN \(bind: Int64(overlapSeconds)) > 0 THEN secret_hash END,
            previous_secret_expires_at = \(bind: client.previousSecretExpiresAt?.microseconds), secret_hash = \(bind: secret.hash)
            WHERE org_id = \(bind: orgID) AND id = \(bind: client.id)
            """).run()
        try await appendAudit([context.record(.oauthClientSecretRotated, [.oauthClient(client)],
                                              details: AuditDetails(["overlapSeconds": .int(Int64(overlapSeconds))]), at: now)])
        return (client, secret.text)
    }

    /// Whether a presented secret is the client's current one, or its previous one within the
    /// overlap. Both hashes are compared in constant time, whichever matches.
    public func verifyOAuthClientSecret(_ clientID: String, _ presented: String, at now: Timestamp = .now()) async throws -> Bool {
        guard let secret = SecretToken(parsing: presented, as: .clientSecret), secret.orgID == orgID,
              let stored = try await row("""
                  SELECT secret_hash, previous_secret_hash, previous_secret_expires_at FROM oauth_clients
                  WHERE org_id = ?1 AND id = ?2
                  """, [orgID, clientID], { (try $0.optionalText(0), try $0.optionalText(1), try $0.optionalTimestamp(2)) })
        else { return false }
        let hash = secret.hash
        let current = stored.0.map { constantTimeEquals($0, hash) } ?? false
        let previousLive = stored.2.map { now < $0 } ?? false
        let previous = stored.1.map { constantTimeEquals($0, hash) } ?? false
        return current || (previous && previousLive)
    }

    private func ensureOAuthClientNameFree(_ name: String) async throws {
        if try await row("SELECT id FROM oauth_clients WHERE org_id = ?1 AND name_key = ?2", [orgID, name.lowercased()],
                         { try $0.text(0) }) != nil {
            throw RampartError(.conflict, "An OAuth client with this name already exists in the organization.", field: "name")
        }
    }

    static let oauthClientColumns = """
        id, product_id, name, client_type, auth_method, first_party, redirect_uris, post_logout_redirect_uris, scopes,
        created_at, previous_secret_expires_at, jwks, id_token_signing_alg
        """

    static func decodeOAuthClient(_ row: any ColumnReader) throws -> OAuthClient {
        guard let type = OAuthClientType(rawValue: try row.text(3)),
              let method = OAuthClientAuthMethod(rawValue: try row.text(4)) else {
            throw RampartError(.integrity, "An OAuth client row holds an unknown type or method.")
        }
        var client = OAuthClient(id: try row.text(0), productID: try row.text(1), name: try row.text(2), type: type,
                                 authMethod: method, firstParty: try row.integer(5) != 0, redirectURIs: try jsonList(row.text(6)),
                                 postLogoutRedirectURIs: try jsonList(row.text(7)), scopes: try jsonList(row.text(8)),
                                 createdAt: try row.timestamp(9), previousSecretExpiresAt: try row.optionalTimestamp(10))
        try decodeOAuthClientKeys(row, into: &client, from: 11)
        return client
    }

    static func jsonList(_ values: [String]) -> String {
        String(decoding: try! JSONEncoder().encode(values), as: UTF8.self)
    }

    /// Read on every token request: the project's JSON reader, not `JSONDecoder`'s type guessing.
    static func jsonList(_ text: String) throws -> [String] {
        guard case .array(let items)? = try? JSONValue.decode(text) else {
            throw RampartError(.integrity, "A stored list is not a JSON array of strings.")
        }
        return try items.map { item in
            guard case .string(let value) = item else { throw RampartError(.integrity, "A stored list holds a non-string.") }
            return value
        }
    }
}

/// The rules a client's settings follow, for every surface that sets them.
public enum OAuthClientRules {
    public static let maximumRedirectURIs = 20
    /// How long a rotated-out secret keeps working unless the admin says otherwise: a day,
    /// long enough to roll the new secret out to every node of a product.
    public static let defaultSecretOverlapSeconds = 86_400

    /// A confidential client defaults to HTTP Basic; a public client can only be `none`, and a
    /// confidential one never `none`.
    static func authMethod(_ method: OAuthClientAuthMethod?, for type: OAuthClientType) throws(RampartError) -> OAuthClientAuthMethod {
        switch (type, method) {
        case (.public, nil), (.public, .none?): return .none
        case (.public, _?): throw .invalidField("tokenEndpointAuthMethod", "must be none for a public client")
        case (.confidential, nil): return .clientSecretBasic
        case (.confidential, .none?):
            throw .invalidField("tokenEndpointAuthMethod",
                                "must be client_secret_basic, client_secret_post or private_key_jwt for a confidential client")
        case (.confidential, let method?): return method
        }
    }

    /// Absolute https addresses (http only on loopback, for development), without a fragment
    /// or user name, kept in their normal form; at `/authorize` they are compared exactly.
    static func redirectURIs(_ raw: [String], field: String, required: Bool) throws(RampartError) -> [String] {
        if required && raw.isEmpty { throw .invalidField(field, "must hold at least one redirect URI") }
        guard raw.count <= maximumRedirectURIs else { throw .invalidField(field, "must hold at most \(maximumRedirectURIs) URIs") }
        var uris: [String] = []
        for value in raw {
            let url = try WebURL(parsing: value, field: field)
            guard url.scheme == "https" || (url.scheme == "http" && url.isLoopback) else {
                throw .invalidField(field, "must be https URLs (http only on localhost)")
            }
            guard !url.rest.contains("#") else { throw .invalidField(field, "must not contain a fragment (#)") }
            if !uris.contains(url.description) { uris.append(url.description) }
        }
        return uris
    }

    /// A `private_key_jwt` client needs its keys; no other client has any.
    static func keys(_ jwks: OAuthClientJWKS?, for method: OAuthClientAuthMethod) throws(RampartError) {
        if method == .privateKeyJWT && jwks == nil { throw .invalidField("jwks", "is required for a private_key_jwt client") }
        if method != .privateKeyJWT && jwks != nil {
            throw .invalidField("jwks", "is only for a client whose tokenEndpointAuthMethod is private_key_jwt")
        }
    }

    /// `openid` plus what is asked; scope names are RFC 6749 scope tokens without spaces.
    static func scopes(_ raw: [String]?) throws(RampartError) -> [String] {
        var scopes = ["openid"]
        for scope in raw ?? ["openid", "profile", "email", "groups", "offline_access"] {
            guard (1...100).contains(scope.utf8.count),
                  scope.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
            else { throw .invalidField("scopes", "must be scope names without spaces or quotes") }
            if !scopes.contains(scope) { scopes.append(scope) }
        }
        return scopes
    }
}
