import Foundation
import RampartSAML
import RampartSAMLTestSupport
import Testing

@Suite("SAML metadata, AuthnRequest, Redirect binding and encrypted assertions")
struct SAMLMetadataAndBindingTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    static func body(_ pem: String) -> String { pem.components(separatedBy: "\n").filter { !$0.hasPrefix("-----") }.joined() }

    static func python(_ script: String, _ arguments: [String] = []) throws -> String {
        try Command.run("/usr/bin/python3", ["-c", script] + arguments)
    }

    @Test("Okta's metadata form")
    func okta() throws {
        let xml = try Self.fixture("okta-metadata.xml").replacingOccurrences(of: "{{CERT1}}", with: Self.body(Setup.idpKeys.certificatePEM))
        let metadata = try SAMLIdentityProviderMetadata.parse(xml)
        #expect(metadata.entityID == "http://www.okta.com/exk1fcia6d6EMsf0d0h8")
        #expect(metadata.singleSignOnRedirectURL == "https://dev-123456.okta.com/app/dev-123456_rampart_1/exk1fcia6d6EMsf0d0h8/sso/saml")
        #expect(metadata.signingCertificatesPEM.map { PEM.sha256Fingerprint(ofCertificate: $0) }
            == [PEM.sha256Fingerprint(ofCertificate: Setup.idpKeys.certificatePEM)])
        // The certificates read verify a response signed by that IdP.
        var settings = Setup.settings
        settings.idpSigningCertificatesPEM = metadata.signingCertificatesPEM
        #expect(try Setup.validate(try Setup.idp.base64(Setup.response()), settings: settings).nameID == "alice@example.test")
    }

    @Test("Entra ID's metadata form: signed document, WS-Federation roles, two signing certificates")
    func entra() throws {
        let xml = try Self.fixture("entra-metadata.xml")
            .replacingOccurrences(of: "{{CERT1}}", with: Self.body(Setup.idpKeys.certificatePEM))
            .replacingOccurrences(of: "{{CERT2}}", with: Self.body(Setup.rolloverKeys.certificatePEM))
        let metadata = try SAMLIdentityProviderMetadata.parse(xml)
        #expect(metadata.entityID == "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/")
        #expect(metadata.singleSignOnRedirectURL == "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/saml2")
        #expect(metadata.signingCertificatesPEM.map { PEM.sha256Fingerprint(ofCertificate: $0) }
            == [Setup.idpKeys.certificatePEM, Setup.rolloverKeys.certificatePEM].map { PEM.sha256Fingerprint(ofCertificate: $0) })
    }

    @Test("metadata that is not an IdP's, or carries a DOCTYPE, is refused with a reason")
    func badMetadata() throws {
        let sp = SAMLServiceProviderMetadata.xml(entityID: "https://rampart.test/sp", acsURL: "https://rampart.test/acs",
                                                 signingCertificatePEM: nil, encryptionCertificatePEM: nil)
        #expect(throws: SAMLRejection.self) { try SAMLIdentityProviderMetadata.parse(sp) }
        let okta = try Self.fixture("okta-metadata.xml").replacingOccurrences(of: "{{CERT1}}", with: Self.body(Setup.idpKeys.certificatePEM))
        let doctype = okta.replacingFirst("<md:EntityDescriptor", with: "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><md:EntityDescriptor")
        do {
            _ = try SAMLIdentityProviderMetadata.parse(doctype)
            Issue.record("a DOCTYPE was accepted")
        } catch {
            #expect(error.reason == .doctypeForbidden)
        }
        let brokenCertificate = try Self.fixture("okta-metadata.xml").replacingOccurrences(of: "{{CERT1}}", with: "TUlJQg==")
        #expect(throws: SAMLRejection.self) { try SAMLIdentityProviderMetadata.parse(brokenCertificate) }
    }

    @Test("SP metadata is well-formed and names the entity ID, the ACS and the certificates")
    func spMetadata() throws {
        let xml = SAMLServiceProviderMetadata.xml(entityID: "https://rampart.test/saml/sp/a&b", acsURL: "https://rampart.test/saml/acs/idp1",
                                                  signingCertificatePEM: Setup.spKeys.certificatePEM,
                                                  encryptionCertificatePEM: Setup.spKeys.certificatePEM)
        // Python's parser (a reader written by others) reads it.
        let read = try Self.python("""
            import sys, xml.etree.ElementTree as E
            md = '{urn:oasis:names:tc:SAML:2.0:metadata}'
            root = E.fromstring(sys.argv[1])
            acs = root.find(md + 'SPSSODescriptor/' + md + 'AssertionConsumerService')
            uses = [k.get('use') for k in root.iter(md + 'KeyDescriptor')]
            print(root.get('entityID'), acs.get('Location'), acs.get('Binding'), ','.join(uses))
            """, [xml])
        #expect(read.trimmingCharacters(in: .whitespacesAndNewlines)
            == "https://rampart.test/saml/sp/a&b https://rampart.test/saml/acs/idp1 urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST signing,encryption")
        #expect(xml.contains(Self.body(Setup.spKeys.certificatePEM)))
    }

    @Test("the AuthnRequest redirect: deflated, base64, URL-encoded; an unguessable ID each time")
    func authnRequest() throws {
        let (id, url) = SAMLAuthnRequest.redirect(settings: Setup.settings, idpSSOURL: URL(string: "https://idp.example.test/sso?tenant=1")!,
                                                  relayState: "/console?x=1&y=2", now: Setup.now)
        let (other, _) = SAMLAuthnRequest.redirect(settings: Setup.settings, idpSSOURL: URL(string: "https://idp.example.test/sso")!,
                                                   relayState: nil, now: Setup.now)
        #expect(id != other)
        #expect(id.count >= 33 && id.hasPrefix("_"))
        let decoded = try Self.python("""
            import sys, zlib, base64, urllib.parse
            parts = urllib.parse.urlsplit(sys.argv[1]); q = urllib.parse.parse_qs(parts.query)
            print(parts.scheme + '://' + parts.netloc + parts.path, q['tenant'][0], q['RelayState'][0])
            print(zlib.decompress(base64.b64decode(q['SAMLRequest'][0]), -15).decode())
            """, [url.absoluteString])
        let lines = decoded.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n", maxSplits: 1).map(String.init)
        #expect(lines[0] == "https://idp.example.test/sso 1 /console?x=1&y=2")
        #expect(lines[1].contains("ID=\"\(id)\""))
        #expect(lines[1].contains("AssertionConsumerServiceURL=\"https://rampart.test/saml/acs/idp1\""))
        #expect(lines[1].contains("<saml:Issuer>https://rampart.test/saml/sp/idp1</saml:Issuer>"))
        #expect(lines[1].contains("Destination=\"https://idp.example.test/sso?tenant=1\""))
        // And our own inflate reads it back.
        let query = try #require(URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems)
        let request = try #require(query.first { $0.name == "SAMLRequest" }?.value)
        #expect(String(decoding: try SAMLRedirectBinding.inflate(base64: request, limit: 64 * 1024), as: UTF8.self) == lines[1])
    }

    @Test("a Redirect-binding message that inflates past the limit")
    func inflateBomb() throws {
        let bomb = try Self.python("""
            import zlib, base64
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            print(base64.b64encode(c.compress(b' ' * 10_000_000) + c.flush()).decode())
            """).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(bomb.count < 20_000)
        do {
            _ = try SAMLRedirectBinding.inflate(base64: bomb, limit: 64 * 1024)
            Issue.record("the bomb was inflated")
        } catch {
            #expect(error.reason == .tooLarge)
        }
        #expect(throws: SAMLRejection.self) { try SAMLRedirectBinding.inflate(base64: "bm90IGRlZmxhdGU=", limit: 1024) }
    }

    /// Encrypts the response's assertion for `certificatePEM` with the `xmlsec1` command (AES-256-CBC, RSA-OAEP).
    static func encrypted(_ response: TestResponse, for certificatePEM: String,
                          keyTransport: String = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rampart-saml-enc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data.xml"), template = directory.appendingPathComponent("template.xml")
        let certificate = directory.appendingPathComponent("sp.crt")
        // As an IdP does it: sign the assertion, encrypt it, then sign the Response.
        var assertionOnly = response
        assertionOnly.signResponse = false
        try Setup.idp.signedXML(assertionOnly).write(to: data, atomically: true, encoding: .utf8)
        try certificatePEM.write(to: certificate, atomically: true, encoding: .utf8)
        try """
        <xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">\
        <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>\
        <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>\
        <xenc:EncryptionMethod Algorithm="\(keyTransport)"/>\
        <xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>\
        <xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>
        """.write(to: template, atomically: true, encoding: .utf8)
        let xml = try Command.run("/usr/bin/xmlsec1", ["--encrypt", "--pubkey-cert-pem", certificate.path, "--session-key", "aes-256",
                                                       "--xml-data", data.path, "--node-xpath", "//*[local-name()='Assertion']", template.path])
        #expect(xml.contains("EncryptedData") && !xml.contains("alice@example.test"))
        guard response.signResponse else { return Setup.base64(xml) }
        let signature = response.signatureTemplate(referencing: response.responseID, certificatePEM: Setup.idpKeys.certificatePEM)
        return Setup.base64(try Setup.idp.sign(xml.replacingFirst("</saml:Issuer>", with: "</saml:Issuer>" + signature)))
    }

    @Test("an encrypted assertion is decrypted with the SP key and held to the same rules")
    func encryptedAssertion() throws {
        let base64 = try Self.encrypted(Setup.response { $0.wrapInEncryptedAssertion = true }, for: Setup.spKeys.certificatePEM)
        #expect(try Setup.validate(base64).nameID == "alice@example.test")
        let wrongAudience = try Self.encrypted(Setup.response { $0.wrapInEncryptedAssertion = true; $0.audience = "https://x.test" },
                                               for: Setup.spKeys.certificatePEM)
        #expect(Setup.reason(wrongAudience) == .audienceMismatch)
        let unsigned = try Self.encrypted(Setup.response { $0.wrapInEncryptedAssertion = true; $0.signAssertion = false },
                                          for: Setup.spKeys.certificatePEM)
        #expect(Setup.reason(unsigned) == .signatureMissing)
        // Encrypted, unsigned assertion inside a signed Response, where the provider allows that.
        var relaxed = Setup.settings
        relaxed.requireSignedAssertion = false
        let responseSigned = try Self.encrypted(Setup.response { $0.wrapInEncryptedAssertion = true; $0.signAssertion = false; $0.signResponse = true },
                                                for: Setup.spKeys.certificatePEM)
        #expect(try Setup.validate(responseSigned, settings: relaxed).nameID == "alice@example.test")
    }

    @Test("an assertion encrypted for another key, or with no SP key configured")
    func encryptedWrongKey() throws {
        let other = try TestKeyPair.generate(commonName: "someone-else")
        let base64 = try Self.encrypted(Setup.response { $0.wrapInEncryptedAssertion = true }, for: other.certificatePEM)
        #expect(Setup.reason(base64) == .decryptionFailed)
        var withoutKey = Setup.settings
        withoutKey.spDecryptionKeyPEM = nil
        #expect(Setup.reason(base64, settings: withoutKey) == .decryptionFailed)
        // RSA PKCS#1 v1.5 key transport (open to padding oracles) is not accepted.
        let pkcs1 = try Self.encrypted(Setup.response { $0.wrapInEncryptedAssertion = true }, for: Setup.spKeys.certificatePEM,
                                       keyTransport: "http://www.w3.org/2001/04/xmlenc#rsa-1_5")
        #expect(Setup.reason(pkcs1) == .algorithmNotAllowed)
        // Nor behind a first, acceptable EncryptedKey: one EncryptedKey only.
        let good = try Self.encrypted(Setup.response { $0.wrapInEncryptedAssertion = true }, for: Setup.spKeys.certificatePEM)
        let goodXML = String(decoding: try #require(Data(base64Encoded: good)), as: UTF8.self)
        let pkcs1XML = String(decoding: try #require(Data(base64Encoded: pkcs1)), as: UTF8.self)
        let secondKey = pkcs1XML.slice(from: "<xenc:EncryptedKey>", through: "</xenc:EncryptedKey>")
        let twoKeys = goodXML.replacingFirst("</xenc:EncryptedKey>", with: "</xenc:EncryptedKey>" + secondKey)
        #expect(Setup.reason(Setup.base64(twoKeys)) == .decryptionFailed)
    }
}
