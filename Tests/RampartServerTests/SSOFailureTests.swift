@testable import RampartServer
import RampartSAML
import Testing

/// Every refusal of the SAML validator has its own reason code in `sso.signin_failed`
/// (docs/events.md lists them), never the catch-all.
@Suite("SSO failure reasons")
struct SSOFailureTests {
    @Test(arguments: SAMLRejection.Reason.allCases)
    func eachSAMLRejectionHasItsReasonCode(reason: SAMLRejection.Reason) {
        let failure = SSOFailure(SAMLRejection(reason, "what was wrong"))
        #expect(failure.reason.rawValue == "saml_" + reason.rawValue)
        #expect(failure.detail == "what was wrong")
    }
}
