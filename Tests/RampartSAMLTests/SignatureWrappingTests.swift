import Foundation
import RampartSAML
import RampartSAMLTestSupport
import Testing

/// The eight classic signature-wrapping layouts (Somorovsky et al., "On Breaking SAML", 2012, as
/// SAML Raider builds them): a legitimately signed element moved where the SP does not read it,
/// and an attacker's element where it does. Each must be refused.
@Suite("SAML signature wrapping (XSW1–XSW8)")
struct SignatureWrappingTests {
    static let evilName = "mallory@example.test"

    /// A response with a signed Response (assertion unsigned), as XSW1 and XSW2 need, and the
    /// attacker's root: the same response with a new ID, another NameID and assertion ID, and the
    /// original signature (which still references the original ID).
    static func responseSigned() throws -> (original: String, signature: String, evilRoot: String) {
        let response = Setup.response { $0.signAssertion = false; $0.signResponse = true }
        let xml = try Setup.idp.signedXML(response)
        let original = xml.slice(from: "<samlp:Response", through: "</samlp:Response>")
        let evilRoot = evil(original, id: "_evil_r").replacingOccurrences(of: "ID=\"\(response.assertionID)\"", with: "ID=\"_evil_a\"")
        return (original, original.slice(from: "<ds:Signature", through: "</ds:Signature>"), evilRoot)
    }

    static var relaxed: SAMLProviderSettings {
        var settings = Setup.settings
        settings.requireSignedAssertion = false
        return settings
    }

    static func evil(_ assertion: String, id: String? = "_evil") -> String {
        var result = assertion.replacingOccurrences(of: ">alice@example.test</saml:NameID>", with: ">\(evilName)</saml:NameID>")
        if let id, let start = assertion.range(of: "ID=\"")?.upperBound, let end = assertion.range(of: "\"", range: start..<assertion.endIndex) {
            result = result.replacingOccurrences(of: "ID=\"\(assertion[start..<end.lowerBound])\"", with: "ID=\"\(id)\"")
        }
        return result
    }

    static func withoutSignature(_ xml: String) -> String {
        xml.replacingOccurrences(of: xml.slice(from: "<ds:Signature", through: "</ds:Signature>"), with: "")
    }

    static func expectRefused(_ xml: String, settings: SAMLProviderSettings = Setup.settings, _ reasons: Set<SAMLRejection.Reason>) {
        let rejection = Setup.rejection(Setup.base64(xml), settings: settings)
        #expect(rejection != nil, "the wrapped response was accepted")
        if let rejection { #expect(reasons.contains(rejection.reason), "refused, but as \(rejection)") }
    }

    @Test("XSW1: the signed Response moved into its Signature, an attacker's Response at the root")
    func xsw1() throws {
        let (original, signature, evilRoot) = try Self.responseSigned()
        func wrapped(_ copy: String) -> String {
            evilRoot.replacingOccurrences(of: signature, with: signature.replacingOccurrences(
                of: "</ds:Signature>", with: "<ds:Object>\(copy)</ds:Object></ds:Signature>"))
        }
        let copy = Self.withoutSignature(original)
        Self.expectRefused(wrapped(copy), settings: Self.relaxed, [.assertionCount])
        // With the copy's assertion removed the count passes: the reference gives it away.
        let lean = copy.replacingOccurrences(of: copy.slice(from: "<saml:Assertion", through: "</saml:Assertion>"), with: "")
        Self.expectRefused(wrapped(lean), settings: Self.relaxed, [.signatureInvalid])
        // And with the same ID at the root as in the copy, the duplicate ID does.
        Self.expectRefused(wrapped(copy).replacingOccurrences(of: "ID=\"_evil_r\"", with: original.slice(from: "ID=\"", through: " ").dropLast()
            .description), settings: Self.relaxed, [.malformed])
    }

    @Test("XSW2: the signed Response placed before the Signature, an attacker's Response at the root")
    func xsw2() throws {
        let (original, signature, evilRoot) = try Self.responseSigned()
        let copy = Self.withoutSignature(original)
        Self.expectRefused(evilRoot.replacingOccurrences(of: signature, with: copy + signature), settings: Self.relaxed, [.assertionCount])
        let lean = copy.replacingOccurrences(of: copy.slice(from: "<saml:Assertion", through: "</saml:Assertion>"), with: "")
        Self.expectRefused(evilRoot.replacingOccurrences(of: signature, with: lean + signature), settings: Self.relaxed, [.signatureInvalid])
    }

    @Test("XSW3: an attacker's assertion placed before the signed one")
    func xsw3() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let assertion = xml.slice(from: "<saml:Assertion", through: "</saml:Assertion>")
        let wrapped = xml.replacingOccurrences(of: assertion, with: Self.evil(Self.withoutSignature(assertion)) + assertion)
        Self.expectRefused(wrapped, [.assertionCount])
    }

