import Foundation
import RampartSAML
import RampartSAMLTestSupport
import Testing

@Suite("SAML response validation")
struct SAMLResponseValidatorTests {
    @Test("a response with a signed assertion is accepted, and what it says is read")
    func validSignedAssertion() throws {
        let response = Setup.response()
        let assertion = try Setup.validate(try Setup.idp.base64(response))
        #expect(assertion.id == response.assertionID)
        #expect(assertion.issuer == "https://idp.example.test/metadata")
        #expect(assertion.nameID == "alice@example.test")
        #expect(assertion.nameIDFormat == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        #expect(assertion.sessionIndex == "_s" + response.assertionID)
        #expect(assertion.attributes == ["mail": ["alice@example.test"], "groups": ["admins", "staff"]])
        #expect(assertion.authnContextClassRefs == ["urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"])
        #expect(assertion.authnInstant == Setup.now)
        #expect(assertion.inResponseTo == Setup.requestID)
        // Kept by the replay cache until the assertion could no longer be accepted: expiry plus skew.
        #expect(assertion.notOnOrAfter == response.notOnOrAfter.addingTimeInterval(180))
    }

    @Test("an ECDSA-signed assertion is accepted")
    func ecdsa() throws {
        let keys = try TestKeyPair.generate(commonName: "ec-idp", key: "ec")
        var settings = Setup.settings
        settings.idpSigningCertificatesPEM = [keys.certificatePEM]
        let base64 = try TestIdentityProvider(keys: keys).base64(Setup.response { $0.signatureAlgorithm = TestResponse.ecdsaSHA256 })
        #expect(try Setup.validate(base64, settings: settings).nameID == "alice@example.test")
    }

    @Test("a signed Response alone is accepted only when the provider allows it")
    func signedResponseOnly() throws {
        let base64 = try Setup.idp.base64(Setup.response { $0.signAssertion = false; $0.signResponse = true })
        #expect(Setup.reason(base64) == .signatureMissing)
        var relaxed = Setup.settings
        relaxed.requireSignedAssertion = false
        #expect(try Setup.validate(base64, settings: relaxed).nameID == "alice@example.test")
        let both = try Setup.idp.base64(Setup.response { $0.signResponse = true })
        #expect(try Setup.validate(both).nameID == "alice@example.test")
    }

    @Test("an unsigned response is refused, also when the provider accepts a signed Response alone")
    func unsigned() throws {
        let base64 = try Setup.idp.base64(Setup.response { $0.signAssertion = false })
        #expect(Setup.reason(base64) == .signatureMissing)
        var relaxed = Setup.settings
        relaxed.requireSignedAssertion = false
        #expect(Setup.reason(base64, settings: relaxed) == .signatureMissing)
    }

