import Crypto
import Foundation
import X509

public enum IdentityProviderKind: String, Codable, Sendable, CaseIterable {
    case saml, oidc
}

/// What an admin picked in the wizard: it decides the protocol and the defaults (attribute
/// names, scopes, issuer rules) and the instructions shown, nothing else.
public enum IdentityProviderPreset: String, Codable, Sendable, CaseIterable {
    case okta, entra, google, saml, oidc

    public var kind: IdentityProviderKind {
        switch self {
        case .saml: .saml
        case .okta, .entra, .google, .oidc: .oidc
        }
    }

    public var displayName: String {
        switch self {
        case .okta: "Okta"
        case .entra: "Microsoft Entra ID"
        case .google: "Google Workspace"
        case .saml: "SAML 2.0"
        case .oidc: "OpenID Connect"
        }
    }
}

/// How the names in the groups claim or attribute find Rampart groups: by the group's name,
/// or by the `externalId` a SCIM client gave it (an IdP that sends object ids, as Entra does).
public enum GroupMatch: String, Codable, Sendable, CaseIterable {
    case name
    case externalId = "external_id"
}

/// The claim (OIDC) or attribute (SAML) names each user field is read from.
public struct AttributeMapping: Codable, Sendable, Equatable {
    public var email: String
    public var givenName: String
    public var familyName: String
    public var displayName: String
    public var groups: String

    public init(email: String, givenName: String, familyName: String, displayName: String, groups: String) {
        self.email = email; self.givenName = givenName; self.familyName = familyName
        self.displayName = displayName; self.groups = groups
    }

    public static func defaults(for preset: IdentityProviderPreset) -> AttributeMapping {
        switch preset {
        case .saml:
            AttributeMapping(email: "email", givenName: "firstName", familyName: "lastName", displayName: "displayName",
                             groups: "groups")
        case .entra:
            // Entra's `groups` claim carries object ids (match them by external_id); `preferred_username` is the UPN.
            AttributeMapping(email: "email", givenName: "given_name", familyName: "family_name", displayName: "name",
                             groups: "groups")
        case .okta, .google, .oidc:
            AttributeMapping(email: "email", givenName: "given_name", familyName: "family_name", displayName: "name",
                             groups: "groups")
        }
    }
}

/// An OpenID Connect provider's settings. The client secret is never part of this value: it is
/// sealed in its own column and only `hasClientSecret` says whether one is set.
public struct OIDCProviderSettings: Codable, Sendable, Equatable {
    public var issuer: String
    public var clientId: String
    public var scopes: [String]
    /// Entra only: the tenant ids (`tid`) whose people may sign in; the issuer may then hold `{tenantid}`.
    public var allowedTenants: [String]
    /// Google only: the Workspace domain (`hd`) every ID token must carry.
    public var hostedDomain: String?
    public var hasClientSecret: Bool

    public init(issuer: String, clientId: String, scopes: [String], allowedTenants: [String], hostedDomain: String?,
                hasClientSecret: Bool) {
        self.issuer = issuer; self.clientId = clientId; self.scopes = scopes; self.allowedTenants = allowedTenants
        self.hostedDomain = hostedDomain; self.hasClientSecret = hasClientSecret
    }

    public static let defaultScopes = ["openid", "email", "profile"]
    public static let tenantPlaceholder = "{tenantid}"
}

/// A SAML identity provider's settings, kept for the SAML service provider.
public struct SAMLProviderSettings: Codable, Sendable, Equatable {
    public var idpEntityId: String
    public var ssoUrl: String
    /// PEM, one or two (the second for a rollover).
    public var signingCertificates: [String]
    public var requireSignedAssertion: Bool
    public var allowIdpInitiated: Bool
    /// The AuthnContextClassRef values (or Entra's authnmethodsreferences values) that say the
    /// IdP did MFA; read only when the provider's MFA is trusted (`trustIdpMfa`).
    public var mfaAuthnContexts: [String]

    public init(idpEntityId: String, ssoUrl: String, signingCertificates: [String], requireSignedAssertion: Bool,
                allowIdpInitiated: Bool, mfaAuthnContexts: [String] = SAMLProviderSettings.defaultMFAAuthnContexts) {
        self.idpEntityId = idpEntityId; self.ssoUrl = ssoUrl; self.signingCertificates = signingCertificates
        self.requireSignedAssertion = requireSignedAssertion; self.allowIdpInitiated = allowIdpInitiated
        self.mfaAuthnContexts = mfaAuthnContexts
    }

    /// REFEDS MFA, Entra's multipleauthn, and SAML 2.0's multi-factor classes.
    public static let defaultMFAAuthnContexts = [
        "https://refeds.org/profile/mfa",
        "http://schemas.microsoft.com/claims/multipleauthn",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    ]

