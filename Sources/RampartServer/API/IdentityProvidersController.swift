import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// The organisation's identity providers (`/identity-providers`): where people of its
/// verified domains sign in (docs/sso.md), and a test sign-in with each.
struct IdentityProvidersController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/identity-providers", list),
            APIRoute(.post, "/identity-providers", create),
            APIRoute(.get, "/identity-providers/{id}", show),
            APIRoute(.patch, "/identity-providers/{id}", update),
            APIRoute(.delete, "/identity-providers/{id}", delete),
            APIRoute(.post, "/identity-providers/{id}/test", startTest),
            APIRoute(.get, "/identity-providers/{id}/test", lastTest),
        ]
    }

    struct InputBody: StrictBody {
        let preset: IdentityProviderPreset?
        let name: String?
        let domains: [String]?
        let enabled: Bool?
        let jit: Bool?
        let groupMatch: GroupMatch?
        let attributes: [String: String]?
        let trustIdpMfa: Bool?
        let issuer: String?
        let clientId: String?
        let clientSecret: String?
        let scopes: [String]?
        let allowedTenants: [String]?
        let hostedDomain: String?
        let idpEntityId: String?
        let ssoUrl: String?
        let signingCertificates: [String]?
        let requireSignedAssertion: Bool?
        let allowIdpInitiated: Bool?
        let mfaAuthnContexts: [String]?
        /// SAML: the IdP's metadata document, or where to fetch it; read into idpEntityId, ssoUrl
        /// and signingCertificates (those given beside it win).
        let metadataXml: String?
        let metadataUrl: String?
        static let fields: Set<String> = ["preset", "name", "domains", "enabled", "jit", "groupMatch", "attributes", "trustIdpMfa",
                                          "issuer", "clientId", "clientSecret", "scopes", "allowedTenants", "hostedDomain",
                                          "idpEntityId", "ssoUrl", "signingCertificates", "requireSignedAssertion",
                                          "allowIdpInitiated", "mfaAuthnContexts", "metadataXml", "metadataUrl"]

        /// The settings given, with the metadata (if any) read into them.
        func resolvedInput() async throws -> IdentityProviderInput {
            var input = self.input
            try await SAMLMetadataImport.apply(xml: metadataXml, url: metadataUrl, to: &input)
            return input
        }

        var input: IdentityProviderInput {
            var input = IdentityProviderInput()
            input.preset = preset; input.name = name; input.domains = domains; input.enabled = enabled; input.jit = jit
            input.groupMatch = groupMatch; input.attributes = attributes; input.trustIdpMfa = trustIdpMfa
            input.issuer = issuer; input.clientId = clientId; input.clientSecret = clientSecret; input.scopes = scopes
            input.allowedTenants = allowedTenants; input.hostedDomain = hostedDomain; input.idpEntityId = idpEntityId
            input.ssoUrl = ssoUrl; input.signingCertificates = signingCertificates
            input.requireSignedAssertion = requireSignedAssertion; input.allowIdpInitiated = allowIdpInitiated
            input.mfaAuthnContexts = mfaAuthnContexts
            return input
        }
    }

    struct CreateBody: StrictBody {
        let body: InputBody
        init(from decoder: any Decoder) throws { body = try InputBody(from: decoder) }
        static let fields = InputBody.fields
        static let required: Set<String> = ["preset", "name"]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let (providers, organization) = try await read(context, .readOrganization) {
            (try await $0.identityProviders(), try await $0.organization())
        }
        return try JSON.response(ListBody(data: providers.map { IdentityProviderBody($0, organization, services.configuration.publicURL) }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let input = try await Body.decode(CreateBody.self, from: request).body.resolvedInput()
        let keys = services.keys
        let (provider, organization) = try await write(request, context, .manageIdentityProviders) { tenant, audit in
            (try await tenant.createIdentityProvider(input, keys: keys, by: audit), try await tenant.organization())
        }
        var response = try JSON.response(IdentityProviderBody(provider, organization, services.configuration.publicURL),
                                         status: .created)
        response.headers[.location] = "/api/v1/identity-providers/\(provider.id)"
        return response
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let (provider, organization, failures) = try await read(context, .readOrganization) { tenant in
            let provider = try await tenant.requireIdentityProvider(id)
            return (provider, try await tenant.organization(), try await tenant.recentSSOFailures(providerID: provider.id))
        }
        var body = IdentityProviderBody(provider, organization, services.configuration.publicURL)
        body.recentFailures = failures
        return try JSON.response(body)
    }

    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let input = try await Body.decode(InputBody.self, from: request).resolvedInput()
        let keys = services.keys
        let (provider, organization) = try await write(request, context, .manageIdentityProviders) { tenant, audit in
            (try await tenant.updateIdentityProvider(id, input, keys: keys, by: audit), try await tenant.organization())
        }
        return try JSON.response(IdentityProviderBody(provider, organization, services.configuration.publicURL))
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await write(request, context, .manageIdentityProviders) { try await $0.deleteIdentityProvider(id, by: $1) }
        return JSON.noContent()
    }

    /// A sign-in URL that performs a real sign-in with the provider and records what it
    /// received, without signing anyone in; valid for ten minutes. Works on a disabled provider.
    @Sendable func startTest(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let (provider, organization) = try await read(context, .manageIdentityProviders) {
            (try await $0.requireIdentityProvider(id), try await $0.organization())
        }
        let url = IdentityProviderBody.testURL(provider, organization, services.configuration.publicURL, keys: services.keys)
        return try JSON.response(["signInUrl": url])
    }

    /// The last test's result: what the provider sent and what Rampart made of it, or the
    /// reason it was refused. `{"result": null}` before any test finished.
    @Sendable func lastTest(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let result = try await read(context, .readOrganization) { tenant in
            try await tenant.lastSSOTestResult(providerID: try await tenant.requireIdentityProvider(id).id)
        }
        let value = try result.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) } ?? .null
        return try JSON.response(["result": value])
    }
}

