import RampartCore

/// The settings of an authentication policy. Every policy is complete, so that the effective
/// policy of a person can always be told setting by setting.
public struct AuthenticationPolicySettings: Sendable, Codable, Equatable {
    public var passwordSignInAllowed: Bool
    public var mfaRequired: Bool
    /// Days a person under an MFA requirement may still sign in without a factor, to enrol one.
    public var mfaEnrolmentGraceDays: Int
    /// Enforced once single sign-on is configured for the organisation.
    public var ssoRequired: Bool
    /// Users exempt from `ssoRequired`, so the organisation can still get in when its IdP is down.
    public var breakGlassUserIDs: [String]
    public var sessionLifetimeSeconds: Int
    public var idleTimeoutSeconds: Int
    /// nil means any address may sign in; an empty list means none may (two group
    /// allowlists that share no address).
    public var ipAllowlist: [IPNetwork]?
    public var apiTokensAllowed: Bool
    /// nil means no limit on an API token's lifetime.
    public var apiTokenMaxLifetimeDays: Int?
    public var password: PasswordPolicy

    /// What an organisation starts with: passwords allowed, MFA optional, the console's
    /// former 8-hour session, 30 minutes idle.
    public static let standard = AuthenticationPolicySettings(
        passwordSignInAllowed: true, mfaRequired: false, mfaEnrolmentGraceDays: 7, ssoRequired: false,
        breakGlassUserIDs: [], sessionLifetimeSeconds: 8 * 3600, idleTimeoutSeconds: 30 * 60,
        ipAllowlist: nil, apiTokensAllowed: true, apiTokenMaxLifetimeDays: nil, password: .standard)

    public init(passwordSignInAllowed: Bool, mfaRequired: Bool, mfaEnrolmentGraceDays: Int, ssoRequired: Bool,
                breakGlassUserIDs: [String], sessionLifetimeSeconds: Int, idleTimeoutSeconds: Int,
                ipAllowlist: [IPNetwork]?, apiTokensAllowed: Bool, apiTokenMaxLifetimeDays: Int?, password: PasswordPolicy) {
        self.passwordSignInAllowed = passwordSignInAllowed; self.mfaRequired = mfaRequired
        self.mfaEnrolmentGraceDays = mfaEnrolmentGraceDays; self.ssoRequired = ssoRequired
        self.breakGlassUserIDs = breakGlassUserIDs; self.sessionLifetimeSeconds = sessionLifetimeSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds; self.ipAllowlist = ipAllowlist
        self.apiTokensAllowed = apiTokensAllowed; self.apiTokenMaxLifetimeDays = apiTokenMaxLifetimeDays
        self.password = password
    }

    /// Problems that keep the settings from being saved; empty when they are valid.
    public var problems: [String] {
        var out = password.problems
        if !(0...90).contains(mfaEnrolmentGraceDays) { out.append("mfaEnrolmentGraceDays must be between 0 and 90") }
        if !(300...(90 * 86_400)).contains(sessionLifetimeSeconds) { out.append("sessionLifetimeSeconds must be between 300 and 7776000") }
        if idleTimeoutSeconds < 60 || idleTimeoutSeconds > sessionLifetimeSeconds { out.append("idleTimeoutSeconds must be between 60 and sessionLifetimeSeconds") }
        if let days = apiTokenMaxLifetimeDays, !(1...3650).contains(days) { out.append("apiTokenMaxLifetimeDays must be between 1 and 3650") }
        if !passwordSignInAllowed && !ssoRequired { out.append("passwordSignInAllowed may only be false when ssoRequired is true") }
        return out
    }

    /// The stricter of two settings, one setting at a time; used between policies of groups
    /// that a person belongs to, where neither is more specific than the other.
    public func stricter(_ other: AuthenticationPolicySettings) -> AuthenticationPolicySettings {
        AuthenticationPolicySettings(
            passwordSignInAllowed: passwordSignInAllowed && other.passwordSignInAllowed,
            mfaRequired: mfaRequired || other.mfaRequired,
            mfaEnrolmentGraceDays: Self.grace(self, other),
            ssoRequired: ssoRequired || other.ssoRequired,
            breakGlassUserIDs: Self.breakGlass(self, other),
            sessionLifetimeSeconds: min(sessionLifetimeSeconds, other.sessionLifetimeSeconds),
            idleTimeoutSeconds: min(idleTimeoutSeconds, other.idleTimeoutSeconds),
            ipAllowlist: Self.allowlist(ipAllowlist, other.ipAllowlist),
            apiTokensAllowed: apiTokensAllowed && other.apiTokensAllowed,
            apiTokenMaxLifetimeDays: [apiTokenMaxLifetimeDays, other.apiTokenMaxLifetimeDays].compactMap { $0 }.min(),
            password: PasswordPolicy(
                minimumLength: max(password.minimumLength, other.password.minimumLength),
                minimumLengthSingleFactor: max(password.minimumLengthSingleFactor, other.password.minimumLengthSingleFactor),
                // A longer maximum restricts nothing, so the larger one is kept.
                maximumLength: max(password.maximumLength, other.password.maximumLength)))
    }

    /// The grace period only matters where MFA is required; the shorter one applies.
    private static func grace(_ a: Self, _ b: Self) -> Int {
        switch (a.mfaRequired, b.mfaRequired) {
        case (true, false): a.mfaEnrolmentGraceDays
        case (false, true): b.mfaEnrolmentGraceDays
        default: min(a.mfaEnrolmentGraceDays, b.mfaEnrolmentGraceDays)
        }
    }

    /// An exemption from SSO holds only where every policy that requires SSO grants it.
    private static func breakGlass(_ a: Self, _ b: Self) -> [String] {
        switch (a.ssoRequired, b.ssoRequired) {
        case (true, false): a.breakGlassUserIDs
        case (false, true): b.breakGlassUserIDs
        default: a.breakGlassUserIDs.filter(b.breakGlassUserIDs.contains)
        }
    }

    /// No list allows everything, so it is the looser one; between two lists, only the
    /// addresses both allow (possibly none, which the simulation reports before saving).
    private static func allowlist(_ a: [IPNetwork]?, _ b: [IPNetwork]?) -> [IPNetwork]? {
        guard let a else { return b }
        guard let b else { return a }
        var out = [IPNetwork]()
        for x in a { for y in b { if let both = x.intersection(y), !out.contains(both) { out.append(both) } } }
        return out
    }
}

/// A named policy of an organisation. Exactly one is the default.
public struct AuthenticationPolicy: Sendable, Equatable, Identifiable {
    public let id: String
    public var name: String
    public var isDefault: Bool
    public var settings: AuthenticationPolicySettings

    public init(id: String, name: String, isDefault: Bool, settings: AuthenticationPolicySettings) {
        self.id = id; self.name = name; self.isDefault = isDefault; self.settings = settings
    }
}

/// Where a policy is assigned. The organisation's default needs no assignment.
public enum PolicyAssignmentTarget: Sendable, Hashable {
    case user(String)
    case group(String)
}
