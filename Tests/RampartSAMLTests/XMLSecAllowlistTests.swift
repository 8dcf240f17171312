import CXMLSec
import Foundation
@testable import RampartSAML
import RampartSAMLTestSupport
import Testing

/// The allowlists hold inside libxmlsec1 too, not only in the checks before it: the C shim is
/// called directly here, without SignatureVerifier's own checks.
@Suite("libxmlsec1 enforces the allowlists itself")
struct XMLSecAllowlistTests {
    static func verify(_ xml: String, with certificatePEM: String = Setup.idpKeys.certificatePEM) throws -> Int {
        let document = try SAMLDocument.parse(Data(xml.utf8), what: "response")
        defer { withExtendedLifetime(document) {} }
        try document.registerIDs()
        let assertion = try #require(document.root?.child(SAMLNamespace.assertion, "Assertion"))
        let signature = try #require(assertion.child(SAMLNamespace.xmldsig, "Signature"))
        let key = try #require(XMLSecKey.certificate(pem: certificatePEM))
        var bytes: UnsafeMutablePointer<UInt8>?
        var length = 0
        let outcome = rampart_xmlsec_verify(signature.pointer, key.pointer, &bytes, &length)
        free(bytes)
        return Int(outcome)
    }

    @Test("a valid RSA-SHA256 signature verifies; the same key signing with RSA-SHA1 is refused by xmlsec")
    func sha1() throws {
        #expect(try Self.verify(try Setup.idp.signedXML(Setup.response())) == Int(RAMPART_SIGNATURE_VALID))
        let sha1 = try Setup.idp.signedXML(Setup.response { $0.signatureAlgorithm = TestResponse.rsaSHA1 })
        #expect(try Self.verify(sha1) == Int(RAMPART_SIGNATURE_REFUSED))
        let sha1Digest = try Setup.idp.signedXML(Setup.response { $0.digestAlgorithm = TestResponse.sha1 })
        #expect(try Self.verify(sha1Digest) == Int(RAMPART_SIGNATURE_REFUSED))
    }

    @Test("the key in KeyInfo is never used: an attacker's self-consistent signature does not verify")
    func keyInfoIgnored() throws {
        let attacker = try TestIdentityProvider(keys: Setup.attackerKeys).signedXML(Setup.response())
        #expect(try Self.verify(attacker) == Int(RAMPART_SIGNATURE_INVALID))
        // While with the attacker's own certificate configured it would.
        #expect(try Self.verify(attacker, with: Setup.attackerKeys.certificatePEM) == Int(RAMPART_SIGNATURE_VALID))
    }

    @Test("an XSLT transform is not run")
    func xslt() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let withXSLT = xml.replacingFirst("<ds:Transforms>", with: """
            <ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"><xsl:stylesheet \
            xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/"><xsl:copy-of select="."/>\
            </xsl:template></xsl:stylesheet></ds:Transform>
            """)
        #expect(try Self.verify(withXSLT) == Int(RAMPART_SIGNATURE_REFUSED))
    }
}
