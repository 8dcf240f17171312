import RampartAuthn
import RampartCore
import Testing

@Suite struct AuthenticationPolicyTests {
    func policy(_ id: String, isDefault: Bool = false, _ change: (inout AuthenticationPolicySettings) throws -> Void = { _ in })
        throws -> AuthenticationPolicy {
        var settings = AuthenticationPolicySettings.standard
        try change(&settings)
        return AuthenticationPolicy(id: id, name: id, isDefault: isDefault, settings: settings)
    }

    @Test func userPolicyWinsWholeOverGroupsAndDefault() throws {
        let base = try policy("default", isDefault: true)
        let user = try policy("user") { $0.sessionLifetimeSeconds = 86_400 }
        let group = try policy("group") { $0.mfaRequired = true; $0.sessionLifetimeSeconds = 3600 }
        let effective = EffectivePolicy.resolve(defaultPolicy: base, userPolicy: user, groupPolicies: [group])
        #expect(effective.source == .user(policyID: "user"))
        #expect(effective.settings.sessionLifetimeSeconds == 86_400)
        #expect(!effective.settings.mfaRequired)
    }

    @Test func defaultAppliesWithoutAssignments() throws {
        let base = try policy("default", isDefault: true)
        let effective = EffectivePolicy.resolve(defaultPolicy: base, userPolicy: nil, groupPolicies: [])
        #expect(effective == EffectivePolicy.resolve(defaultPolicy: base, userPolicy: nil, groupPolicies: []))
        #expect(effective.source == .organizationDefault(policyID: "default"))
        #expect(effective.settings == .standard)
    }

    @Test func betweenGroupsEachSettingTakesTheStricterValue() throws {
        let base = try policy("default", isDefault: true)
        let a = try policy("a") {
            $0.mfaRequired = true; $0.mfaEnrolmentGraceDays = 14; $0.sessionLifetimeSeconds = 3600
            $0.ipAllowlist = [try IPNetwork(parsing: "10.0.0.0/8"), try IPNetwork(parsing: "2001:db8::/32")]
            $0.apiTokenMaxLifetimeDays = 90
        }
        let b = try policy("b") {
            $0.idleTimeoutSeconds = 600; $0.apiTokensAllowed = false; $0.mfaEnrolmentGraceDays = 3
            $0.ipAllowlist = [try IPNetwork(parsing: "10.1.0.0/16"), try IPNetwork(parsing: "192.168.0.0/16")]
            $0.password.minimumLength = 14
        }
        let ab = EffectivePolicy.resolve(defaultPolicy: base, userPolicy: nil, groupPolicies: [b, a])
        let ba = EffectivePolicy.resolve(defaultPolicy: base, userPolicy: nil, groupPolicies: [a, b])
        #expect(ab == ba)
        #expect(ab.source == .groups(policyIDs: ["a", "b"]))
        let s = ab.settings
        #expect(s.mfaRequired)
        // Only `a` requires MFA, so its grace period applies, not b's (which requires nothing).
        #expect(s.mfaEnrolmentGraceDays == 14)
        #expect(s.sessionLifetimeSeconds == 3600)
        #expect(s.idleTimeoutSeconds == 600)
        #expect(!s.apiTokensAllowed)
        #expect(s.apiTokenMaxLifetimeDays == 90)
        #expect(s.password.minimumLength == 14)
        #expect(s.ipAllowlist?.map(\.description) == ["10.1.0.0/16"])
    }

    @Test func disjointAllowlistsAllowNoAddress() throws {
        let a = try policy("a") { $0.ipAllowlist = [try IPNetwork(parsing: "10.0.0.0/8")] }
        let b = try policy("b") { $0.ipAllowlist = [try IPNetwork(parsing: "192.168.0.0/16")] }
        let s = EffectivePolicy.resolve(defaultPolicy: try policy("d", isDefault: true), userPolicy: nil, groupPolicies: [a, b]).settings
        #expect(s.ipAllowlist == [])
    }

