import CLibXML2
import CXMLSec
import Foundation
import RampartCore

/// Validates a SAML Response posted to the ACS (HTTP-POST binding) for one identity provider.
/// Every check of the issue except the replay cache, which is the caller's (keep `id` until
/// `notOnOrAfter`). Safe to share between tasks: it holds only loaded, read-only keys.
public struct SAMLResponseValidator: Sendable {
    public let settings: SAMLProviderSettings
    private let signingKeys: [XMLSecKey]
    private let decryptionKey: XMLSecKey?

    public init(settings: SAMLProviderSettings) {
        self.settings = settings
        signingKeys = settings.idpSigningCertificatesPEM.compactMap { XMLSecKey.certificate(pem: $0) }
        decryptionKey = settings.spDecryptionKeyPEM.flatMap { XMLSecKey.privateKey(pem: $0) }
    }

    /// `base64Response` is the POSTed SAMLResponse; `expectedRequestID` the ID of the AuthnRequest
    /// this browser's sign-in attempt sent (nil: unsolicited, allowed only with allowIdPInitiated).
    public func validate(base64Response: String, expectedRequestID: String?, now: Date) throws(SAMLRejection) -> SAMLAssertion {
        if expectedRequestID == nil, !settings.allowIdPInitiated {
            throw SAMLRejection(.unsolicited, "IdP-initiated sign-in is off for this identity provider: start the sign-in from Rampart, or turn IdP-initiated sign-in on")
        }
        guard !signingKeys.isEmpty else {
            throw SAMLRejection(.certificateNotConfigured, "no usable signing certificate is configured for this identity provider; paste its certificate or import its metadata again")
        }
        let document = try SAMLDocument.parse(try Self.decode(base64Response), what: "response")
        guard let root = document.root, root.is(SAMLNamespace.protocol_, "Response") else {
            throw SAMLRejection(.malformed, "the message is not a SAML Response")
        }
        try document.registerIDs()
        try Self.requireOneAssertion(in: root)
        let verifier = SignatureVerifier(keys: signingKeys)

        // The Response: read from its signed bytes when it is signed.
        let responseSignatures = root.children(SAMLNamespace.xmldsig, "Signature")
        guard responseSignatures.count <= 1 else { throw SAMLRejection(.malformed, "the response has more than one signature") }
        var signedResponse: SAMLDocument?
        if let signature = responseSignatures.first {
            signedResponse = try verifier.verify(signature, of: root, what: "response")
        }
        let response = signedResponse?.root ?? root
        if let signedResponse, let signedRoot = signedResponse.root { try Self.requireOneAssertion(in: signedRoot) }
        try checkResponse(response, signed: signedResponse != nil, expectedRequestID: expectedRequestID)

        // The Assertion: read from its own signed bytes, or from the signed Response's.
        var assertion = try assertionElement(in: root, document: document)
        let assertionSignatures = assertion.children(SAMLNamespace.xmldsig, "Signature")
        guard assertionSignatures.count <= 1 else { throw SAMLRejection(.malformed, "the assertion has more than one signature") }
        var signedAssertion: SAMLDocument?
        if let signature = assertionSignatures.first {
            signedAssertion = try verifier.verify(signature, of: assertion, what: "assertion")
            assertion = signedAssertion!.root!
        } else if settings.requireSignedAssertion {
            throw SAMLRejection(.signatureMissing, signedResponse == nil
                ? "neither the response nor the assertion is signed; configure the IdP to sign the assertion"
                : "the assertion is not signed (only the response is); configure the IdP to sign the assertion, or accept a signed response alone for this provider")
        } else if let signedResponse, let signedRoot = signedResponse.root {
            assertion = try assertionElement(in: signedRoot, document: signedResponse)
        } else {
            throw SAMLRejection(.signatureMissing, "neither the response nor the assertion is signed; configure the IdP to sign the assertion")
        }
        return try withExtendedLifetime((signedAssertion, signedResponse, document)) { () throws(SAMLRejection) -> SAMLAssertion in
            try read(assertion, expectedRequestID: expectedRequestID, now: now)
        }
    }

    static func decode(_ base64: String) throws(SAMLRejection) -> Data {
        let limit = SAMLConstants.maximumResponseBytes
        guard base64.utf8.count <= (limit / 3 + 1) * 4 + limit / 32 else {
            throw SAMLRejection(.tooLarge, "the response is larger than \(limit / 1024) KiB")
        }
        guard let data = Base64.decode(base64) else {
            throw SAMLRejection(.malformed, "the SAMLResponse is not base64")
        }
        guard data.count <= limit else { throw SAMLRejection(.tooLarge, "the response is larger than \(limit / 1024) KiB") }
        return data
    }

    /// Exactly one Assertion or EncryptedAssertion anywhere in the response: wrapping attacks
    /// need a second one somewhere.
    private static func requireOneAssertion(in root: SAMLNode) throws(SAMLRejection) {
        let count = root.descendants(SAMLNamespace.assertion, "Assertion").count
            + root.descendants(SAMLNamespace.assertion, "EncryptedAssertion").count
        guard count == 1 else {
            throw SAMLRejection(.assertionCount, "the response must carry exactly one assertion; it carries \(count)")
        }
    }

