import RampartAuthn
import RampartCore
import RampartStorage

/// Judges a new password (setup link, change, reset) by the person's effective policy and
/// NIST SP 800-63B: length by policy, the shipped blocklist, and the words of their context.
/// Returns the normalised password, which is what gets hashed.
struct NewPasswordRules: Sendable {
    let services: RampartServices

    func check(_ password: String, confirmation: String, for user: User, orgID: String) async throws -> String {
        let (policy, hasFactor) = try await services.database.read(org: orgID) { tenant in
            (try await tenant.effectivePolicy(for: user.id),
             try await tenant.factors(of: user.id).contains(where: \.countsAsSecondFactor))
        }
        let organizationName = try await services.organizations.find(idOrSlug: orgID)?.name ?? ""
        let context = PasswordContext(organizationName: organizationName, email: user.email, displayName: user.displayName)
        let onlyFactor = !hasFactor && !policy.settings.mfaRequired
        switch policy.settings.password.evaluate(password, context: context, passwordIsOnlyFactor: onlyFactor,
                                                  blocklist: .shipped) {
        case .refused(let refusals):
            throw RampartError.invalidField("password", refusals.map(\.description).joined(separator: "; "))
        case .acceptable(let normalized):
            guard password == confirmation else {
                throw RampartError.invalidField("password_confirm", "does not match the password")
            }
            return normalized
        }
    }
}
