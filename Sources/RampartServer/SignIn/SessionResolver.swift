import Hummingbird
import RampartCore
import RampartStorage

/// Finds the signed-in person behind the session cookie, for the console and for My account.
/// Reads are read-only; the last-seen time, which the idle timeout counts from, is written at
/// most once a minute per session, so browsing does not turn every page into a write.
struct SessionResolver: Sendable {
    let services: RampartServices
    static let touchInterval: Double = 60

    func resolve(_ request: Request) async throws -> (secret: SecretToken, signedIn: ConsoleSession)? {
        guard let cookie = ConsoleCookie.value(ConsoleCookie.session, in: request),
              let secret = SecretToken(parsing: cookie, as: .session),
              let signedIn = try await services.database.read(org: secret.orgID, { try await $0.signedInSession(secret) })
        else { return nil }
        let now = Timestamp.now()
        if signedIn.session.lastSeenAt.adding(seconds: Self.touchInterval) < now {
            try await services.database.write(org: secret.orgID) { try await $0.touchUserSession(secret, at: now) }
        }
        return (secret, signedIn)
    }

    /// Where a session that still waits for a step must go: the second factor if the person
    /// has one, else the enrolment the policy requires.
    func pendingStep(_ signedIn: ConsoleSession, orgID: String, slug: String) async throws -> String {
        let hasFactor = try await services.database.read(org: orgID) { tenant in
            try await tenant.factors(of: signedIn.user.id).contains(where: \.countsAsSecondFactor)
        }
        return hasFactor ? "/o/\(slug)/signin/mfa" : "/o/\(slug)/account/mfa/enrol"
    }

    /// Where a fully signed-in person lands: admins in the console, everyone else in My account.
    static func landing(for user: User, slug: String) -> String {
        user.roles.isEmpty ? "/o/\(slug)/account" : "/console"
    }
}
