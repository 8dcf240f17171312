import Foundation
import RampartAuthn
import RampartCore
import RampartStorage

/// What a completed federated sign-in led to.
enum FederatedOutcome: Sendable {
    case signedIn(SignedIn, returnTo: String?)
    /// A test from the console or API: the identity was read, nobody was signed in.
    case tested(attemptID: String)
    case failed(SSOFailure)
}

/// Completes a sign-in once a protocol (OpenID Connect or SAML) has verified who the
/// provider says the person is. It finds the account — by the provider's subject, else by a
/// verified email in the provider's organisation, else creates it when JIT is on —, updates
/// what the provider maps, applies the person's policy (IP allowlist, MFA: the provider's own
/// when trusted, else Rampart's second factor), and starts a session as password sign-in
/// does. Every refusal is an `sso.signin_failed` event with its reason and the provider.
struct FederatedSignIn: Sendable {
    let services: RampartServices

    func complete(provider: IdentityProvider, organization: Organization, identity: FederatedIdentity,
                  attempt: SSOAttempt, client: SignInClient) async throws -> FederatedOutcome {
        // The attempt was read in the provider's organisation; its provider must be this one.
        guard attempt.providerID == provider.id else { return try await fail(.unknownState, provider, organization, client) }
        guard !identity.subject.isEmpty else { return try await fail(.subjectMissing, provider, organization, client) }
        if attempt.testMode { return try await recordTest(provider, organization, identity, attempt, client) }
        let resolved = try await services.database.write(org: organization.id) { tenant in
            try await Self.resolve(tenant, provider: provider, identity: identity, client: client)
        }
        let user: User
        switch resolved {
        case .failure(let failure): return try await fail(failure.reason, provider, organization, client, user: nil)
        case .success(let found): user = found
        }
        let providerMFA = provider.trustIdpMfa && identity.mfaSatisfied
        let audit = Self.audit(client, user)
        let outcome: Result<SignedIn, SSOFailure> = try await services.database.write(org: organization.id) { tenant in
            let (policy, hasFactor, graceStart) = try await tenant.signInPolicy(for: user.id)
            let decision = policy.decideFederatedSignIn(address: client.ip.flatMap(IPAddress.init), hasSecondFactor: hasFactor,
                                                        providerMFA: providerMFA, mfaRequiredSince: graceStart, now: .now())
            let next: SignInNextStep
            switch decision {
            case .allowed: next = .done
            case .secondFactorRequired: next = .secondFactor
            case .enrolmentRequired: next = .enrol(required: false)
            case .denied(.mfaEnrolmentOverdue): next = .enrol(required: true)
            case .denied(.addressNotAllowed): return .failure(SSOFailure(.addressNotAllowed))
            case .denied: return .failure(SSOFailure(.mfaEnrolmentOverdue))
            }
            guard next == .done || next == .enrol(required: false) else {
                // Rampart's own second factor (or a required enrolment) before anything else.
                let pending = try await tenant.startUserSession(
                    for: user.id, mfaCompleted: false, lifetimeSeconds: SignInService.pendingLifetimeSeconds,
                    idleTimeoutSeconds: SignInService.pendingLifetimeSeconds, ip: client.ip, userAgent: client.userAgent)
                return .success(SignedIn(secret: pending.secret, user: user, session: pending.session, next: next))
            }
            try await tenant.appendAudit([audit.record(.signinSucceeded, [.user(user), .identityProvider(provider)], details: AuditDetails([
                "method": .string("sso"), "provider_id": .string(provider.id), "provider_mfa": .bool(providerMFA),
            ]))])
            let full = try await SignInService.startFullSession(tenant, user: user, client: client,
                                                                amr: providerMFA ? ["fed", "mfa"] : ["fed"])
            return .success(SignedIn(secret: full.secret, user: user, session: full.session, next: next))
        }
        switch outcome {
        case .failure(let failure): return try await fail(failure.reason, provider, organization, client, user: user)
        case .success(let signedIn): return .signedIn(signedIn, returnTo: attempt.returnTo)
        }
    }

