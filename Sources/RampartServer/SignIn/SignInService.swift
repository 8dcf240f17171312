import Foundation
import Hummingbird
import NIOPosix
import RampartAuthn
import RampartCore
import RampartStorage

/// Who is signing in from where: the request's address, browser and id, for throttling and the audit log.
struct SignInClient: Sendable {
    let ip: String?
    let userAgent: String?
    let requestID: String

    init(_ request: Request, _ context: RampartRequestContext) {
        ip = context.remoteAddress?.ipAddress
        userAgent = request.headers[.userAgent].map { String($0.prefix(256)) }
        requestID = context.requestID
    }

    /// Failures from an unreadable address still count, under one shared key.
    var addressKey: String { ip ?? "unknown" }

    func audit(_ user: User?, email: String) -> AuditContext {
        AuditContext(actor: AuditActor(type: .user, id: user?.id, name: email.isEmpty ? nil : String(email.prefix(320)),
                                       ip: ip, userAgent: userAgent), requestID: requestID)
    }
}

/// What comes after a correct password.
enum SignInNextStep: Sendable, Equatable {
    /// Fully signed in.
    case done
    /// A TOTP code or a recovery code is needed first.
    case secondFactor
    /// MFA applies and the person has no factor: enrolment is offered (`required: false`, in the
    /// grace period) or is the only way on (`required: true`).
    case enrol(required: Bool)
}

enum SignInOutcome: Sendable {
    /// Wrong organisation, email or password, said the same way for each.
    case refused
    /// Too many failures for this account or address; try again at `until`.
    case lockedOut(until: Timestamp)
    /// The password was right but the person's policy does not allow this sign-in.
    case denied(SignInDenial)
    case signedIn(SignedIn)
}

struct SignedIn: Sendable {
    /// The new session's secret, for the cookie.
    let secret: String
    let user: User
    let session: UserSession
    let next: SignInNextStep
}

/// Password sign-in, the second factor, and the sessions they start, for every person of an
/// organisation: the console's admins and everyone else alike. Every attempt is audited with
/// its reason and address; failures count per account and per address (docs/authentication.md).
struct SignInService: Sendable {
    let services: RampartServices

    /// A session that has passed the password but not yet the second factor (or a required
    /// enrolment) lives this long and allows nothing else.
    static let pendingLifetimeSeconds = 10 * 60

    // MARK: - Password

    func signIn(organization: Organization, email rawEmail: String, password: String,
                client: SignInClient) async throws -> SignInOutcome {
        let email = rawEmail.trimmingCharacters(in: .whitespaces).lowercased()
        let accountKey = Self.accountKey(email)
        let orgID = organization.id
        if let until = try await lockout(orgID: orgID, accountKey: accountKey, client: client) {
            return .lockedOut(until: until)
        }
        let (user, stored) = try await services.database.read(org: orgID) { tenant -> (User?, String?) in
            guard let user = try await tenant.user(email: email) else { return (nil, nil) }
            return (user, try await tenant.passwordHash(for: user.id))
        }
        let passwordOK = try await PasswordCheck(services: services).verify(password, against: stored)
        guard let user, passwordOK, user.status == .active else {
            let reason = user == nil ? "unknown_user" : !passwordOK ? "bad_password" : "deactivated"
            return try await recordFailure(orgID: orgID, user: user, email: email, accountKey: accountKey,
                                           reason: reason, client: client)
        }
        let rehash = try await PasswordCheck(services: services).rehashIfNeeded(password, stored: stored)
        let audit = client.audit(user, email: email)
        return try await services.database.write(org: orgID) { tenant -> SignInOutcome in
            let (policy, hasFactor, graceStart) = try await tenant.signInPolicy(for: user.id)
            let decision = policy.decidePasswordSignIn(userID: user.id, address: client.ip.flatMap(IPAddress.init),
                                                       hasSecondFactor: hasFactor, mfaRequiredSince: graceStart,
                                                       ssoConfigured: try await tenant.hasEnabledIdentityProvider(), now: .now())
            let next: SignInNextStep
            switch decision {
            case .allowed: next = .done
            case .secondFactorRequired: next = .secondFactor
            case .enrolmentRequired: next = .enrol(required: false)
            // Past the grace period the password alone still proves enough to enrol, and nothing more.
            case .denied(.mfaEnrolmentOverdue): next = .enrol(required: true)
            case .denied(let denial):
                try await tenant.appendAudit([audit.record(.signinFailed, [.user(user)],
                                                           details: AuditDetails(["reason": .string(denial.rawValue)]),
                                                           outcome: .failure)])
                return .denied(denial)
            }
            try await tenant.clearSignInFailures(.account, accountKey)
            if let rehash { try await tenant.setPasswordHash(rehash, for: user.id) }
            guard next == .done || next == .enrol(required: false) else {
                let pending = try await tenant.startUserSession(
                    for: user.id, mfaCompleted: false, lifetimeSeconds: Self.pendingLifetimeSeconds,
                    idleTimeoutSeconds: Self.pendingLifetimeSeconds, ip: client.ip, userAgent: client.userAgent)
                return .signedIn(SignedIn(secret: pending.secret, user: user, session: pending.session, next: next))
            }
            var details: [String: JSONValue] = ["method": .string("password")]
            if rehash != nil { details["password_rehashed"] = .bool(true) }
            try await tenant.appendAudit([audit.record(.signinSucceeded, [.user(user)], details: AuditDetails(details))])
            let full = try await Self.startFullSession(tenant, user: user, client: client)
            return .signedIn(SignedIn(secret: full.secret, user: user, session: full.session, next: next))
        }
    }