    /// The one Assertion, a direct child of the Response, decrypted first if it is encrypted.
    private func assertionElement(in response: SAMLNode, document: SAMLDocument) throws(SAMLRejection) -> SAMLNode {
        if let assertion = response.child(SAMLNamespace.assertion, "Assertion") { return assertion }
        guard let encrypted = response.child(SAMLNamespace.assertion, "EncryptedAssertion") else {
            throw SAMLRejection(.assertionCount, "the response's assertion is not where SAML puts it (a child of the Response)")
        }
        let assertion = try AssertionDecryptor(key: decryptionKey).decrypt(encrypted, in: document)
        // The plaintext must not smuggle in a second assertion either.
        guard response.descendants(SAMLNamespace.assertion, "Assertion").count == 1,
              response.descendants(SAMLNamespace.assertion, "EncryptedAssertion").count == 1
        else {
            throw SAMLRejection(.assertionCount, "the encrypted assertion must decrypt to exactly one assertion")
        }
        return assertion
    }

    private func checkResponse(_ response: SAMLNode, signed: Bool, expectedRequestID: String?) throws(SAMLRejection) {
        let status = response.child(SAMLNamespace.protocol_, "Status")?.child(SAMLNamespace.protocol_, "StatusCode")
        let code = status?.attribute("Value") ?? ""
        guard code == SAMLConstants.success else {
            let second = status?.child(SAMLNamespace.protocol_, "StatusCode")?.attribute("Value") ?? ""
            let named = [code, second].filter { $0.hasPrefix("urn:oasis:names:tc:SAML:2.0:status:") }
                .map { $0.replacingOccurrences(of: "urn:oasis:names:tc:SAML:2.0:status:", with: "") }
            throw SAMLRejection(.statusNotSuccess, "the identity provider did not sign the person in (status \(named.isEmpty ? "unknown" : named.joined(separator: "/")))")
        }
        if let issuer = response.child(SAMLNamespace.assertion, "Issuer")?.trimmedText, issuer != settings.idpEntityID {
            throw SAMLRejection(.issuerMismatch, "the response comes from another issuer than this provider's entity ID; check the IdP entity ID")
        }
        let destination = response.attribute("Destination")
        if destination.map({ $0 != settings.acsURL }) ?? signed {
            throw SAMLRejection(.destinationMismatch, "the response is addressed to another URL than this provider's ACS URL; set the IdP's ACS URL to \(settings.acsURL)")
        }
        if let inResponseTo = response.attribute("InResponseTo") {
            guard let expectedRequestID, constantTimeEquals(inResponseTo, expectedRequestID) else {
                throw SAMLRejection(.inResponseToMismatch, "the response answers another sign-in request than the one this browser started; start the sign-in again")
            }
        }
    }