    @Test("the signature removed from a signed response")
    func signatureRemoved() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let stripped = xml.replacingOccurrences(of: xml.slice(from: "<ds:Signature", through: "</ds:Signature>"), with: "")
        #expect(Setup.reason(Setup.base64(stripped)) == .signatureMissing)
    }

    @Test("a signed value changed after signing")
    func tampered() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let changed = xml.replacingOccurrences(of: "alice@example.test</saml:NameID>", with: "mallory@example.test</saml:NameID>")
        #expect(changed != xml)
        #expect(Setup.reason(Setup.base64(changed)) == .signatureInvalid)
    }

    @Test("re-signed with an attacker's key whose certificate is in KeyInfo; the fingerprint is named")
    func attackerKey() throws {
        let attacker = TestIdentityProvider(keys: Setup.attackerKeys)
        let rejection = try #require(Setup.rejection(try attacker.base64(Setup.response { $0.nameID = "admin@example.test" })))
        #expect(rejection.reason == .certificateNotConfigured)
        let fingerprint = try #require(PEM.sha256Fingerprint(ofCertificate: Setup.attackerKeys.certificatePEM))
        #expect(rejection.detail.contains(fingerprint))
        #expect(!rejection.detail.contains("admin@example.test"))
    }

    @Test("the second (rollover) certificate verifies too; a certificate removed no longer does")
    func rollover() throws {
        var settings = Setup.settings
        settings.idpSigningCertificatesPEM = [Setup.idpKeys.certificatePEM, Setup.rolloverKeys.certificatePEM]
        let newer = try TestIdentityProvider(keys: Setup.rolloverKeys).base64(Setup.response())
        let older = try Setup.idp.base64(Setup.response())
        #expect(try Setup.validate(newer, settings: settings).nameID == "alice@example.test")
        #expect(try Setup.validate(older, settings: settings).nameID == "alice@example.test")
        settings.idpSigningCertificatesPEM = [Setup.rolloverKeys.certificatePEM]
        #expect(Setup.reason(older, settings: settings) == .certificateNotConfigured)
    }

    @Test("no usable certificate configured")
    func noCertificate() throws {
        var settings = Setup.settings
        settings.idpSigningCertificatesPEM = ["not a certificate"]
        #expect(Setup.reason(try Setup.idp.base64(Setup.response()), settings: settings) == .certificateNotConfigured)
    }

    @Test("two assertions")
    func twoAssertions() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let assertion = xml.slice(from: "<saml:Assertion", through: "</saml:Assertion>")
        let second = assertion.replacingOccurrences(of: "ID=\"_a", with: "ID=\"_b")
        let doubled = xml.replacingOccurrences(of: assertion, with: assertion + second)
        #expect(Setup.reason(Setup.base64(doubled)) == .assertionCount)
    }

    @Test("a comment inside NameID: the whole value is read, never the first text node")
    func commentInNameID() throws {
        let xml = try Setup.idp.signedXML(Setup.response { $0.nameID = "alice@example.test.evil.test" })
        let commented = xml.replacingOccurrences(of: ">alice@example.test.evil.test<", with: ">alice@example.test<!---->.evil.test<")
        #expect(commented != xml)
        #expect(try Setup.validate(Setup.base64(commented)).nameID == "alice@example.test.evil.test")
        let split = xml.replacingOccurrences(of: ">alice@example.test.evil.test<", with: ">al<!-- x -->ice@example.test.evil.test<")
        #expect(try Setup.validate(Setup.base64(split)).nameID == "alice@example.test.evil.test")
    }

    @Test("wrong Audience, Recipient, Destination or Issuer")
    func wrongNames() throws {
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.audience = "https://other.test/sp" })) == .audienceMismatch)
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.recipient = "https://other.test/acs" })) == .recipientMismatch)
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.destination = "https://other.test/acs" })) == .destinationMismatch)
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.issuer = "https://evil.test/idp" })) == .issuerMismatch)
        // A signed Response must name its Destination.
        var relaxed = Setup.settings
        relaxed.requireSignedAssertion = false
        let noDestination = try Setup.idp.base64(Setup.response { $0.destination = nil; $0.signAssertion = false; $0.signResponse = true })
        #expect(Setup.reason(noDestination, settings: relaxed) == .destinationMismatch)
    }

    @Test("expired, not yet valid, and the skew's edges")
    func validityWindow() throws {
        let now = Setup.now
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.notOnOrAfter = now.addingTimeInterval(-181) })) == .expired)
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.notOnOrAfter = now.addingTimeInterval(-180) })) == .expired)
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.notOnOrAfter = now.addingTimeInterval(-179) })) == nil)
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.notBefore = now.addingTimeInterval(181) })) == .notYetValid)
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.notBefore = now.addingTimeInterval(180) })) == nil)
        var strict = Setup.settings
        strict.maximumClockSkew = 0
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.notBefore = now.addingTimeInterval(1) }), settings: strict) == .notYetValid)
    }

    @Test("unsolicited responses: refused unless IdP-initiated sign-in is on, and then with every other check")
    func unsolicited() throws {
        let idpInitiated = try Setup.idp.base64(Setup.response { $0.inResponseTo = nil })
        #expect(Setup.reason(idpInitiated, expected: nil) == .unsolicited)
        var allowing = Setup.settings
        allowing.allowIdPInitiated = true
        let assertion = try Setup.validate(idpInitiated, settings: allowing, expected: nil)
        #expect(assertion.inResponseTo == nil)
        let answeringSomeone = try Setup.idp.base64(Setup.response())
        #expect(Setup.reason(answeringSomeone, settings: allowing, expected: nil) == .inResponseToMismatch)
        let wrongAudience = try Setup.idp.base64(Setup.response { $0.inResponseTo = nil; $0.audience = "https://other.test/sp" })
        #expect(Setup.reason(wrongAudience, settings: allowing, expected: nil) == .audienceMismatch)
        // A browser that started a sign-in gets no unsolicited response either.
        #expect(Setup.reason(idpInitiated, settings: allowing) == .inResponseToMismatch)
    }

    @Test("a response to another sign-in request")
    func wrongInResponseTo() throws {
        #expect(Setup.reason(try Setup.idp.base64(Setup.response { $0.inResponseTo = "_someone-else" })) == .inResponseToMismatch)
        #expect(Setup.reason(try Setup.idp.base64(Setup.response()), expected: "_other") == .inResponseToMismatch)
    }

    @Test("a status other than Success")
    func status() throws {
        let rejection = try #require(Setup.rejection(try Setup.idp.base64(Setup.response {
            $0.statusCode = "urn:oasis:names:tc:SAML:2.0:status:Requester"
        })))
        #expect(rejection.reason == .statusNotSuccess)
        #expect(rejection.detail.contains("Requester"))
    }

    @Test("a SubjectConfirmation other than bearer")
    func notBearer() throws {
        let base64 = try Setup.idp.base64(Setup.response { $0.confirmationMethod = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key" })
        #expect(Setup.reason(base64) == .subjectConfirmation)
    }

    @Test("DOCTYPE, external entity and billion laughs payloads")
    func doctype() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let body = xml.replacingFirst("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "")
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
            + body.replacingOccurrences(of: ">alice@example.test</saml:NameID>", with: ">&xxe;</saml:NameID>")
        var laughs = "<!DOCTYPE r [<!ENTITY l0 \"ha\">"
        for i in 1...9 { laughs += "<!ENTITY l\(i) \"" + String(repeating: "&l\(i - 1);", count: 10) + "\">" }
        laughs += "]>"
        let bomb = laughs + body.replacingOccurrences(of: ">alice@example.test</saml:NameID>", with: ">&l9;</saml:NameID>")
        let plain = "<!DOCTYPE Response>" + body
        for payload in [xxe, bomb, plain] {
            #expect(Setup.reason(Setup.base64(payload)) == .doctypeForbidden)
        }
        // The same markup in UTF-16 is refused before parsing.
        let utf16 = Data(plain.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).base64EncodedString()
        #expect(Setup.reason(utf16) == .malformed)
    }

    @Test("RSA-SHA1 and SHA-1 digests are refused")
    func sha1() throws {
        let rsaSHA1 = try Setup.idp.base64(Setup.response { $0.signatureAlgorithm = TestResponse.rsaSHA1 })
        #expect(Setup.reason(rsaSHA1) == .algorithmNotAllowed)
        let sha1Digest = try Setup.idp.base64(Setup.response { $0.digestAlgorithm = TestResponse.sha1 })
        #expect(Setup.reason(sha1Digest) == .algorithmNotAllowed)
    }

    @Test("an extra transform (XSLT) is refused")
    func xsltTransform() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let xslt = """
        <ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"><xsl:stylesheet \
        xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/">\
        <xsl:copy-of select="."/></xsl:template></xsl:stylesheet></ds:Transform>
        """
        let withXSLT = xml.replacingFirst("<ds:Transforms>", with: "<ds:Transforms>" + xslt)
        #expect(Setup.reason(Setup.base64(withXSLT)) == .transformNotAllowed)
        let inclusive = xml.replacingFirst("<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
                                           with: "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>")
        #expect(Setup.reason(Setup.base64(inclusive)) == .transformNotAllowed)
    }

    @Test("too large, and not base64")
    func sizes() throws {
        #expect(Setup.reason(String(repeating: "PHNhbWxwOlJlc3BvbnNl", count: 20_000)) == .tooLarge)
        #expect(Setup.reason("this is not base64!") == .malformed)
        #expect(Setup.reason(Setup.base64("<html><body>not SAML</body></html>")) == .malformed)
    }

    @Test("validations run concurrently on many tasks")
    func concurrent() async throws {
        let responses = try (0..<64).map { _ in try Setup.idp.base64(Setup.response()) }
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for response in responses {
                group.addTask { (try? Setup.validate(response)) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(accepted == responses.count)
    }
}