    // MARK: - Second factor

    enum SecondFactorOutcome: Sendable {
        case refused(reason: String)
        case lockedOut(until: Timestamp)
        case signedIn(SignedIn)
    }

    /// Checks a TOTP code (or, with `recovery`, a recovery code) for a pending session. On
    /// success the pending session ends and a new one starts: a new id at every privilege change.
    func completeSecondFactor(orgID: String, pending secret: SecretToken, code rawCode: String, recovery: Bool,
                              client: SignInClient) async throws -> SecondFactorOutcome {
        let code = rawCode.trimmingCharacters(in: .whitespaces)
        guard let (user, _) = try await pendingSession(orgID: orgID, secret) else { return .refused(reason: "no_session") }
        let accountKey = Self.accountKey(user.email)
        if let until = try await lockout(orgID: orgID, accountKey: accountKey, client: client) { return .lockedOut(until: until) }
        let keys = services.keys
        let accepted: AuditDetails? = try await services.database.write(org: orgID) { tenant in
            if recovery {
                guard try await tenant.consumeRecoveryCode(of: user.id, presented: code) else { return nil }
                return AuditDetails(["method": .string("password+recovery_code"),
                                     "recovery_codes_left": .int(Int64(try await tenant.unusedRecoveryCodeCount(of: user.id)))])
            }
            guard let factor = try await tenant.totpFactor(of: user.id, keys: keys),
                  case .accepted(let step) = factor.totp.verify(code, at: Date(), lastAcceptedStep: factor.lastAcceptedStep),
                  try await tenant.advanceTOTPStep(factorID: factor.factor.id, to: step) else { return nil }
            return AuditDetails(["method": .string("password+totp")])
        }
        guard let details = accepted else {
            let reason = recovery ? "bad_recovery_code" : try await totpRefusal(orgID: orgID, user: user, code: code)
            if case .lockedOut(let until) = try await recordFailure(orgID: orgID, user: user, email: user.email,
                                                                     accountKey: accountKey, reason: reason, client: client) {
                return .lockedOut(until: until)
            }
            return .refused(reason: reason)
        }
        return .signedIn(try await upgrade(orgID: orgID, secret, user: user, client: client, details: details,
                                           amr: recovery ? ["pwd", "mfa"] : ["pwd", "otp", "mfa"]))
    }

    /// Why a code was refused, for the audit log only (the person sees one message for all).
    private func totpRefusal(orgID: String, user: User, code: String) async throws -> String {
        let keys = services.keys
        guard let factor = try await services.database.read(org: orgID, { try await $0.totpFactor(of: user.id, keys: keys) })
        else { return "no_factor" }
        if case .rejected(let rejection) = factor.totp.verify(code, at: Date(), lastAcceptedStep: factor.lastAcceptedStep) {
            return rejection.rawValue
        }
        return TOTPRejection.replayed.rawValue  // accepted by the code, lost the compare-and-set
    }

    /// The person behind a session that still waits for its second factor or enrolment.
    func pendingSession(orgID: String, _ secret: SecretToken) async throws -> (User, UserSession)? {
        guard secret.orgID == orgID,
              let signedIn = try await services.database.read(org: orgID, { try await $0.signedInSession(secret) }),
              !signedIn.session.mfaCompleted else { return nil }
        return (signedIn.user, signedIn.session)
    }

