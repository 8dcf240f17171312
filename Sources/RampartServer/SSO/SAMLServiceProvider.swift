import Foundation
import RampartCore
import RampartSAML
import RampartStorage

/// Rampart as the SAML 2.0 service provider of an organisation's identity provider: the
/// AuthnRequest of an SP-initiated sign-in (HTTP-Redirect binding), the response posted to the
/// ACS checked by `SAMLResponseValidator` and the assertion-ID replay cache, and the SP metadata.
/// Each provider has its own entity ID, ACS URL and key pair.
struct SAMLServiceProvider: Sendable {
    let services: RampartServices

    /// The most a Redirect-binding message may inflate to: an AuthnRequest or LogoutRequest is a
    /// few KiB, and a message must not grow into a large one in memory.
    static let maximumRedirectMessageBytes = 64 * 1024

    static func basePath(slug: String, providerID: String) -> String { "/o/\(slug)/sso/saml/\(providerID)" }

    /// The SP entity ID is the metadata URL: an admin who pastes it can open it.
    static func entityID(slug: String, providerID: String, publicURL: String) -> String { metadataURL(slug: slug, providerID: providerID, publicURL: publicURL) }
    static func metadataURL(slug: String, providerID: String, publicURL: String) -> String {
        PublicLink.to(basePath(slug: slug, providerID: providerID) + "/metadata", at: publicURL)
    }
    static func acsURL(slug: String, providerID: String, publicURL: String) -> String {
        PublicLink.to(basePath(slug: slug, providerID: providerID) + "/acs", at: publicURL)
    }

    /// `/o/{slug}/sso/saml/{id}/acs`: the one route another site's page posts to (the IdP's form).
    static func isAssertionConsumer(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 7 && parts[0].isEmpty && parts[1] == "o" && parts[3] == "sso" && parts[4] == "saml" && parts[6] == "acs"
    }

    /// What the response validator checks a response of this provider against.
    func settings(_ provider: IdentityProvider, _ organization: Organization, key: SAMLServiceProviderKey?) -> RampartSAML.SAMLProviderSettings {
        let publicURL = services.configuration.publicURL, slug = organization.slug
        let saml = provider.saml
        return RampartSAML.SAMLProviderSettings(
            spEntityID: Self.entityID(slug: slug, providerID: provider.id, publicURL: publicURL),
            acsURL: Self.acsURL(slug: slug, providerID: provider.id, publicURL: publicURL),
            idpEntityID: saml?.idpEntityId ?? "", idpSigningCertificatesPEM: saml?.signingCertificates ?? [],
            requireSignedAssertion: saml?.requireSignedAssertion ?? true, allowIdPInitiated: saml?.allowIdpInitiated ?? false,
            spDecryptionKeyPEM: key?.privateKeyPEM)
    }

    private func key(_ provider: IdentityProvider, _ organization: Organization) async throws -> SAMLServiceProviderKey {
        let keys = services.keys, id = provider.id
        let stored = try await services.database.read(org: organization.id) { try await $0.samlServiceProviderKey(providerID: id, keys: keys) }
        if let stored { return stored }
        return try await services.database.write(org: organization.id) { try await $0.ensureSAMLServiceProviderKey(providerID: id, keys: keys) }
    }

    /// Starts an SP-initiated sign-in: records the attempt (keyed by the RelayState handed to the
    /// IdP, holding the AuthnRequest ID the response must answer) and returns the IdP URL.
    func authnRequestURL(provider: IdentityProvider, organization: Organization, browserHash: String, returnTo: String?,
                         testMode: Bool) async throws -> String {
        guard let saml = provider.saml, let ssoURL = URL(string: saml.ssoUrl) else {
            throw SSOFailure(.samlMalformed, detail: "the identity provider has no single sign-on URL; set it or import the IdP's metadata")
        }
        let relayState = OIDCRelyingParty.random()
        let now = Timestamp.now()
        let (requestID, url) = SAMLAuthnRequest.redirect(settings: settings(provider, organization, key: nil), idpSSOURL: ssoURL,
                                                         relayState: relayState, now: Date())
        let attempt = SSOAttempt(id: SSOHash.of(relayState), providerID: provider.id, browserHash: browserHash, nonceHash: nil,
                                 pkceVerifier: nil, samlRequestID: requestID, returnTo: returnTo, testMode: testMode,
                                 createdAt: now, expiresAt: now.adding(seconds: SSOController.attemptLifetimeSeconds))
        let keys = services.keys
        try await services.database.write(org: organization.id) { try await $0.startSSOAttempt(attempt, keys: keys) }
        return url.absoluteString
    }

