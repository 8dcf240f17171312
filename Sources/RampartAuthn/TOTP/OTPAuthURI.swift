import Foundation

/// The `otpauth://totp/...` key URI that authenticator apps scan (Google Authenticator's
/// Key Uri Format, which pyotp and oathtool-compatible apps share).
public struct OTPAuthURI: Sendable, Equatable {
    public let issuer: String
    public let accountName: String
    public let totp: TOTP

    public init(issuer: String, accountName: String, totp: TOTP) {
        self.issuer = issuer; self.accountName = accountName; self.totp = totp
    }

    public var text: String {
        let label = Self.escape(issuer) + ":" + Self.escape(accountName)
        return "otpauth://totp/\(label)?secret=\(Base32.encode(totp.secret))&issuer=\(Self.escape(issuer))"
            + "&algorithm=\(totp.algorithm.rawValue)&digits=\(totp.digits)&period=\(totp.period)"
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters, so a ':' or '&' in a
    /// name cannot change the URI's structure.
    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
