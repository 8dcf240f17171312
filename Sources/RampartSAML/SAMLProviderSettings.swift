import Foundation

/// One identity provider as Rampart's service provider sees it: what a response must name, which
/// certificates may sign it, and what the organisation allows.
public struct SAMLProviderSettings: Sendable {
    /// Our entity ID for this provider: the Audience a response must carry.
    public var spEntityID: String
    /// Our Assertion Consumer Service URL: the Destination and the bearer Recipient.
    public var acsURL: String
    /// The IdP's entity ID: the Issuer of the response and the assertion.
    public var idpEntityID: String
    /// One certificate, or two during a rollover. Only these verify signatures; a key or
    /// certificate carried in a message is never used.
    public var idpSigningCertificatesPEM: [String]
    /// When false, a signed Response with an unsigned Assertion in it is enough.
    public var requireSignedAssertion: Bool = true
    /// IdP-initiated (unsolicited) responses; every other check still applies.
    public var allowIdPInitiated: Bool = false
    /// The most a clock may be off, in seconds, for NotBefore and NotOnOrAfter.
    public var maximumClockSkew: Double = 180
    /// The SP's private key (PEM) for EncryptedAssertion.
    public var spDecryptionKeyPEM: String?

    public init(spEntityID: String, acsURL: String, idpEntityID: String, idpSigningCertificatesPEM: [String],
                requireSignedAssertion: Bool = true, allowIdPInitiated: Bool = false,
                maximumClockSkew: Double = 180, spDecryptionKeyPEM: String? = nil) {
        self.spEntityID = spEntityID
        self.acsURL = acsURL
        self.idpEntityID = idpEntityID
        self.idpSigningCertificatesPEM = idpSigningCertificatesPEM
        self.requireSignedAssertion = requireSignedAssertion
        self.allowIdPInitiated = allowIdPInitiated
        self.maximumClockSkew = maximumClockSkew
        self.spDecryptionKeyPEM = spDecryptionKeyPEM
    }
}

/// What a valid response says about the person, read from the signed element only.
public struct SAMLAssertion: Sendable, Equatable {
    /// The assertion's ID: the caller's replay cache keeps it until `notOnOrAfter`.
    public var id: String
    public var issuer: String
    /// The whole text of NameID (comments inside it do not cut it short).
    public var nameID: String
    public var nameIDFormat: String?
    public var sessionIndex: String?
    /// Attribute Name → values, in document order; an attribute with a FriendlyName is found under it too
    /// (unless another attribute has that Name).
    public var attributes: [String: [String]]
    public var authnContextClassRefs: [String]
    public var authnInstant: Date?
    /// Until when the assertion could still be accepted (the earliest NotOnOrAfter plus the
    /// allowed skew): the replay cache must keep `id` at least this long.
    public var notOnOrAfter: Date
    /// The AuthnRequest ID this answers; nil for an IdP-initiated response.
    public var inResponseTo: String?
}

/// Why a response, metadata document or Redirect-binding message was refused. `reason` is stable
/// (for audit events and tests); `detail` is plain words for an admin and never names a person.
public struct SAMLRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, CaseIterable {
        case malformed
        case tooLarge = "too_large"
        case doctypeForbidden = "doctype_forbidden"
        case signatureMissing = "signature_missing"
        case signatureInvalid = "signature_invalid"
        case certificateNotConfigured = "certificate_not_configured"
        case algorithmNotAllowed = "algorithm_not_allowed"
        case transformNotAllowed = "transform_not_allowed"
        case assertionCount = "assertion_count"
        case issuerMismatch = "issuer_mismatch"
        case audienceMismatch = "audience_mismatch"
        case recipientMismatch = "recipient_mismatch"
        case destinationMismatch = "destination_mismatch"
        case inResponseToMismatch = "in_response_to_mismatch"
        case unsolicited
        case expired
        case notYetValid = "not_yet_valid"
        case subjectConfirmation = "subject_confirmation"
        case statusNotSuccess = "status_not_success"
        case decryptionFailed = "decryption_failed"
    }

    public let reason: Reason
    public let detail: String

    public init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}
