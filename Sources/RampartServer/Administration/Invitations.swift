import RampartCore
import RampartStorage

/// An invitation as the API, the console and the CLI show it: the link appears only here.
public struct InvitationBody: Encodable, Sendable {
    public let url: String
    public let token: String
    public let expiresAt: Timestamp
    /// An earlier, unused invitation stopped working.
    public let reissued: Bool
    /// The link was also queued as mail to the person.
    public let mailed: Bool
}

extension Tenant {
    /// Invites a person to set their password, queuing the link as mail when `send` is set
    /// (`canSend`: some server of this store sends mail).
    public func inviteUser(_ userID: String, days: Int, send: Bool, publicURL: String, canSend: Bool,
                           keys: KeyService, by audit: AuditContext) async throws -> InvitationBody {
        if send && !canSend {
            throw RampartError.invalidField("send", "cannot be true: this server sends no mail (see --sendmail-command); hand over the link instead")
        }
        let invitation = try await invite(userID, validForDays: days, by: audit)
        let user = try await requireUser(userID)
        let organization = try await organization()
        let url = PublicLink.to("/console/setup?token=\(invitation.secret)", at: publicURL)
        if send {
            try await queueMail(to: user.email, subject: "You are invited to \(organization.name)", body: """
                Hello \(user.displayName),

                You have an account at \(organization.name) for \(user.email). Open this link to choose your
                password; it works once, until \(invitation.expiresAt.rfc3339):

                \(url)

                If you did not expect this, ignore this message.
                """, keys: keys)
        }
        return InvitationBody(url: url, token: invitation.secret, expiresAt: invitation.expiresAt,
                              reissued: invitation.reissued, mailed: send)
    }
}