    enum CodingKeys: String, CodingKey {
        case idpEntityId, ssoUrl, signingCertificates, requireSignedAssertion, allowIdpInitiated, mfaAuthnContexts
    }

    /// Providers stored before `mfaAuthnContexts` existed read with the defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        idpEntityId = try container.decode(String.self, forKey: .idpEntityId)
        ssoUrl = try container.decode(String.self, forKey: .ssoUrl)
        signingCertificates = try container.decode([String].self, forKey: .signingCertificates)
        requireSignedAssertion = try container.decode(Bool.self, forKey: .requireSignedAssertion)
        allowIdpInitiated = try container.decode(Bool.self, forKey: .allowIdpInitiated)
        mfaAuthnContexts = try container.decodeIfPresent([String].self, forKey: .mfaAuthnContexts) ?? Self.defaultMFAAuthnContexts
    }
}

/// An organisation's upstream identity provider: where the people of some of its verified
/// domains sign in (docs/sso.md).
public struct IdentityProvider: Codable, Sendable, Equatable {
    public var id: String
    public var kind: IdentityProviderKind
    public var preset: IdentityProviderPreset
    public var name: String
    /// Verified domains of the organisation whose people home-realm discovery sends here.
    public var domains: [String]
    public var enabled: Bool
    /// Whether a first sign-in creates the account (just-in-time provisioning).
    public var jit: Bool
    public var groupMatch: GroupMatch
    public var attributes: AttributeMapping
    /// Whether the IdP's own MFA (`amr`, AuthnContextClassRef) satisfies an MFA-required policy.
    public var trustIdpMfa: Bool
    public var oidc: OIDCProviderSettings?
    public var saml: SAMLProviderSettings?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(id: String, kind: IdentityProviderKind, preset: IdentityProviderPreset, name: String, domains: [String],
                enabled: Bool, jit: Bool, groupMatch: GroupMatch, attributes: AttributeMapping, trustIdpMfa: Bool,
                oidc: OIDCProviderSettings?, saml: SAMLProviderSettings?, createdAt: Timestamp, updatedAt: Timestamp) {
        self.id = id; self.kind = kind; self.preset = preset; self.name = name; self.domains = domains
        self.enabled = enabled; self.jit = jit; self.groupMatch = groupMatch; self.attributes = attributes
        self.trustIdpMfa = trustIdpMfa; self.oidc = oidc; self.saml = saml; self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The settings an admin gives, before they are checked; every field optional so the same
/// value serves a creation (where `preset` and `name` are required) and a patch.
public struct IdentityProviderInput: Sendable {
    public var preset: IdentityProviderPreset?
    public var name: String?
    public var domains: [String]?
    public var enabled: Bool?
    public var jit: Bool?
    public var groupMatch: GroupMatch?
    public var attributes: [String: String]?
    public var trustIdpMfa: Bool?
    public var issuer: String?
    public var clientId: String?
    /// A new client secret; an empty string removes it.
    public var clientSecret: String?
    public var scopes: [String]?
    public var allowedTenants: [String]?
    public var hostedDomain: String?
    public var idpEntityId: String?
    public var ssoUrl: String?
    public var signingCertificates: [String]?
    public var requireSignedAssertion: Bool?
    public var allowIdpInitiated: Bool?
    public var mfaAuthnContexts: [String]?
    /// The field the SAML settings were imported from (`metadataXml`, `metadataUrl`), so a
    /// refusal names what the admin gave.
    public var importedFrom: String?

    public init() {}

    public static let maximumCertificates = 2
    static let attributeKeys: Set<String> = ["email", "givenName", "familyName", "displayName", "groups"]

    /// A new provider from this input: `preset` and `name` are required, then whatever the
    /// protocol needs (issuer and client id; IdP entity id, SSO URL and a certificate).
    public func created(id: String, at now: Timestamp) throws(RampartError) -> IdentityProvider {
        guard let preset else { throw .invalidField("preset", "is required: one of \(Self.list(IdentityProviderPreset.allCases))") }
        guard name != nil else { throw .invalidField("name", "is required") }
        var provider = IdentityProvider(
            id: id, kind: preset.kind, preset: preset, name: "", domains: [], enabled: true, jit: false, groupMatch: .name,
            attributes: .defaults(for: preset), trustIdpMfa: false,
            oidc: preset.kind == .oidc ? OIDCProviderSettings(issuer: "", clientId: "", scopes: OIDCProviderSettings.defaultScopes,
                                                              allowedTenants: [], hostedDomain: nil, hasClientSecret: false) : nil,
            saml: preset.kind == .saml ? SAMLProviderSettings(idpEntityId: "", ssoUrl: "", signingCertificates: [],
                                                              requireSignedAssertion: true, allowIdpInitiated: false) : nil,
            createdAt: now, updatedAt: now)
        try apply(to: &provider)
        return provider
    }

    /// Applies the given fields to `provider` and checks the result as a whole.
    public func apply(to provider: inout IdentityProvider) throws(RampartError) {
        if let preset, preset != provider.preset {
            throw .invalidField("preset", "cannot change; create another identity provider instead")
        }
        if let name { provider.name = try Validate.name(name, field: "name") }
        if let domains {
            var seen: [String] = []
            for raw in domains {
                let domain = raw.trimming(.whitespaces).lowercased()
                guard !domain.isEmpty, domain.count <= 253, !domain.contains("@"), !domain.contains("/") else {
                    throw .invalidField("domains", "must list domain names such as example.com")
                }
                if !seen.contains(domain) { seen.append(domain) }
            }
            guard seen.count <= 50 else { throw .invalidField("domains", "must list at most 50 domains") }
            provider.domains = seen
        }
        if let enabled { provider.enabled = enabled }
        if let jit { provider.jit = jit }
        if let groupMatch { provider.groupMatch = groupMatch }
        if let trustIdpMfa { provider.trustIdpMfa = trustIdpMfa }
        if let attributes {
            for (key, value) in attributes {
                guard Self.attributeKeys.contains(key) else {
                    throw .invalidField("attributes", "has an unknown key '\(key)'; use \(Self.attributeKeys.sorted().joined(separator: ", "))")
                }
                let name = try Validate.text(value, field: "attributes.\(key)", max: 256)
                guard !name.isEmpty, !name.contains("\n") else { throw .invalidField("attributes.\(key)", "must be a claim or attribute name") }
                switch key {
                case "email": provider.attributes.email = name
                case "givenName": provider.attributes.givenName = name
                case "familyName": provider.attributes.familyName = name
                case "displayName": provider.attributes.displayName = name
                default: provider.attributes.groups = name
                }
            }
        }
        switch provider.kind {
        case .oidc: try applyOIDC(to: &provider)
        case .saml: try applySAML(to: &provider)
        }
    }

    private func applyOIDC(to provider: inout IdentityProvider) throws(RampartError) {
        if let importedFrom { throw .invalidField(importedFrom, "is SAML metadata; this is an OpenID Connect provider") }
        if let field = [("idpEntityId", idpEntityId != nil), ("ssoUrl", ssoUrl != nil), ("signingCertificates", signingCertificates != nil),
                        ("requireSignedAssertion", requireSignedAssertion != nil), ("allowIdpInitiated", allowIdpInitiated != nil),
                        ("mfaAuthnContexts", mfaAuthnContexts != nil)]
            .first(where: \.1)?.0 {
            throw .invalidField(field, "is a SAML setting; this is an OpenID Connect provider")
        }
        var settings = provider.oidc!
        if let issuer {
            let template = provider.preset == .entra && issuer.contains(OIDCProviderSettings.tenantPlaceholder)
            let checked = try Validate.url(template ? issuer.replacingOccurrences(of: OIDCProviderSettings.tenantPlaceholder,
                                                                                  with: "tenant") : issuer, field: "issuer")
            guard !checked.contains("?"), !checked.contains("#") else { throw .invalidField("issuer", "must not have a query or fragment") }
            settings.issuer = template ? issuer.trimming(.whitespaces) : checked
        }
        if let clientId {
            let value = try Validate.text(clientId, field: "clientId", max: 512)
            guard !value.isEmpty, !value.contains("\n") else { throw .invalidField("clientId", "must not be empty") }
            settings.clientId = value
        }
        if let clientSecret {
            guard clientSecret.utf8.count <= 1024, !clientSecret.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw .invalidField("clientSecret", "must be at most 1024 characters without control characters")
            }
            settings.hasClientSecret = !clientSecret.isEmpty
        }
        if let scopes {
            let cleaned = scopes.map { $0.trimming(.whitespaces) }
            guard cleaned.count <= 20, cleaned.allSatisfy({ !$0.isEmpty && $0.count <= 100
                && $0.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" } })
            else { throw .invalidField("scopes", "must list at most 20 scope tokens") }
            settings.scopes = (cleaned.contains("openid") ? [] : ["openid"]) + cleaned
        }
        if let allowedTenants {
            guard provider.preset == .entra || allowedTenants.isEmpty else {
                throw .invalidField("allowedTenants", "applies to Microsoft Entra ID providers only")
            }
            let cleaned = allowedTenants.map { $0.trimming(.whitespaces).lowercased() }
            guard cleaned.count <= 20, cleaned.allSatisfy({ UUID(uuidString: $0) != nil }) else {
                throw .invalidField("allowedTenants", "must list Entra tenant ids (GUIDs)")
            }
            settings.allowedTenants = cleaned
        }
        if let hostedDomain {
            guard provider.preset == .google || hostedDomain.isEmpty else {
                throw .invalidField("hostedDomain", "applies to Google Workspace providers only")
            }
            let value = hostedDomain.trimming(.whitespaces).lowercased()
            guard value.count <= 253, !value.contains("@"), !value.contains("/"), !value.contains(" ") else {
                throw .invalidField("hostedDomain", "must be a domain name such as example.com")
            }
            settings.hostedDomain = value.isEmpty ? nil : value
        }
        guard !settings.issuer.isEmpty else { throw .invalidField("issuer", "is required for an OpenID Connect provider") }
        guard !settings.clientId.isEmpty else { throw .invalidField("clientId", "is required for an OpenID Connect provider") }
        if settings.issuer.contains(OIDCProviderSettings.tenantPlaceholder) && settings.allowedTenants.isEmpty {
            throw .invalidField("allowedTenants", "must name at least one tenant when the issuer holds {tenantid}")
        }
        provider.oidc = settings
    }

    private func applySAML(to provider: inout IdentityProvider) throws(RampartError) {
        if let field = [("issuer", issuer != nil), ("clientId", clientId != nil), ("clientSecret", clientSecret != nil),
                        ("scopes", scopes != nil), ("allowedTenants", allowedTenants != nil), ("hostedDomain", hostedDomain != nil)]
            .first(where: \.1)?.0 {
            throw .invalidField(field, "is an OpenID Connect setting; this is a SAML provider")
        }
        var settings = provider.saml!
        if let idpEntityId {
            let value = try Validate.text(idpEntityId, field: "idpEntityId", max: 1024)
            guard !value.isEmpty, !value.contains("\n"), !value.contains(" ") else {
                throw .invalidField("idpEntityId", "must be the IdP's entity id (a URI)")
            }
            settings.idpEntityId = value
        }
        if let ssoUrl { settings.ssoUrl = try Validate.url(ssoUrl, field: "ssoUrl") }
        if let signingCertificates {
            guard (1...Self.maximumCertificates).contains(signingCertificates.count) else {
                throw .invalidField("signingCertificates", "must hold one or two PEM certificates (two during a rollover)")
            }
            settings.signingCertificates = try signingCertificates.map { pem throws(RampartError) in try Self.certificate(pem) }
        }
        if let requireSignedAssertion { settings.requireSignedAssertion = requireSignedAssertion }
        if let allowIdpInitiated { settings.allowIdpInitiated = allowIdpInitiated }
        if let mfaAuthnContexts {
            let cleaned = mfaAuthnContexts.map { $0.trimming(.whitespaces) }.filter { !$0.isEmpty }
            guard cleaned.count <= 20, cleaned.allSatisfy({ $0.count <= 256 && !$0.unicodeScalars.contains { $0.value <= 0x20 } }) else {
                throw .invalidField("mfaAuthnContexts", "must list at most 20 AuthnContextClassRef URIs")
            }
            settings.mfaAuthnContexts = cleaned
        }
        guard !settings.idpEntityId.isEmpty else { throw .invalidField("idpEntityId", "is required for a SAML provider") }
        guard !settings.ssoUrl.isEmpty else { throw .invalidField("ssoUrl", "is required for a SAML provider") }
        guard !settings.signingCertificates.isEmpty else {
            throw .invalidField("signingCertificates", "is required for a SAML provider: the IdP's signing certificate (PEM)")
        }
        provider.saml = settings
    }

    /// A certificate as PEM in its normal form, if it parses as X.509.
    static func certificate(_ pem: String) throws(RampartError) -> String {
        guard pem.utf8.count <= 16 * 1024, let certificate = try? Certificate(pemEncoded: pem.trimming(.whitespacesAndNewlines)),
              let normal = try? certificate.serializeAsPEM().pemString else {
            throw .invalidField("signingCertificates", "must hold PEM certificates (-----BEGIN CERTIFICATE----- …) that parse as X.509")
        }
        return normal
    }

    private static func list<T: RawRepresentable>(_ values: [T]) -> String where T.RawValue == String {
        values.map(\.rawValue).joined(separator: ", ")
    }
}

/// A SHA-256 fingerprint of a PEM certificate, as IdP consoles show it (upper-case hex pairs).
public enum CertificateFingerprint {
    public static func sha256(_ pem: String) -> String? {
        guard let certificate = try? Certificate(pemEncoded: pem), let der = try? certificate.serializeAsPEM().derBytes else { return nil }
        return SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
    }
}
