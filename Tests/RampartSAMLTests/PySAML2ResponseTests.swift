import Foundation
import RampartSAML
import Testing

/// Responses signed by pysaml2 as the IdP (the real peer of PEERS.md section 2), checked in with
/// their certificates by interop/saml/make_response.py: one with a signed assertion, one with both
/// the assertion and the Response signed.
@Suite("SAML response made by pysaml2")
struct PySAML2ResponseTests {
    struct Facts: Decodable {
        let idpEntityId: String, spEntityId: String, acsUrl: String, requestId: String, validAt: Double
    }

    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    static let names = ["pysaml2", "pysaml2-signed-response"]

    static func setup(_ name: String) throws -> (Facts, SAMLProviderSettings, String) {
        let facts = try JSONDecoder().decode(Facts.self, from: Data(try fixture("\(name)-response.json").utf8))
        let settings = SAMLProviderSettings(spEntityID: facts.spEntityId, acsURL: facts.acsUrl, idpEntityID: facts.idpEntityId,
                                            idpSigningCertificatesPEM: [try fixture("\(name)-idp.crt")])
        return (facts, settings, try fixture("\(name)-response.b64").trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("pysaml2's signed response is accepted inside its validity window, with its attributes", arguments: names)
    func accepted(name: String) throws {
        let (facts, settings, base64) = try Self.setup(name)
        let assertion = try SAMLResponseValidator(settings: settings)
            .validate(base64Response: base64, expectedRequestID: facts.requestId, now: Date(timeIntervalSince1970: facts.validAt))
        #expect(assertion.nameID == "alice@example.test")
        #expect(assertion.issuer == "https://idp.peers.test/idp")
        #expect(assertion.attributes["urn:oid:0.9.2342.19200300.100.1.3"] == ["alice@example.test"])
        #expect(assertion.attributes["urn:oid:2.16.840.1.113730.3.1.241"] == ["Alice Example"])
        #expect(assertion.authnContextClassRefs == ["urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"])
        #expect(assertion.inResponseTo == facts.requestId)
    }

    @Test("the same response: too late, for another request, or checked with another certificate", arguments: names)
    func refused(name: String) throws {
        let (facts, settings, base64) = try Self.setup(name)
        let validator = SAMLResponseValidator(settings: settings)
        func reason(_ expected: String?, _ now: Double, _ validator: SAMLResponseValidator) -> SAMLRejection.Reason? {
            do {
                _ = try validator.validate(base64Response: base64, expectedRequestID: expected, now: Date(timeIntervalSince1970: now))
                return nil
            } catch { return error.reason }
        }
        #expect(reason(facts.requestId, facts.validAt + 3600, validator) == .expired)
        #expect(reason("_another", facts.validAt, validator) == .inResponseToMismatch)
        var other = settings
        other.idpSigningCertificatesPEM = [Setup.idpKeys.certificatePEM]
        #expect(reason(facts.requestId, facts.validAt, SAMLResponseValidator(settings: other)) == .certificateNotConfigured)
    }
}
