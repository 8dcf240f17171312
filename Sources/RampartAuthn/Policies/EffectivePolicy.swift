import RampartCore

/// The policy that governs one person, and why: the rule is documented in
/// docs/authentication-policies.md.
///
/// 1. A policy assigned to the user wins whole.
/// 2. Otherwise, policies assigned to groups the user belongs to are combined setting by
///    setting, each taking the stricter value (groups are equally specific, and a person
///    should not escape a control by joining a second group).
/// 3. Otherwise the organisation's default applies.
public struct EffectivePolicy: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case user(policyID: String)
        case groups(policyIDs: [String])
        case organizationDefault(policyID: String)
    }

    public let settings: AuthenticationPolicySettings
    public let source: Source

    /// - Parameters:
    ///   - defaultPolicy: the organisation's default policy.
    ///   - userPolicy: the policy assigned to the user directly, if any.
    ///   - groupPolicies: policies assigned to the user's groups, in any order.
    public static func resolve(defaultPolicy: AuthenticationPolicy, userPolicy: AuthenticationPolicy?,
                               groupPolicies: [AuthenticationPolicy]) -> EffectivePolicy {
        if let userPolicy { return EffectivePolicy(settings: userPolicy.settings, source: .user(policyID: userPolicy.id)) }
        // Order-independent: sort by id so the same inputs always name the same sources.
        let groups = Dictionary(groupPolicies.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            .values.sorted { $0.id < $1.id }
        if let first = groups.first {
            let combined = groups.dropFirst().reduce(first.settings) { $0.stricter($1.settings) }
            return EffectivePolicy(settings: combined, source: .groups(policyIDs: groups.map(\.id)))
        }
        return EffectivePolicy(settings: defaultPolicy.settings, source: .organizationDefault(policyID: defaultPolicy.id))
    }
}

/// What the effective policy says about one sign-in attempt, before any credential is checked
/// beyond the first factor. A verdict, not an error: the caller audits the reason.
public enum SignInDecision: Sendable, Equatable {
    case denied(SignInDenial)
    /// The password was enough.
    case allowed
    /// A second factor must be presented before a session is issued.
    case secondFactorRequired
    /// MFA is required but the person has no factor yet; within the grace period they may
    /// sign in and must enrol. `graceEndsAt` says until when.
    case enrolmentRequired(graceEndsAt: Timestamp)
}

public enum SignInDenial: String, Sendable, Equatable {
    case addressNotAllowed = "address_not_allowed"
    case passwordSignInNotAllowed = "password_sign_in_not_allowed"
    case ssoRequired = "sso_required"
    case mfaEnrolmentOverdue = "mfa_enrolment_overdue"
}

extension EffectivePolicy {
    /// Decides a password sign-in.
    /// - Parameters:
    ///   - address: the client's address; nil when it could not be read, which an allowlist refuses.
    ///   - hasSecondFactor: whether the person has an active TOTP factor.
    ///   - mfaRequiredSince: when MFA first applied to this person (start of the grace period).
    ///   - ssoConfigured: SSO is only enforced when the organisation has an identity provider.
    public func decidePasswordSignIn(userID: String, address: IPAddress?, hasSecondFactor: Bool,
                                     mfaRequiredSince: Timestamp, ssoConfigured: Bool, now: Timestamp) -> SignInDecision {
        if let allowlist = settings.ipAllowlist {
            guard let address, allowlist.contains(where: { $0.contains(address) }) else { return .denied(.addressNotAllowed) }
        }
        let exempt = settings.breakGlassUserIDs.contains(userID)
        if settings.ssoRequired && ssoConfigured && !exempt { return .denied(.ssoRequired) }
        if !settings.passwordSignInAllowed && !exempt { return .denied(.passwordSignInNotAllowed) }
        if hasSecondFactor { return .secondFactorRequired }
        guard settings.mfaRequired else { return .allowed }
        let graceEnds = mfaRequiredSince.adding(days: settings.mfaEnrolmentGraceDays)
        return now < graceEnds ? .enrolmentRequired(graceEndsAt: graceEnds) : .denied(.mfaEnrolmentOverdue)
    }
}

extension EffectivePolicy {
    /// Decides a sign-in through an identity provider: the IP allowlist still applies, SSO
    /// and password rules do not; MFA is satisfied by the provider's own when the provider is
    /// trusted for it (`providerMFA`), else by Rampart's second factor.
    public func decideFederatedSignIn(address: IPAddress?, hasSecondFactor: Bool, providerMFA: Bool,
                                      mfaRequiredSince: Timestamp, now: Timestamp) -> SignInDecision {
        if let allowlist = settings.ipAllowlist {
            guard let address, allowlist.contains(where: { $0.contains(address) }) else { return .denied(.addressNotAllowed) }
        }
        guard settings.mfaRequired, !providerMFA else { return .allowed }
        if hasSecondFactor { return .secondFactorRequired }
        let graceEnds = mfaRequiredSince.adding(days: settings.mfaEnrolmentGraceDays)
        return now < graceEnds ? .enrolmentRequired(graceEndsAt: graceEnds) : .denied(.mfaEnrolmentOverdue)
    }
}