    /// The checks on the signed assertion, then what it says.
    private func read(_ assertion: SAMLNode, expectedRequestID: String?, now: Date) throws(SAMLRejection) -> SAMLAssertion {
        let saml = SAMLNamespace.assertion
        let skew = settings.maximumClockSkew
        guard let id = assertion.attribute("ID"), !id.isEmpty else { throw SAMLRejection(.malformed, "the assertion has no ID") }
        guard let issuer = assertion.child(saml, "Issuer")?.trimmedText, issuer == settings.idpEntityID else {
            throw SAMLRejection(.issuerMismatch, "the assertion's issuer is not this provider's entity ID; check the IdP entity ID")
        }
        guard let conditions = assertion.child(saml, "Conditions") else {
            throw SAMLRejection(.audienceMismatch, "the assertion has no Conditions naming this service provider as its audience")
        }
        var validUntil: Date?
        if let text = conditions.attribute("NotBefore") {
            guard let notBefore = SAMLTime.parse(text) else { throw SAMLRejection(.malformed, "the assertion's NotBefore is not a time") }
            if now.addingTimeInterval(skew) < notBefore {
                throw SAMLRejection(.notYetValid, "the assertion is not valid yet; check the clocks of the IdP and of this server")
            }
        }
        if let text = conditions.attribute("NotOnOrAfter") {
            guard let notOnOrAfter = SAMLTime.parse(text) else { throw SAMLRejection(.malformed, "the assertion's NotOnOrAfter is not a time") }
            if now.addingTimeInterval(-skew) >= notOnOrAfter {
                throw SAMLRejection(.expired, "the assertion has expired; sign in again (or check the clocks of the IdP and of this server)")
            }
            validUntil = notOnOrAfter
        }
        let restrictions = conditions.children(saml, "AudienceRestriction")
        guard !restrictions.isEmpty, restrictions.allSatisfy({ restriction in
            restriction.children(saml, "Audience").contains { $0.trimmedText == settings.spEntityID }
        }) else {
            throw SAMLRejection(.audienceMismatch, "the assertion is meant for another service provider; set the IdP's audience (SP entity ID) to \(settings.spEntityID)")
        }

        guard let subject = assertion.child(saml, "Subject"), let nameID = subject.child(saml, "NameID") else {
            throw SAMLRejection(.malformed, "the assertion has no Subject with a NameID")
        }
        let confirmedUntil = try confirmBearer(subject, expectedRequestID: expectedRequestID, now: now)
        validUntil = min(validUntil ?? confirmedUntil, confirmedUntil)

        guard let authn = assertion.child(saml, "AuthnStatement") else {
            throw SAMLRejection(.malformed, "the assertion has no AuthnStatement")
        }
        if let text = authn.attribute("SessionNotOnOrAfter"), let end = SAMLTime.parse(text), now.addingTimeInterval(-skew) >= end {
            throw SAMLRejection(.expired, "the identity provider's session has ended; sign in again")
        }
        var attributes: [String: [String]] = [:], friendlyAttributes: [String: [String]] = [:]
        for statement in assertion.children(saml, "AttributeStatement") {
            for attribute in statement.children(saml, "Attribute") {
                guard let name = attribute.attribute("Name") else { continue }
                let values = attribute.children(saml, "AttributeValue").map(\.trimmedText)
                attributes[name, default: []] += values
                // Also under its FriendlyName ("mail" beside "urn:oid:0.9.2342.19200300.100.1.3"),
                // unless an attribute has that Name: a mapping may use either.
                if let friendly = attribute.attribute("FriendlyName"), friendly != name {
                    friendlyAttributes[friendly, default: []] += values
                }
            }
        }
        for (friendly, values) in friendlyAttributes where attributes[friendly] == nil { attributes[friendly] = values }
        let value = nameID.trimmedText
        guard !value.isEmpty else { throw SAMLRejection(.malformed, "the assertion's NameID is empty") }
        return SAMLAssertion(
            id: id, issuer: issuer, nameID: value, nameIDFormat: nameID.attribute("Format"),
            sessionIndex: authn.attribute("SessionIndex"), attributes: attributes,
            authnContextClassRefs: authn.descendants(saml, "AuthnContextClassRef").map(\.trimmedText),
            authnInstant: authn.attribute("AuthnInstant").flatMap(SAMLTime.parse),
            notOnOrAfter: validUntil!.addingTimeInterval(skew),
            inResponseTo: expectedRequestID)
    }

    /// At least one bearer SubjectConfirmation whose data names our ACS, is current and answers
    /// this browser's request. Returns its NotOnOrAfter; otherwise the first one's failure.
    private func confirmBearer(_ subject: SAMLNode, expectedRequestID: String?, now: Date) throws(SAMLRejection) -> Date {
        let saml = SAMLNamespace.assertion
        let bearers = subject.children(saml, "SubjectConfirmation").filter { $0.attribute("Method") == SAMLConstants.bearer }
        guard !bearers.isEmpty else {
            throw SAMLRejection(.subjectConfirmation, "the assertion has no bearer SubjectConfirmation")
        }
        var firstFailure: SAMLRejection?
        for bearer in bearers {
            do throws(SAMLRejection) {
                return try confirm(bearer, expectedRequestID: expectedRequestID, now: now)
            } catch {
                firstFailure = firstFailure ?? error
            }
        }
        throw firstFailure!
    }

    private func confirm(_ bearer: SAMLNode, expectedRequestID: String?, now: Date) throws(SAMLRejection) -> Date {
        let skew = settings.maximumClockSkew
        guard let data = bearer.child(SAMLNamespace.assertion, "SubjectConfirmationData") else {
            throw SAMLRejection(.subjectConfirmation, "the bearer SubjectConfirmation has no SubjectConfirmationData")
        }
        guard data.attribute("Recipient") == settings.acsURL else {
            throw SAMLRejection(.recipientMismatch, "the assertion's Recipient is not this provider's ACS URL; set the IdP's ACS URL to \(settings.acsURL)")
        }
        guard let text = data.attribute("NotOnOrAfter"), let notOnOrAfter = SAMLTime.parse(text) else {
            throw SAMLRejection(.subjectConfirmation, "the bearer SubjectConfirmationData has no NotOnOrAfter")
        }
        if now.addingTimeInterval(-skew) >= notOnOrAfter {
            throw SAMLRejection(.expired, "the assertion has expired; sign in again (or check the clocks of the IdP and of this server)")
        }
        if let text = data.attribute("NotBefore") {
            guard let notBefore = SAMLTime.parse(text) else { throw SAMLRejection(.malformed, "a NotBefore is not a time") }
            if now.addingTimeInterval(skew) < notBefore {
                throw SAMLRejection(.notYetValid, "the assertion is not valid yet; check the clocks of the IdP and of this server")
            }
        }
        let inResponseTo = data.attribute("InResponseTo")
        switch (expectedRequestID, inResponseTo) {
        case (nil, nil): break
        case (let expected?, let actual?) where constantTimeEquals(actual, expected): break
        default:
            throw SAMLRejection(.inResponseToMismatch, "the assertion answers another sign-in request than the one this browser started; start the sign-in again")
        }
        return notOnOrAfter
    }
}