    /// The account for this identity, created or updated as the provider's settings say; a
    /// refusal is returned (not thrown) so that its audit event is written.
    private static func resolve(_ tenant: Tenant, provider: IdentityProvider, identity: FederatedIdentity,
                                client: SignInClient) async throws -> Result<User, SSOFailure> {
        var user: User?
        if let linked = try await tenant.linkedUser(providerID: provider.id, subject: identity.subject) {
            user = try await tenant.user(linked)
        }
        let audit = Self.audit(client, user)
        if user == nil, let email = identity.email {
            if let existing = try await tenant.user(email: email) {
                // Never link through an address the provider does not vouch for: whoever
                // controls the provider account could otherwise take over the Rampart account.
                guard identity.emailVerified else { return .failure(SSOFailure(.emailNotVerified)) }
                try await tenant.linkExternalIdentity(providerID: provider.id, subject: identity.subject, userID: existing.id)
                try await tenant.appendAudit([audit.record(.ssoIdentityLinked, [.user(existing), .identityProvider(provider)],
                                                           details: AuditDetails(["provider_id": .string(provider.id), "by": .string("email")]))])
                user = existing
            }
        }
        if user == nil {
            guard provider.jit else { return .failure(SSOFailure(.noAccount)) }
            guard let email = identity.email else { return .failure(SSOFailure(.emailMissing)) }
            guard identity.emailVerified else { return .failure(SSOFailure(.emailNotVerified)) }
            let created: User
            do {
                created = try await tenant.createUser(email: email, displayName: String(identity.bestDisplayName.prefix(200)),
                                                      by: Self.jitContext(client, provider))
            } catch let error as RampartError where error.code == .conflict {
                return .failure(SSOFailure(.emailManagedElsewhere))
            } catch let error as RampartError where error.code == .invalidField {
                return .failure(SSOFailure(.emailMissing))
            }
            try await tenant.linkExternalIdentity(providerID: provider.id, subject: identity.subject, userID: created.id)
            try await tenant.appendAudit([audit.record(.ssoIdentityLinked, [.user(created), .identityProvider(provider)],
                                                       details: AuditDetails(["provider_id": .string(provider.id), "by": .string("jit")]))])
            user = created
        }
        guard var found = user else { return .failure(SSOFailure(.noAccount)) }
        guard found.status == .active else { return .failure(SSOFailure(.userDeactivated)) }
        let context = Self.jitContext(client, provider)
        if let name = identity.displayName ?? (identity.givenName != nil || identity.familyName != nil ? identity.bestDisplayName : nil),
           !name.isEmpty, name != found.displayName, (try? Validate.name(name, field: "displayName")) != nil {
            found = try await tenant.updateUser(found.id, email: nil, displayName: String(name.prefix(200)), by: context)
        }
        if let groups = identity.groups {
            try await tenant.syncProviderGroups(providerID: provider.id, subject: identity.subject, user: found, names: groups,
                                                match: provider.groupMatch, by: context)
        }
        return .success(found)
    }

    /// A test sign-in: what was received and what would happen, recorded for the admin who started it.
    private func recordTest(_ provider: IdentityProvider, _ organization: Organization, _ identity: FederatedIdentity,
                            _ attempt: SSOAttempt, _ client: SignInClient) async throws -> FederatedOutcome {
        let report = SSOTestReport(ok: true, reason: nil, message: "The identity provider signed a person in and Rampart verified the answer.",
                                   identity: identity)
        try await services.database.write(org: organization.id) { tenant in
            try await tenant.recordSSOTestResult(attemptID: attempt.id, result: report.json)
            try await tenant.appendAudit([Self.audit(client, nil).record(.ssoTestCompleted, [.identityProvider(provider)],
                                                                         details: AuditDetails(["provider_id": .string(provider.id)]))])
        }
        return .tested(attemptID: attempt.id)
    }

    /// Audits a refusal; the person sees `failure.message`.
    /// Audits a refusal; the person sees `failure.message`, the admin also `detail` (the event keeps it).
    func fail(_ reason: SSOFailure.Reason, _ provider: IdentityProvider, _ organization: Organization, _ client: SignInClient,
              user: User? = nil, testAttemptID: String? = nil, detail: String? = nil) async throws -> FederatedOutcome {
        let audit = Self.audit(client, user)
        var details = AuditDetails(["reason": .string(reason.rawValue), "provider_id": .string(provider.id)])
        if let detail { details["detail"] = .string(String(detail.prefix(500))) }
        try await services.database.write(org: organization.id) { [details] tenant in
            try await tenant.appendAudit([audit.record(.ssoSigninFailed, [.identityProvider(provider)] + (user.map { [.user($0)] } ?? []),
                                                       details: details, outcome: .failure)])
            if let testAttemptID {
                let report = SSOTestReport(ok: false, reason: reason.rawValue, message: detail.map { "Rampart refused the answer: \($0)." }
                                               ?? SSOFailure(reason).message, identity: nil)
                try await tenant.recordSSOTestResult(attemptID: testAttemptID, result: report.json)
            }
        }
        return .failed(SSOFailure(reason, detail: detail))
    }

    /// The person as the actor, by id only: a failure's event holds no email or claim.
    private static func audit(_ client: SignInClient, _ user: User?) -> AuditContext {
        AuditContext(actor: AuditActor(type: .user, id: user?.id, name: user?.email, ip: client.ip, userAgent: client.userAgent),
                     requestID: client.requestID)
    }

    /// Changes the provider makes (JIT accounts, names, groups) are the system's, on the provider's word.
    private static func jitContext(_ client: SignInClient, _ provider: IdentityProvider) -> AuditContext {
        AuditContext(actor: AuditActor(type: .system, id: provider.id, name: "identity provider \(provider.name)",
                                       ip: client.ip, userAgent: client.userAgent), requestID: client.requestID)
    }
}

/// What a test sign-in found, shown on the provider's page and by the API.
struct SSOTestReport: Codable, Sendable {
    let ok: Bool
    let reason: String?
    let message: String
    var subject: String?
    var email: String?
    var emailVerified: Bool?
    var displayName: String?
    var groups: [String]?
    var mfaSatisfied: Bool?
    var received: [String: String]?

    init(ok: Bool, reason: String?, message: String, identity: FederatedIdentity?) {
        self.ok = ok; self.reason = reason; self.message = message
        if let identity {
            subject = identity.subject; email = identity.email; emailVerified = identity.emailVerified
            displayName = identity.bestDisplayName; groups = identity.groups; mfaSatisfied = identity.mfaSatisfied
            received = identity.received
        }
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
