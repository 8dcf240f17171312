import AsyncHTTPClient
import Foundation
import NIOCore
import RampartCore

/// An upstream provider's discovery document (OpenID Connect Discovery 1.0, section 3): the
/// fields a relying party uses.
struct UpstreamOIDCMetadata: Decodable, Sendable {
    let issuer: String
    let authorization_endpoint: String
    let token_endpoint: String
    let jwks_uri: String
    let token_endpoint_auth_methods_supported: [String]?
}

/// Discovery documents and key sets of upstream providers, cached per node: an hour for each,
/// and a key set is fetched again early only when a token names a `kid` it lacks (a rotation),
/// at most once per `refetchInterval`, so a stream of forged `kid`s cannot make Rampart hammer
/// the provider.
actor UpstreamOIDCCache {
    static let lifetime: TimeInterval = 3600
    static let refetchInterval: TimeInterval = 5
    static let bodyLimit = 64 * 1024

    private var metadata: [String: (UpstreamOIDCMetadata, Date)] = [:]
    private var keySets: [String: (keys: [OAuthClientJWKS.Key], fetchedAt: Date)] = [:]

    /// `discoveryBase` is the issuer (for Entra's `{tenantid}` template, its `organizations` form).
    func metadata(discoveryBase: String) async throws(SSOFailure) -> UpstreamOIDCMetadata {
        if let (cached, at) = metadata[discoveryBase], Date().timeIntervalSince(at) < Self.lifetime { return cached }
        let base = discoveryBase.hasSuffix("/") ? String(discoveryBase.dropLast()) : discoveryBase
        let body = try await Self.get(base + "/.well-known/openid-configuration", failure: .discoveryFailed)
        guard let document = try? JSONDecoder().decode(UpstreamOIDCMetadata.self, from: body),
              [document.authorization_endpoint, document.token_endpoint, document.jwks_uri]
                .allSatisfy({ (try? WebURL(parsing: $0)) != nil }) else { throw SSOFailure(.discoveryFailed) }
        metadata[discoveryBase] = (document, Date())
        return document
    }

    /// The provider's keys; `refreshFor` is a `kid` the cached set lacks, which allows one early refetch.
    func keys(jwksURI: String, refreshFor missingKID: String? = nil) async throws(SSOFailure) -> [OAuthClientJWKS.Key] {
        if let cached = keySets[jwksURI] {
            let age = Date().timeIntervalSince(cached.fetchedAt)
            let stale = age >= Self.lifetime || (missingKID != nil && age >= Self.refetchInterval)
            if !stale { return cached.keys }
        }
        let body = try await Self.get(jwksURI, failure: .jwksFailed)
        guard let keys = Self.parseKeys(body) else { throw SSOFailure(.jwksFailed) }
        keySets[jwksURI] = (keys, Date())
        return keys
    }

    /// Public RSA and EC keys meant for signatures; anything else in the set is ignored.
    static func parseKeys(_ body: Data) -> [OAuthClientJWKS.Key]? {
        guard case .object(let document)? = try? JSONDecoder().decode(JSONValue.self, from: body),
              case .array(let items)? = document["keys"] else { return nil }
        return items.prefix(50).compactMap { item -> OAuthClientJWKS.Key? in
            guard case .object(let members) = item, !OAuthClientJWKS.privateMembers.contains(where: { members[$0] != nil }),
                  members["use"] == nil || members["use"] == .string("sig"),
                  let key = try? JSONDecoder().decode(OAuthClientJWKS.Key.self, from: Data(item.canonical.utf8)),
                  key.kty == "RSA" || key.kty == "EC" else { return nil }
            return key
        }
    }

    /// A bounded GET: no redirects, short deadlines, a small body.
    static func get(_ url: String, failure: SSOFailure.Reason) async throws(SSOFailure) -> Data {
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                                        timeout: .init(connect: .seconds(3), read: .seconds(5))))
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let body = await send(request, with: client)
        try? await client.shutdown()
        guard let body else { throw SSOFailure(failure) }
        return body
    }

    /// The body of a 200 answer within the size limit, or nil.
    static func send(_ request: HTTPClientRequest, with client: HTTPClient) async -> Data? {
        guard let response = try? await client.execute(request, timeout: .seconds(8)), response.status == .ok,
              let body = try? await response.body.collect(upTo: bodyLimit) else { return nil }
        return Data(body.readableBytesView)
    }
}
