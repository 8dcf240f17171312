/// How a product's client proves itself at the token endpoint (RFC 6749 section 2.3, OpenID
/// Connect Core section 9). A public client (a single-page or native app) proves nothing
/// but the PKCE verifier, which every client must send anyway.
public enum OAuthClientAuthMethod: String, Codable, Sendable, CaseIterable {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case none
    /// A JWT signed with one of the client's registered keys (RFC 7523); such a client has no secret.
    case privateKeyJWT = "private_key_jwt"
}

public enum OAuthClientType: String, Codable, Sendable, CaseIterable {
    case confidential
    case `public`
}

/// A product registered to sign people in through Rampart's OpenID Connect provider. Its id
/// is the `client_id`; only a hash of its secret is kept.
public struct OAuthClient: Codable, Sendable, Equatable {
    public var id: String
    public var productID: String
    public var name: String
    public var type: OAuthClientType
    public var authMethod: OAuthClientAuthMethod
    /// A first-party product is the organisation's own: nobody is asked to consent to it.
    public var firstParty: Bool
    /// Compared character for character at `/authorize` (no prefix, case or query variants).
    public var redirectURIs: [String]
    public var postLogoutRedirectURIs: [String]
    /// The scopes it may ask for; `openid` is always among them.
    public var scopes: [String]
    public var createdAt: Timestamp
    /// Until when the secret before the last rotation still works (an overlap, so a product's
    /// nodes can move to the new one without an outage).
    public var previousSecretExpiresAt: Timestamp?
    /// The public keys a `private_key_jwt` client signs its assertions with; nil for any other method.
    public var jwks: OAuthClientJWKS? = nil
    /// The algorithm of the ID tokens and access tokens issued to this client.
    public var idTokenSigningAlg: OAuthTokenSigningAlgorithm = .es256

    public init(id: String, productID: String, name: String, type: OAuthClientType, authMethod: OAuthClientAuthMethod,
                firstParty: Bool, redirectURIs: [String], postLogoutRedirectURIs: [String], scopes: [String],
                createdAt: Timestamp, previousSecretExpiresAt: Timestamp?) {
        self.id = id; self.productID = productID; self.name = name; self.type = type; self.authMethod = authMethod
        self.firstParty = firstParty; self.redirectURIs = redirectURIs; self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.scopes = scopes; self.createdAt = createdAt; self.previousSecretExpiresAt = previousSecretExpiresAt
    }

    /// The scopes Rampart knows: what each adds to the ID token and userinfo is in docs/oidc.md.
    public static let knownScopes: [String] = ["openid", "profile", "email", "groups", "offline_access"]
}
