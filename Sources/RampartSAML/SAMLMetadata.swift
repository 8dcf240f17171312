import Foundation

/// The SP's metadata document, for an admin to give to the IdP.
public enum SAMLServiceProviderMetadata {
    public static func xml(entityID: String, acsURL: String, signingCertificatePEM: String?, encryptionCertificatePEM: String?) -> String {
        func keyDescriptor(_ use: String, _ pem: String?) -> String {
            guard let pem, let body = PEM.base64Body(pem) else { return "" }
            return """
            <md:KeyDescriptor use="\(use)"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\(body)</ds:X509Certificate>\
            </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
            """
        }
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <md:EntityDescriptor xmlns:md="\(SAMLNamespace.metadata)" xmlns:ds="\(SAMLNamespace.xmldsig)" entityID="\(XMLEscape.attribute(entityID))">\
        <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="\(SAMLNamespace.protocol_)">\
        \(keyDescriptor("signing", signingCertificatePEM))\(keyDescriptor("encryption", encryptionCertificatePEM))\
        <md:NameIDFormat>\(SAMLConstants.emailNameIDFormat)</md:NameIDFormat>\
        <md:AssertionConsumerService Binding="\(SAMLConstants.postBinding)" Location="\(XMLEscape.attribute(acsURL))" index="0" isDefault="true"/>\
        </md:SPSSODescriptor></md:EntityDescriptor>

        """
    }
}

/// What Rampart needs from an IdP's metadata (Okta's, Entra ID's, or any SAML 2.0 IdP's).
/// The document's own signature, if any, is not verified: the admin chose the document.
public struct SAMLIdentityProviderMetadata: Sendable, Equatable {
    public var entityID: String
    /// The SingleSignOnService with the HTTP-Redirect binding.
    public var singleSignOnRedirectURL: String
    /// The IDPSSODescriptor's signing certificates (use="signing" or no use), PEM, in order.
    public var signingCertificatesPEM: [String]

    public init(entityID: String, singleSignOnRedirectURL: String, signingCertificatesPEM: [String]) {
        self.entityID = entityID
        self.singleSignOnRedirectURL = singleSignOnRedirectURL
        self.signingCertificatesPEM = signingCertificatesPEM
    }

    static let maximumBytes = 1024 * 1024

    public static func parse(_ xml: String) throws(SAMLRejection) -> SAMLIdentityProviderMetadata {
        let data = Data(xml.utf8)
        guard data.count <= maximumBytes else { throw SAMLRejection(.tooLarge, "the metadata is larger than 1 MiB") }
        let document = try SAMLDocument.parse(data, what: "metadata")
        defer { withExtendedLifetime(document) {} }  // its nodes are read below
        let md = SAMLNamespace.metadata
        guard let root = document.root else { throw SAMLRejection(.malformed, "the metadata is empty") }
        let entities = root.is(md, "EntityDescriptor") ? [root] : root.is(md, "EntitiesDescriptor") ? root.descendants(md, "EntityDescriptor") : []
        let idps = entities.filter { $0.child(md, "IDPSSODescriptor") != nil }
        guard idps.count == 1, let entity = idps.first, let descriptor = entity.child(md, "IDPSSODescriptor") else {
            throw SAMLRejection(.malformed, idps.isEmpty
                ? "the metadata describes no identity provider (no IDPSSODescriptor); paste the IdP's SAML metadata, not the SP's"
                : "the metadata describes \(idps.count) identity providers; paste the metadata of one")
        }
        guard let entityID = entity.attribute("entityID"), !entityID.isEmpty else {
            throw SAMLRejection(.malformed, "the metadata has no entityID")
        }
        guard let sso = descriptor.children(md, "SingleSignOnService").first(where: { $0.attribute("Binding") == SAMLConstants.redirectBinding }),
              let location = sso.attribute("Location"), URL(string: location)?.scheme?.hasPrefix("http") == true
        else {
            throw SAMLRejection(.malformed, "the metadata has no SingleSignOnService with the HTTP-Redirect binding")
        }
        var certificates: [String] = []
        for key in descriptor.children(md, "KeyDescriptor") where (key.attribute("use") ?? "signing") == "signing" {
            for element in key.descendants(SAMLNamespace.xmldsig, "X509Certificate") {
                let pem = PEM.certificate(derBase64: element.text)
                guard XMLSecKey.certificate(pem: pem) != nil else {
                    throw SAMLRejection(.malformed, "a signing certificate in the metadata is not a valid X.509 certificate")
                }
                if !certificates.contains(pem) { certificates.append(pem) }
            }
        }
        guard !certificates.isEmpty else { throw SAMLRejection(.malformed, "the metadata names no signing certificate") }
        return SAMLIdentityProviderMetadata(entityID: entityID, singleSignOnRedirectURL: location, signingCertificatesPEM: certificates)
    }
}