/// A provider as the API shows it: its settings (never the client secret) and what to paste
/// where: the SAML SP's entity id, ACS and metadata URLs, the OIDC redirect URI, and the URL
/// that starts a sign-in.
public struct IdentityProviderBody: Encodable, Sendable {
    public struct SAML: Encodable, Sendable {
        public let idpEntityId: String
        public let ssoUrl: String
        public let signingCertificates: [String]
        public let signingCertificateFingerprints: [String]
        public let requireSignedAssertion: Bool
        public let allowIdpInitiated: Bool
        public let mfaAuthnContexts: [String]
    }

    public let id: String
    public let kind: IdentityProviderKind
    public let preset: IdentityProviderPreset
    public let name: String
    public let domains: [String]
    public let enabled: Bool
    public let jit: Bool
    public let groupMatch: GroupMatch
    public let attributes: AttributeMapping
    public let trustIdpMfa: Bool
    public let oidc: OIDCProviderSettings?
    public let saml: SAML?
    public let redirectUri: String?
    public let spEntityId: String?
    public let acsUrl: String?
    public let metadataUrl: String?
    public let signInUrl: String
    public let createdAt: Timestamp
    public let updatedAt: Timestamp
    public var recentFailures: [SSOFailureRecord]?

    public init(_ p: IdentityProvider, _ organization: Organization, _ publicURL: String) {
        id = p.id; kind = p.kind; preset = p.preset; name = p.name; domains = p.domains; enabled = p.enabled; jit = p.jit
        groupMatch = p.groupMatch; attributes = p.attributes; trustIdpMfa = p.trustIdpMfa; oidc = p.oidc
        saml = p.saml.map {
            SAML(idpEntityId: $0.idpEntityId, ssoUrl: $0.ssoUrl, signingCertificates: $0.signingCertificates,
                 signingCertificateFingerprints: $0.signingCertificates.map { CertificateFingerprint.sha256($0) ?? "" },
                 requireSignedAssertion: $0.requireSignedAssertion, allowIdpInitiated: $0.allowIdpInitiated,
                 mfaAuthnContexts: $0.mfaAuthnContexts)
        }
        let slug = organization.slug
        redirectUri = p.kind == .oidc ? OIDCRelyingParty.redirectURI(slug: slug, providerID: p.id, publicURL: publicURL) : nil
        let saml = p.kind == .saml
        spEntityId = saml ? SAMLServiceProvider.entityID(slug: slug, providerID: p.id, publicURL: publicURL) : nil
        acsUrl = saml ? SAMLServiceProvider.acsURL(slug: slug, providerID: p.id, publicURL: publicURL) : nil
        metadataUrl = saml ? SAMLServiceProvider.metadataURL(slug: slug, providerID: p.id, publicURL: publicURL) : nil
        signInUrl = PublicLink.to(SSOController.signInPath(slug: slug, providerID: p.id), at: publicURL)
        createdAt = p.createdAt; updatedAt = p.updatedAt
    }

    static func testURL(_ p: IdentityProvider, _ organization: Organization, _ publicURL: String, keys: KeyService) -> String {
        PublicLink.to(SSOController.signInPath(slug: organization.slug, providerID: p.id), at: publicURL)
            + "?test=" + SSOTestLink(keys: keys).issue(providerID: p.id)
    }
}