    /// Replaces a session by a new one with the person's full policy lifetime: after the second
    /// factor, a required enrolment, or another privilege change. `amr` says how the new
    /// session was proven (RFC 8176), for the tokens products receive.
    func upgrade(orgID: String, _ secret: SecretToken, user: User, client: SignInClient,
                 event: AuditAction = .signinSucceeded, details: AuditDetails, amr: [String]) async throws -> SignedIn {
        let audit = client.audit(user, email: user.email)
        return try await services.database.write(org: orgID) { tenant in
            // The same sign-in goes on under a new secret: products it led to keep its sid.
            let sid = try await tenant.endUserSession(secret)
            try await tenant.clearSignInFailures(.account, Self.accountKey(user.email))
            try await tenant.appendAudit([audit.record(event, [.user(user)], details: details)])
            return try await Self.startFullSession(tenant, user: user, client: client, amr: amr, sid: sid)
        }
    }

    /// A full session for a person who just proved who they are another way (a setup link).
    func startSession(orgID: String, user: User, client: SignInClient) async throws -> SignedIn {
        try await services.database.write(org: orgID) { try await Self.startFullSession($0, user: user, client: client) }
    }

    /// A session with the lifetime and idle timeout of the person's effective policy.
    static func startFullSession(_ tenant: Tenant, user: User, client: SignInClient,
                                         amr: [String] = ["pwd"], sid: String? = nil) async throws -> SignedIn {
        let policy = try await tenant.effectivePolicy(for: user.id)
        try await tenant.touchLastActive(user.id)
        let started = try await tenant.startUserSession(
            for: user.id, mfaCompleted: true, lifetimeSeconds: policy.settings.sessionLifetimeSeconds,
            idleTimeoutSeconds: policy.settings.idleTimeoutSeconds, ip: client.ip, userAgent: client.userAgent, amr: amr, sid: sid)
        return SignedIn(secret: started.secret, user: user, session: started.session, next: .done)
    }

    // MARK: - Throttling

    /// Accounts are counted by the email typed, whether or not it names an account, so a
    /// lockout looks the same for both.
    static func accountKey(_ email: String) -> String { "email:" + email.lowercased() }

    private func lockout(orgID: String, accountKey: String, client: SignInClient) async throws -> Timestamp? {
        try await services.database.read(org: orgID) { tenant in
            let account = try await tenant.signInLockout(.account, accountKey)
            let address = try await tenant.signInLockout(.address, client.addressKey)
            return [account, address].compactMap { $0 }.max()
        }
    }

    /// Counts the failure for the account and the address and audits it with its reason; a
    /// failure that starts a lockout is audited as a lockout of its own.
    private func recordFailure(orgID: String, user: User?, email: String, accountKey: String, reason: String,
                               client: SignInClient) async throws -> SignInOutcome {
        let audit = client.audit(user, email: email)
        let targets: [AuditTarget] = user.map { [.user($0)] } ?? []
        let until: Timestamp? = try await services.database.write(org: orgID) { tenant in
            let account = try await tenant.recordSignInFailure(.account, accountKey)
            let address = try await tenant.recordSignInFailure(.address, client.addressKey)
            var records = [audit.record(.signinFailed, targets, details: AuditDetails(["reason": .string(reason)]),
                                        outcome: .failure)]
            for (scope, lockedUntil) in [("account", account), ("address", address)] {
                guard let lockedUntil else { continue }
                records.append(audit.record(.signinLockedOut, targets, details: AuditDetails([
                    "scope": .string(scope), "until": .string(lockedUntil.rfc3339),
                ]), outcome: .failure))
            }
            try await tenant.appendAudit(records)
            return [account, address].compactMap { $0 }.max()
        }
        return until.map { .lockedOut(until: $0) } ?? .refused
    }
}

extension Tenant {
    /// What a sign-in decision reads about a person: their effective policy, whether they
    /// have a second factor, and when MFA first applied to them without one (the grace period's start).
    func signInPolicy(for userID: String) async throws -> (EffectivePolicy, hasFactor: Bool, graceStart: Timestamp) {
        let policy = try await effectivePolicy(for: userID)
        let hasFactor = try await factors(of: userID).contains(where: \.countsAsSecondFactor)
        let graceStart = policy.settings.mfaRequired && !hasFactor ? try await mfaGraceStart(for: userID) : .now()
        return (policy, hasFactor, graceStart)
    }
}
