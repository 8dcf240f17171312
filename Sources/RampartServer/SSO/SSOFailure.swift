import RampartCore
import RampartSAML

/// Why a federated sign-in was refused: a stable reason code for `sso.signin_failed` and
/// the console, and words for the person. Neither carries a claim's value or any personal data.
struct SSOFailure: Error, Sendable, Equatable {
    enum Reason: String, Sendable, CaseIterable {
        case providerDisabled = "provider_disabled"
        case unknownState = "unknown_state"
        case attemptReplayed = "attempt_replayed"
        case attemptExpired = "attempt_expired"
        case browserMismatch = "browser_mismatch"
        case providerError = "provider_error"
        case missingCode = "missing_code"
        case discoveryFailed = "discovery_failed"
        case issuerMismatch = "discovery_issuer_mismatch"
        case jwksFailed = "jwks_failed"
        case tokenExchangeFailed = "token_exchange_failed"
        case idTokenMissing = "id_token_missing"
        case idTokenMalformed = "id_token_malformed"
        case algorithmNotAllowed = "alg_not_allowed"
        case unknownKey = "unknown_kid"
        case badSignature = "bad_signature"
        case wrongIssuer = "wrong_issuer"
        case wrongAudience = "wrong_audience"
        case wrongAuthorizedParty = "wrong_azp"
        case expired = "token_expired"
        case issuedInFuture = "token_issued_in_future"
        case nonceMismatch = "nonce_mismatch"
        case tenantNotAllowed = "tenant_not_allowed"
        case hostedDomainMismatch = "hosted_domain_mismatch"
        case subjectMissing = "subject_missing"
        case emailMissing = "email_missing"
        case emailNotVerified = "email_not_verified"
        case emailManagedElsewhere = "email_managed_elsewhere"
        case noAccount = "no_account"
        case userDeactivated = "user_deactivated"
        case addressNotAllowed = "address_not_allowed"
        case mfaEnrolmentOverdue = "mfa_enrolment_overdue"
        // SAML: one per refusal of the response validator, and the replay cache's.
        case samlMalformed = "saml_malformed"
        case samlTooLarge = "saml_too_large"
        case samlDoctypeForbidden = "saml_doctype_forbidden"
        case samlSignatureMissing = "saml_signature_missing"
        case samlSignatureInvalid = "saml_signature_invalid"
        case samlCertificateNotConfigured = "saml_certificate_not_configured"
        case samlAlgorithmNotAllowed = "saml_algorithm_not_allowed"
        case samlTransformNotAllowed = "saml_transform_not_allowed"
        case samlAssertionCount = "saml_assertion_count"
        case samlIssuerMismatch = "saml_issuer_mismatch"
        case samlAudienceMismatch = "saml_audience_mismatch"
        case samlRecipientMismatch = "saml_recipient_mismatch"
        case samlDestinationMismatch = "saml_destination_mismatch"
        case samlInResponseToMismatch = "saml_in_response_to_mismatch"
        case samlUnsolicited = "saml_unsolicited"
        case samlExpired = "saml_expired"
        case samlNotYetValid = "saml_not_yet_valid"
        case samlSubjectConfirmation = "saml_subject_confirmation"
        case samlStatusNotSuccess = "saml_status_not_success"
        case samlDecryptionFailed = "saml_decryption_failed"
        case samlAssertionReplayed = "saml_assertion_replayed"
        case samlBindingNotAllowed = "saml_binding_not_allowed"
    }

    let reason: Reason
    /// For the admin (test connection, the provider's failures): what was wrong in plain words,
    /// such as the fingerprint of a certificate that is not configured. Never a person's data.
    let detail: String?
    init(_ reason: Reason, detail: String? = nil) { self.reason = reason; self.detail = detail }

    /// A refusal of the SAML response validator, with its words for the admin.
    init(_ rejection: SAMLRejection) {
        // Every SAMLRejection.Reason has its "saml_" case above (SSOFailureTests checks each).
        self.init(Reason(rawValue: "saml_" + rejection.reason.rawValue) ?? .samlMalformed, detail: rejection.detail)
    }

    static func == (a: SSOFailure, b: SSOFailure) -> Bool { a.reason == b.reason }

    /// What the person reads: what happened and what to do, without the details an attacker would want.
    var message: String {
        switch reason {
        case .providerDisabled: "This sign-in method is turned off. Sign in another way, or ask your administrator."
        case .unknownState, .attemptReplayed, .attemptExpired, .browserMismatch, .samlAssertionReplayed:
            "This sign-in link was already used, has expired, or was started in another browser. Start again from the sign-in page."
        case .providerError, .samlStatusNotSuccess: "Your identity provider did not sign you in. Try again, or ask your administrator."
        case .noAccount:
            "You signed in with your identity provider, but you have no account in this organization yet. Ask your administrator to give you access."
        case .userDeactivated: "Your account is deactivated. Ask your administrator."
        case .emailNotVerified, .emailMissing:
            "Your identity provider did not confirm your email address, so Rampart cannot match it to an account. Ask your administrator."
        case .emailManagedElsewhere:
            "Your email address belongs to another organization in Rampart. Sign in through that organization."
        case .addressNotAllowed:
            "Your organization does not allow sign-in from this network. Connect from an allowed network, or ask your administrator."
        case .mfaEnrolmentOverdue: "Your organization requires two-step verification. Ask your administrator for help."
        default:
            "Rampart could not verify the answer from your identity provider, so you are not signed in. Try again; if it keeps happening, your administrator can see the reason (\(reason.rawValue))."
        }
    }
}
