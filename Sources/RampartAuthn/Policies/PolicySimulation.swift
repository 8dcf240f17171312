import RampartCore

/// Who a change to the authentication policies would affect, told before it is enforced:
/// the same report answers `POST /authentication-policies/simulate`, the console's preview,
/// and the check every save runs (a save ends exactly the sessions listed here).
public struct PolicySimulation: Sendable {
    public struct PersonRef: Sendable, Equatable, Encodable {
        public let id: String
        public let email: String
        public let displayName: String
    }

    /// A person who signed in lately from addresses the new allowlist refuses.
    public struct BlockedAddresses: Sendable, Encodable {
        public let user: PersonRef
        public let addresses: [String]
    }

    /// A person the change puts under an MFA requirement without a factor.
    public struct MissingFactor: Sendable, Encodable {
        public let user: PersonRef
        /// Until when they may still sign in with a password alone to enrol.
        public let graceEndsAt: Timestamp
        /// Past the grace period: their next sign-in can do nothing but enrol a factor.
        public let overdue: Bool
    }

    public struct EndingSession: Sendable, Encodable {
        public let sessionId: String
        public let user: PersonRef
        /// `address_not_allowed`, `password_sign_in_not_allowed`, `lifetime` or `idle_timeout`.
        public let reason: String
    }

    public struct AdminLosingAccess: Sendable, Encodable {
        public let user: PersonRef
        public let roles: [Role]
        /// `address_not_allowed` (no recent sign-in from an address the allowlist keeps),
        /// `password_sign_in_not_allowed` or `sso_required`.
        public let reason: String
    }

    /// People whose effective settings the change alters.
    public let affectedUsers: [PersonRef]
    public let blockedByIpAllowlist: [BlockedAddresses]
    public let usersWithoutMfa: [MissingFactor]
    public let sessionsEnding: [EndingSession]
    public let adminsLosingAccess: [AdminLosingAccess]
    /// Some org-admin could sign in before the change and none could after. A save that
    /// would do this is refused unless the admin overrides it explicitly.
    public let leavesNoOrgAdminAbleToSignIn: Bool

    /// Sessions are judged as the server would judge them the moment the change is saved.
    public init(before: PolicyLandscape, changes: [PolicyChange], now: Timestamp) {
        let after = before.applying(changes)
        var affected = [PersonRef](), blocked = [BlockedAddresses](), missing = [MissingFactor]()
        var ending = [EndingSession](), losing = [AdminLosingAccess]()
        var orgAdminsBefore = 0, orgAdminsAfter = 0
        for person in before.people {
            let old = before.effectivePolicy(of: person).settings
            let new = after.effectivePolicy(of: person).settings
            let ref = PersonRef(id: person.id, email: person.email, displayName: person.displayName)
            let refusalBefore = Self.refusal(person, old, now: now)
            let refusalAfter = Self.refusal(person, new, now: now)
            if person.roles.contains(.orgAdmin) {
                if refusalBefore == nil { orgAdminsBefore += 1 }
                if refusalAfter == nil { orgAdminsAfter += 1 }
            }
            guard old != new else { continue }
            affected.append(ref)
            let refused = person.recentAddresses.filter { !Self.allows(new, address: $0) }
            if !refused.isEmpty { blocked.append(BlockedAddresses(user: ref, addresses: refused)) }
            if new.mfaRequired && !person.hasSecondFactor {
                let graceEnds = (person.mfaGraceStart ?? now).adding(days: new.mfaEnrolmentGraceDays)
                missing.append(MissingFactor(user: ref, graceEndsAt: graceEnds, overdue: !(now < graceEnds)))
            }
            for session in person.sessions where session.isLive(at: now) {
                if let reason = Self.endingReason(session, person, new, now: now) {
                    ending.append(EndingSession(sessionId: session.id, user: ref, reason: reason))
                }
            }
            if !person.roles.isEmpty, refusalBefore == nil, let reason = refusalAfter {
                losing.append(AdminLosingAccess(user: ref, roles: person.roles.sorted(by: >), reason: reason))
            }
        }
        affectedUsers = affected
        blockedByIpAllowlist = blocked
        usersWithoutMfa = missing
        sessionsEnding = ending
        adminsLosingAccess = losing
        leavesNoOrgAdminAbleToSignIn = orgAdminsBefore > 0 && orgAdminsAfter == 0
    }

    /// Why `person` could not sign in under `settings`, or nil if they could. Someone whose
    /// MFA grace is over can still sign in to enrol, so that is not a refusal; with an
    /// allowlist, only the addresses they signed in from lately count as theirs.
    static func refusal(_ person: PolicyLandscape.Person, _ settings: AuthenticationPolicySettings,
                        now: Timestamp) -> String? {
        guard person.hasPassword else { return "no_password" }
        let policy = EffectivePolicy(settings: settings, source: .organizationDefault(policyID: ""))
        let addresses: [IPAddress?] = settings.ipAllowlist == nil ? [nil] : person.recentAddresses.map(IPAddress.init)
        var reason = SignInDenial.addressNotAllowed.rawValue
        for address in addresses {
            switch policy.decidePasswordSignIn(userID: person.id, address: address, hasSecondFactor: person.hasSecondFactor,
                                               mfaRequiredSince: person.mfaGraceStart ?? now, ssoConfigured: false, now: now) {
            case .denied(let denial) where denial != .mfaEnrolmentOverdue: reason = denial.rawValue
            default: return nil
            }
        }
        return reason
    }

    static func allows(_ settings: AuthenticationPolicySettings, address: String?) -> Bool {
        guard let allowlist = settings.ipAllowlist else { return true }
        guard let address = address.flatMap(IPAddress.init) else { return false }
        return allowlist.contains { $0.contains(address) }
    }

    /// Why a live session could not go on under `settings`, or nil if it can (then it is only
    /// shortened to the new lifetime and idle timeout).
    static func endingReason(_ session: PolicyLandscape.Session, _ person: PolicyLandscape.Person,
                             _ settings: AuthenticationPolicySettings, now: Timestamp) -> String? {
        let exempt = settings.breakGlassUserIDs.contains(person.id)
        if !allows(settings, address: session.ip) { return SignInDenial.addressNotAllowed.rawValue }
        if !settings.passwordSignInAllowed && !exempt { return SignInDenial.passwordSignInNotAllowed.rawValue }
        if !(now < session.createdAt.adding(seconds: Double(settings.sessionLifetimeSeconds))) { return "lifetime" }
        if !(now < session.lastSeenAt.adding(seconds: Double(settings.idleTimeoutSeconds))) { return "idle_timeout" }
        return nil
    }
}
