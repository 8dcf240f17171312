import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// What a product presents to `POST /api/v1/events`: one of its ingestion keys, or an access
/// token that one of its OAuth clients obtained with `client_credentials` and the
/// `events:write` scope. Either way the organisation and the product come from the
/// credential, never from the body.
enum EventCredential {
    case ingestionKey(SecretToken)
    case accessToken(String)

    static let scope = "events:write"
    static let unauthorized = RampartError(.unauthorized, """
        Send an ingestion key, or an access token with the \(scope) scope, as 'Authorization: Bearer <credential>'.
        """)

    init(_ request: Request) throws {
        guard let header = request.headers.soleValue(.authorization),
              let credential = APITokenAuthenticator.bearerCredential(header) else { throw Self.unauthorized }
        if let key = SecretToken(parsing: credential, as: .ingestionKey) {
            self = .ingestionKey(key)
        } else if credential.utf8.count <= 16_384, credential.split(separator: ".", omittingEmptySubsequences: false).count == 3 {
            self = .accessToken(credential)
        } else {
            throw Self.unauthorized
        }
    }

    /// What is checked before the body is read, so that nobody without a live credential can
    /// make the server read and parse up to 8 MiB: a key's row, a token's signature, issuer,
    /// expiry and scope. The appending transaction checks the key or client again.
    func prepare(_ services: RampartServices) async throws -> Checked {
        switch self {
        case .ingestionKey(let key):
            guard try await services.database.read(org: key.orgID, { try await $0.authenticateIngestionKey(key) != nil }) else {
                throw Self.unauthorized
            }
            return Checked(orgID: key.orgID, credential: .ingestionKey(key))
        case .accessToken(let token):
            // The organisation named inside decides whose keys check the signature; a token
            // signed by another organisation's key fails there.
            guard let orgID = Self.unverifiedOrgID(of: token),
                  let organization = try await services.organizations.find(idOrSlug: orgID), organization.id == orgID,
                  let claims = try await services.oidcKeyring.verify(token, orgID: orgID, type: AccessTokenClaims.type,
                                                                     as: AccessTokenClaims.self),
                  claims.orgID == orgID, claims.grantID == nil, claims.sub == claims.clientID,
                  claims.iss == OIDCIssuer.url(slug: organization.slug, publicURL: services.configuration.publicURL)
            else { throw Self.unauthorized }
            guard claims.scopes.contains(Self.scope) else {
                throw RampartError(.forbidden, "The access token lacks the \(Self.scope) scope; ask for it with client_credentials.")
            }
            return Checked(orgID: orgID, credential: .client(claims.clientID))
        }
    }

    private static func unverifiedOrgID(of token: String) -> String? {
        struct Claims: Decodable { let org_id: String }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Data(base64URLEncoded: String(parts[1])) else { return nil }
        return (try? JSONDecoder().decode(Claims.self, from: payload))?.org_id
    }

    /// A credential whose organisation is known; its product is read again in the transaction
    /// that appends, so a key revoked or a client deleted a moment ago is refused.
    struct Checked: Sendable {
        enum Credential: Sendable {
            case ingestionKey(SecretToken)
            case client(String)
        }

        let orgID: String
        let credential: Credential

        /// The product and credential, or unauthorized when the key was revoked or the client
        /// deleted. With `usage`, notes when an ingestion key was last used (at most once a
        /// minute per key), which needs a write transaction.
        func resolve(in tenant: Tenant, noting usage: TokenUsageRecorder? = nil, at now: Timestamp = .now()) async throws
            -> EventSource
        {
            switch credential {
            case .ingestionKey(let secret):
                guard let (key, product) = try await tenant.authenticateIngestionKey(secret) else { throw EventCredential.unauthorized }
                if let usage, usage.shouldRecord(key.id, lastUsed: key.lastUsedAt, now: now) {
                    try await tenant.markIngestionKeyUsed(key.id, at: now)
                }
                return EventSource(product: product, credential: .ingestionKey, credentialID: key.id)
            case .client(let clientID):
                guard let client = try await tenant.oauthClient(clientID), let product = try await tenant.product(client.productID)
                else { throw EventCredential.unauthorized }
                return EventSource(product: product, credential: .oauthClient, credentialID: client.id)
            }
        }
    }
}
