import Foundation
import RampartSAML
import RampartSAMLTestSupport

/// Keys made once per test process with `openssl`, and the provider settings the tests use.
enum Setup {
    static let idpKeys = try! TestKeyPair.generate(commonName: "idp.example.test")
    static let rolloverKeys = try! TestKeyPair.generate(commonName: "idp.example.test 2027")
    static let attackerKeys = try! TestKeyPair.generate(commonName: "idp.example.test")
    static let spKeys = try! TestKeyPair.generate(commonName: "rampart.test")
    static let idp = TestIdentityProvider(keys: idpKeys)
    static let requestID = "_req4b1d2c3e"
    static let now = Date(timeIntervalSince1970: 1_796_000_000)

    static var settings: SAMLProviderSettings {
        SAMLProviderSettings(spEntityID: "https://rampart.test/saml/sp/idp1", acsURL: "https://rampart.test/saml/acs/idp1",
                             idpEntityID: "https://idp.example.test/metadata", idpSigningCertificatesPEM: [idpKeys.certificatePEM],
                             spDecryptionKeyPEM: spKeys.privateKeyPEM)
    }

    static func response(_ change: (inout TestResponse) -> Void = { _ in }) -> TestResponse {
        var response = TestResponse(settings: settings, inResponseTo: requestID, now: now)
        change(&response)
        return response
    }

    static func base64(_ xml: String) -> String { Data(xml.utf8).base64EncodedString() }

    static func validate(_ base64: String, settings: SAMLProviderSettings = settings, expected: String? = requestID,
                         now: Date = now) throws(SAMLRejection) -> SAMLAssertion {
        try SAMLResponseValidator(settings: settings).validate(base64Response: base64, expectedRequestID: expected, now: now)
    }

    /// The reason a response is refused, or nil if it is accepted.
    static func reason(_ base64: String, settings: SAMLProviderSettings = settings, expected: String? = requestID,
                       now: Date = now) -> SAMLRejection.Reason? {
        do {
            _ = try validate(base64, settings: settings, expected: expected, now: now)
            return nil
        } catch {
            return error.reason
        }
    }

    static func rejection(_ base64: String, settings: SAMLProviderSettings = settings, expected: String? = requestID) -> SAMLRejection? {
        do {
            _ = try validate(base64, settings: settings, expected: expected)
            return nil
        } catch {
            return error
        }
    }
}

extension String {
    /// The first substring from `start` through `end`, inclusive.
    func slice(from start: String, through end: String) -> String {
        let lower = range(of: start)!.lowerBound
        let upper = range(of: end, range: lower..<endIndex)!.upperBound
        return String(self[lower..<upper])
    }

    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