    @Test func breakGlassExemptionHoldsOnlyWhereEveryPolicyRequiringSSOGrantsIt() throws {
        let a = try policy("a") { $0.ssoRequired = true; $0.breakGlassUserIDs = ["u1", "u2"] }
        let b = try policy("b") { $0.ssoRequired = true; $0.breakGlassUserIDs = ["u2"] }
        let c = try policy("c") { $0.breakGlassUserIDs = ["u3"] }
        #expect(a.settings.stricter(b.settings).breakGlassUserIDs == ["u2"])
        #expect(a.settings.stricter(c.settings).breakGlassUserIDs == ["u1", "u2"])
    }

    @Test func validationNamesEveryProblem() throws {
        var s = AuthenticationPolicySettings.standard
        #expect(s.problems.isEmpty)
        s.idleTimeoutSeconds = 10; s.sessionLifetimeSeconds = 10; s.passwordSignInAllowed = false
        #expect(s.problems.count == 3)
    }
}

@Suite struct SignInDecisionTests {
    let now = Timestamp(microseconds: 1_700_000_000_000_000)

    func decide(_ change: (inout AuthenticationPolicySettings) throws -> Void = { _ in }, address: String? = "203.0.113.9",
                factor: Bool = false, since days: Int = 0, sso: Bool = false, user: String = "u1") throws -> SignInDecision {
        var settings = AuthenticationPolicySettings.standard
        try change(&settings)
        let effective = EffectivePolicy.resolve(
            defaultPolicy: AuthenticationPolicy(id: "d", name: "d", isDefault: true, settings: settings),
            userPolicy: nil, groupPolicies: [])
        return effective.decidePasswordSignIn(userID: user, address: address.flatMap(IPAddress.init), hasSecondFactor: factor,
                                              mfaRequiredSince: now.adding(days: -days), ssoConfigured: sso, now: now)
    }

    @Test func passwordAloneWhenNothingIsRequired() throws {
        #expect(try decide() == .allowed)
        #expect(try decide(factor: true) == .secondFactorRequired)
    }

    @Test func ipAllowlistCoversIPv4IPv6AndMappedAddresses() throws {
        let list = [try IPNetwork(parsing: "203.0.113.0/24"), try IPNetwork(parsing: "2001:db8:1::/48")]
        #expect(try decide({ $0.ipAllowlist = list }) == .allowed)
        #expect(try decide({ $0.ipAllowlist = list }, address: "::ffff:203.0.113.7") == .allowed)
        #expect(try decide({ $0.ipAllowlist = list }, address: "2001:db8:1:ff::1") == .allowed)
        #expect(try decide({ $0.ipAllowlist = list }, address: "2001:db8:2::1") == .denied(.addressNotAllowed))
        #expect(try decide({ $0.ipAllowlist = list }, address: "198.51.100.1") == .denied(.addressNotAllowed))
        #expect(try decide({ $0.ipAllowlist = list }, address: nil) == .denied(.addressNotAllowed))
    }

    @Test func mfaRequirementHasAGracePeriod() throws {
        let grace = now.adding(days: 7 - 2)
        #expect(try decide({ $0.mfaRequired = true }, since: 2) == .enrolmentRequired(graceEndsAt: grace))
        #expect(try decide({ $0.mfaRequired = true }, since: 8) == .denied(.mfaEnrolmentOverdue))
        #expect(try decide({ $0.mfaRequired = true }, factor: true, since: 8) == .secondFactorRequired)
    }

    @Test func ssoIsEnforcedOnlyOnceConfiguredAndSparesBreakGlassAccounts() throws {
        let sso: (inout AuthenticationPolicySettings) -> Void = { $0.ssoRequired = true; $0.passwordSignInAllowed = false; $0.breakGlassUserIDs = ["admin"] }
        #expect(try decide(sso, sso: true) == .denied(.ssoRequired))
        #expect(try decide(sso, sso: true, user: "admin") == .allowed)
        #expect(try decide(sso, sso: false) == .denied(.passwordSignInNotAllowed))
    }

    @Test func cidrParsingRefusesNonsense() throws {
        for bad in ["", "10.0.0.0/33", "10.0.0/8", "2001:db8::/129", "host.example", "10.0.0.0/-1", "10.0.0.0/8/8"] {
            #expect(throws: RampartError.self, "\(bad)") { try IPNetwork(parsing: bad) }
        }
        #expect(try IPNetwork(parsing: "10.1.2.3/8").description == "10.0.0.0/8")
        #expect(try IPNetwork(parsing: "2001:db8::1").description == "2001:db8::1/128")
    }
}