    /// The identity a posted response proves: every check of the validator against this provider's
    /// settings (`expectedRequestID` nil for an IdP-initiated response), then the replay cache.
    func identity(provider: IdentityProvider, organization: Organization, base64Response: String,
                  expectedRequestID: String?) async throws -> FederatedIdentity {
        let validator = SAMLResponseValidator(settings: settings(provider, organization, key: try await key(provider, organization)))
        let assertion: SAMLAssertion
        do {
            assertion = try validator.validate(base64Response: base64Response, expectedRequestID: expectedRequestID, now: Date())
        } catch {
            throw SSOFailure(error)
        }
        let id = provider.id
        let expiresAt = Timestamp(microseconds: Int64(assertion.notOnOrAfter.timeIntervalSince1970 * 1_000_000))
        let first = try await services.database.write(org: organization.id) {
            try await $0.rememberAssertionID(providerID: id, assertionID: assertion.id, expiresAt: expiresAt)
        }
        guard first else {
            throw SSOFailure(.samlAssertionReplayed, detail: "this assertion was already used to sign in; a response is accepted once")
        }
        return Self.identity(from: assertion, provider: provider)
    }

    /// Entra ID's claim of the methods used, beside AuthnContextClassRef.
    static let authnMethodsAttribute = "http://schemas.microsoft.com/claims/authnmethodsreferences"

    /// The attributes an admin mapped, read as a protocol-neutral identity. The NameID is the
    /// subject; an email-format NameID is the email when no attribute gives one. A SAML IdP
    /// asserts only addresses it manages, so the email counts as verified.
    static func identity(from assertion: SAMLAssertion, provider: IdentityProvider) -> FederatedIdentity {
        let mapping = provider.attributes
        func first(_ name: String) -> String? {
            assertion.attributes[name]?.first { !$0.isEmpty }.map { String($0.prefix(320)) }
        }
        let nameIDIsEmail = assertion.nameIDFormat == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        let methods = assertion.authnContextClassRefs + (assertion.attributes[authnMethodsAttribute] ?? [])
        let mfaContexts = Set(provider.saml?.mfaAuthnContexts ?? [])
        var received: [String: String] = ["NameID": assertion.nameID]
        if let format = assertion.nameIDFormat { received["NameID Format"] = format }
        if !assertion.authnContextClassRefs.isEmpty { received["AuthnContextClassRef"] = assertion.authnContextClassRefs.joined(separator: ", ") }
        for (name, values) in assertion.attributes.prefix(100) { received[name] = String(values.joined(separator: ", ").prefix(500)) }
        return FederatedIdentity(
            subject: assertion.nameID, email: (first(mapping.email) ?? (nameIDIsEmail ? assertion.nameID : nil))?.lowercased(),
            emailVerified: true, givenName: first(mapping.givenName), familyName: first(mapping.familyName),
            displayName: first(mapping.displayName), groups: assertion.attributes[mapping.groups].map { Array($0.prefix(500)) },
            mfaSatisfied: methods.contains(where: mfaContexts.contains), received: received)
    }

    /// The SP metadata an admin gives the IdP (or the IdP reads from `metadataUrl`).
    func metadata(provider: IdentityProvider, organization: Organization) async throws -> String {
        let key = try await key(provider, organization)
        let settings = settings(provider, organization, key: key)
        return SAMLServiceProviderMetadata.xml(entityID: settings.spEntityID, acsURL: settings.acsURL,
                                               signingCertificatePEM: key.certificatePEM, encryptionCertificatePEM: key.certificatePEM)
    }
}
