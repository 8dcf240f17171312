/// Who an identity provider says a person is, after the protocol (OpenID Connect or SAML)
/// has verified the message it came in: the one value federated sign-in completes from.
public struct FederatedIdentity: Sendable, Equatable {
    /// The provider's stable identifier of the person (`sub`, or the SAML NameID).
    public var subject: String
    public var email: String?
    /// Whether the provider vouches for the email (`email_verified`; SAML providers assert
    /// only addresses they manage, so a SAML caller passes true). An unverified email never links an account.
    public var emailVerified: Bool
    public var givenName: String?
    public var familyName: String?
    public var displayName: String?
    /// The names or ids of the groups claim or attribute; nil when the provider sent none
    /// (memberships are then left as they are).
    public var groups: [String]?
    /// Whether the provider says the person passed MFA (`amr` holds `mfa`, `otp`, `hwk`…; or
    /// an AuthnContextClassRef of multi-factor).
    public var mfaSatisfied: Bool
    /// The claims or attributes as received, for the test-connection page only (never logged or stored beyond the test).
    public var received: [String: String]

    public init(subject: String, email: String?, emailVerified: Bool, givenName: String?, familyName: String?,
                displayName: String?, groups: [String]?, mfaSatisfied: Bool, received: [String: String] = [:]) {
        self.subject = subject; self.email = email; self.emailVerified = emailVerified; self.givenName = givenName
        self.familyName = familyName; self.displayName = displayName; self.groups = groups
        self.mfaSatisfied = mfaSatisfied; self.received = received
    }

    /// The display name to give a user: the provider's, else given and family name, else the email.
    public var bestDisplayName: String {
        if let displayName, !displayName.isEmpty { return displayName }
        let joined = [givenName, familyName].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        return joined.isEmpty ? (email ?? subject) : joined
    }
}
