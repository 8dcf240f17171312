import Hummingbird
import RampartCore
import RampartStorage

/// The Sign-in section of a user's page: ending their sessions, resetting their MFA and forcing
/// a password reset, each after a confirmation page, through the same calls and permissions as
/// `/api/v1/users/{id}/sessions|factors|password-reset` and `rampart user …`.
struct ConsoleUserAuthenticationController: ConsolePageController {
    let services: RampartServices

    /// The API's: whoever reads the directory sees the section, whoever manages it acts on it,
    /// and only on accounts within their reach (`RoleAuthority`, through `writeAccount`).
    static let read = Permission.readDirectory
    static let manage = Permission.manageDirectory

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("users/{id}/sessions/end", use: confirmEndAll)
        group.post("users/{id}/sessions/end", use: endAll)
        group.get("users/{id}/sessions/{sessionId}/end", use: confirmEnd)
        group.post("users/{id}/sessions/{sessionId}/end", use: end)
        group.get("users/{id}/mfa/reset", use: confirmResetMFA)
        group.post("users/{id}/mfa/reset", use: resetMFA)
        group.get("users/{id}/password-reset", use: confirmPasswordReset)
        group.post("users/{id}/password-reset", use: forcePasswordReset)
        group.post("users/{id}/invitation", use: invite)
    }

    /// What the user page shows in its Sign-in section, read in the page's transaction.
    struct Section: Sendable {
        let sessions: [UserSession]
        let factors: FactorsBody
        let hasPassword: Bool
        /// When the person's unused invitation expires (maybe already), if they have one.
        let invitation: Timestamp?

        static func read(_ user: User, in tenant: Tenant) async throws -> Section {
            Section(sessions: try await tenant.userSessions(of: user.id), factors: try await tenant.factorSummary(of: user.id),
                    hasPassword: try await tenant.passwordHash(for: user.id) != nil,
                    invitation: try await tenant.pendingInvitation(of: user.id))
        }

        /// The buttons show only to those whose change would be allowed.
        func values(_ user: User, _ context: RampartRequestContext) -> [String: Any] {
            let actor = context.principal
            let mayAct = (actor?.can(manage) ?? false) && RoleAuthority.mayChange(account: user.roles, actor: actor?.roles ?? [])
            return [
                "sessions": sessions.map { session -> [String: Any] in
                    ["id": session.id, "device": session.userAgent ?? "unknown", "ip": session.ip ?? "unknown",
                     "signedIn": ConsolePage.time(session.createdAt), "lastSeen": ConsolePage.time(session.lastSeenAt)]
                },
                "hasSessions": !sessions.isEmpty,
                "factors": factors.data.map { factor -> [String: Any] in
                    ["kind": factor.kind, "label": factor.label, "state": factor.state,
                     "createdAt": ConsolePage.time(factor.createdAt), "lastUsedAt": ConsolePage.time(factor.lastUsedAt)]
                },
                "hasFactors": !factors.data.isEmpty,
                "recoveryCodesLeft": factors.unusedRecoveryCodes,
                "hasMFA": !factors.data.isEmpty || factors.unusedRecoveryCodes > 0,
                "canManageSignIn": mayAct,
                "canForceReset": mayAct && user.status == .active,
                "needsPassword": !hasPassword,
                "canInvite": mayAct && user.status == .active && !hasPassword,
                "invitationState": invitation.map { $0 < .now() ? "Invitation expired \(ConsolePage.time($0))."
                    : "Invited; the link works until \(ConsolePage.time($0))." } ?? "Not invited yet.",
            ]
        }
    }

    /// A new invitation link, shown once on its own page (and mailed when asked and possible).
    @Sendable func invite(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context)
        let (publicURL, canSend, keys) = (services.configuration.publicURL, services.configuration.mail != nil, services.keys)
        let send = form["send"] == "on"
        let (user, invitation) = try await writeAccount(request, context, Self.manage, account: id) { tenant, audit in
            (try await tenant.requireUser(id), try await tenant.inviteUser(id, days: 7, send: send, publicURL: publicURL,
                                                                           canSend: canSend, keys: keys, by: audit))
        }
        if invitation.mailed, let orgID = context.principal?.orgID { services.mailWakeups.wake(orgID) }
        var response = ConsoleRenderer.page("invitation", ConsolePage.values(context, title: "Invitation for \(user.email)",
                                                                             active: "users", extra: [
            "user": ConsolePage.user(user), "url": invitation.url, "expiresAt": ConsolePage.time(invitation.expiresAt),
            "reissued": invitation.reissued, "mailed": invitation.mailed,
        ]))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func confirmEndAll(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let user = try await userToChange(context)
        return ConsoleConfirmation(
            question: "End every session of \(user.email)?",
            consequence: "They are signed out on every device, the console included, and must sign in again.",
            action: "/console/users/\(user.id)/sessions/end", button: "End all sessions", cancel: "/console/users/\(user.id)"
        ).page(context, active: "users")
    }

    @Sendable func endAll(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        _ = try await writeAccount(request, context, Self.manage, account: id) { try await $0.endSessions(of: id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.sessionsEnded.after("/console/users/\(id)"))
    }

    @Sendable func confirmEnd(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let sessionID = try context.id("sessionId")
        let user = try await userToChange(context)
        return ConsoleConfirmation(
            question: "End this session of \(user.email)?",
            consequence: "They are signed out on that device and must sign in again there; their other sessions go on.",
            action: "/console/users/\(user.id)/sessions/\(sessionID)/end", button: "End session",
            cancel: "/console/users/\(user.id)"
        ).page(context, active: "users")
    }

    @Sendable func end(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let sessionID = try context.id("sessionId")
        _ = try await form(request, context)
        _ = try await writeAccount(request, context, Self.manage, account: id) {
            try await $0.endSessions(of: id, only: sessionID, by: $1)
        }
        return ConsoleRenderer.redirect(ConsoleNotice.sessionEnded.after("/console/users/\(id)"))
    }

    @Sendable func confirmResetMFA(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let user = try await userToChange(context)
        return ConsoleConfirmation(
            question: "Reset the MFA of \(user.email)?",
            consequence: "Their authenticator apps and recovery codes stop working; they enrol a new factor at their next sign-in.",
            action: "/console/users/\(user.id)/mfa/reset", button: "Reset MFA", cancel: "/console/users/\(user.id)"
        ).page(context, active: "users")
    }

    @Sendable func resetMFA(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        _ = try await writeAccount(request, context, Self.manage, account: id) { try await $0.resetMFA(of: id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.mfaReset.after("/console/users/\(id)"))
    }

    @Sendable func confirmPasswordReset(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let user = try await userToChange(context)
        return ConsoleConfirmation(
            question: "Force a password reset for \(user.email)?",
            consequence: "Their password stops working at once and they are signed out everywhere. The next page shows a "
                + "one-time reset link, once, to give them; it is valid for 30 minutes.",
            action: "/console/users/\(user.id)/password-reset", button: "Force password reset",
            cancel: "/console/users/\(user.id)"
        ).page(context, active: "users")
    }

    /// The link is on this answer only (not behind a redirect, and not cached): Rampart keeps its hash.
    @Sendable func forcePasswordReset(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context)
        let publicURL = services.configuration.publicURL
        let (user, reset) = try await writeAccount(request, context, Self.manage, account: id) { tenant, audit in
            (try await tenant.requireUser(id), try await tenant.forcePasswordReset(of: id, publicURL: publicURL, by: audit))
        }
        var response = ConsoleRenderer.page("reset-link", ConsolePage.values(context, title: "Reset link for \(user.email)",
                                                                             active: "users", extra: [
            "user": ConsolePage.user(user), "url": reset.url, "expiresAt": ConsolePage.time(reset.expiresAt),
            "sessionsEnded": reset.sessionsEnded,
        ]))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The user a confirmation page is about, checked as the change itself will be, so that
    /// nobody is asked to confirm what they will then be refused.
    private func userToChange(_ context: RampartRequestContext) async throws -> User {
        let id = try context.id()
        let actor = try context.requirePrincipal().roles
        let user = try await read(context, Self.manage) { try await $0.requireUser(id) }
        guard RoleAuthority.mayChange(account: user.roles, actor: actor) else { throw RoleAuthority.outOfReach(user.roles, actor: actor) }
        return user
    }
}
