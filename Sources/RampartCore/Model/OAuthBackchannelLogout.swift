/// Where a product wants to hear that a person's Rampart session ended (OpenID Connect
/// Back-Channel Logout 1.0): Rampart POSTs a logout token to `uri` from its own servers.
/// Kept beside the client rather than in it, so that reading a client at the token endpoint
/// costs nothing more.
public struct OAuthBackchannelLogout: Codable, Sendable, Equatable {
    public var uri: String
    /// The product needs the `sid` claim to find the session to end; Rampart always sends it
    /// when the session is known, and sends nothing to such a product when it is not.
    public var sessionRequired: Bool

    public init(uri: String, sessionRequired: Bool) {
        self.uri = uri; self.sessionRequired = sessionRequired
    }
}