    @Test("XSW4: an attacker's assertion wrapping the signed one")
    func xsw4() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let assertion = xml.slice(from: "<saml:Assertion", through: "</saml:Assertion>")
        let evil = Self.evil(Self.withoutSignature(assertion))
            .replacingOccurrences(of: "</saml:AttributeStatement></saml:Assertion>", with: "</saml:AttributeStatement>\(assertion)</saml:Assertion>")
        Self.expectRefused(xml.replacingOccurrences(of: assertion, with: evil), [.assertionCount])
    }

    @Test("XSW5: the attacker changes the signed assertion and appends an unsigned copy of the original")
    func xsw5() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let assertion = xml.slice(from: "<saml:Assertion", through: "</saml:Assertion>")
        let wrapped = xml.replacingOccurrences(of: assertion, with: Self.evil(assertion, id: nil))
            .replacingOccurrences(of: "</samlp:Response>", with: Self.withoutSignature(assertion) + "</samlp:Response>")
        Self.expectRefused(wrapped, [.assertionCount, .malformed])
    }

    @Test("XSW6: the original assertion inside the attacker's assertion's Signature")
    func xsw6() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let assertion = xml.slice(from: "<saml:Assertion", through: "</saml:Assertion>")
        let evil = Self.evil(assertion, id: nil)
            .replacingOccurrences(of: "</ds:Signature>", with: "<ds:Object>\(Self.withoutSignature(assertion))</ds:Object></ds:Signature>")
        Self.expectRefused(xml.replacingOccurrences(of: assertion, with: evil), [.assertionCount, .malformed])
    }

    @Test("XSW7: the signed assertion inside an Extensions element, the attacker's after it")
    func xsw7() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let assertion = xml.slice(from: "<saml:Assertion", through: "</saml:Assertion>")
        let wrapped = xml.replacingOccurrences(
            of: assertion, with: "<samlp:Extensions>\(assertion)</samlp:Extensions>" + Self.evil(Self.withoutSignature(assertion), id: nil))
        Self.expectRefused(wrapped, [.assertionCount, .malformed])
    }

    @Test("XSW8: the original assertion without its signature inside an Object of the attacker's assertion")
    func xsw8() throws {
        let xml = try Setup.idp.signedXML(Setup.response())
        let assertion = xml.slice(from: "<saml:Assertion", through: "</saml:Assertion>")
        let signature = assertion.slice(from: "<ds:Signature", through: "</ds:Signature>")
        let evil = Self.evil(assertion, id: nil).replacingOccurrences(
            of: signature, with: signature.replacingOccurrences(
                of: "</ds:Signature>", with: "<ds:Object>\(Self.withoutSignature(assertion))</ds:Object></ds:Signature>"))
        Self.expectRefused(xml.replacingOccurrences(of: assertion, with: evil), [.assertionCount, .malformed])
    }

    @Test("a signature that references another element than the one it sits in")
    func foreignReference() throws {
        // The assertion's signature points at the Response: never what we read.
        let response = Setup.response()
        let xml = try Setup.idp.signedXML(response)
        let responseID = response.responseID, assertionID = response.assertionID
        let redirected = xml.replacingOccurrences(of: "URI=\"#\(assertionID)\"", with: "URI=\"#\(responseID)\"")
        #expect(Setup.reason(Setup.base64(redirected)) == .signatureInvalid)
    }
}
