import Hummingbird
import RampartCore

/// Deactivating, removing and revoking ask first. The console has no JavaScript, so the
/// button of such a change leads (GET, changing nothing) to a page that says what will
/// happen, whose form posts the change to the route that was always there.
struct ConsoleConfirmation {
    var question: String
    var consequence: String
    var action: String
    var button: String
    var cancel: String

    func page(_ context: RampartRequestContext, active: String) -> Response {
        ConsoleRenderer.page("confirm", ConsolePage.values(context, title: question, active: active, extra: [
            "question": question, "consequence": consequence, "action": action, "button": button, "cancel": cancel,
        ]))
    }
}

/// What the page after a change says about it, at the top where the eye is. The redirect
/// names it by a fixed code (`?done=deactivated`), so only these texts can ever appear,
/// never text taken from the URL.
enum ConsoleNotice: String {
    case deactivated
    case reactivated
    case memberRemoved = "member-removed"
    case accessRevoked = "access-revoked"
    case tokenRevoked = "token-revoked"
    case roleGiven = "role-given"
    case roleTaken = "role-taken"
    case deleted
    case updated
    case userCreated = "user-created"
    case groupCreated = "group-created"
    case productCreated = "product-created"
    case policySaved = "policy-saved"
    case policyAssigned = "policy-assigned"
    case policyUnassigned = "policy-unassigned"
    case sessionEnded = "session-ended"
    case sessionsEnded = "sessions-ended"
    case mfaReset = "mfa-reset"
    case logStreamCreated = "log-stream-created"
    case deadLetterReplayed = "dead-letter-replayed"
    case deadLetterDiscarded = "dead-letter-discarded"
    case signingKeyRotated = "signing-key-rotated"
    case domainClaimed = "domain-claimed"
    case domainVerified = "domain-verified"
    case retentionSaved = "retention-saved"
    case userErased = "user-erased"
    case filterSaved = "filter-saved"
    case filterDeleted = "filter-deleted"
    case exportDeleted = "export-deleted"

    var text: String {
        switch self {
        case .deactivated: "User deactivated: their sessions ended and the API tokens they created were revoked."
        case .reactivated: "User reactivated: they can sign in again."
        case .memberRemoved: "Member removed from the group."
        case .accessRevoked: "Access revoked: the group's members can no longer use this product through it."
        case .tokenRevoked: "API token revoked: the next request that presents it is refused."
        case .roleGiven: "Role given."
        case .roleTaken: "Role taken away."
        case .deleted: "Deleted."
        case .updated: "Changes saved."
        case .userCreated: "User created. They have no password yet: create an invitation link for them below."
        case .groupCreated: "Group created. Add its members below."
        case .productCreated: "Product created. Give groups access to it below."
        case .policySaved: "Policy saved. Sessions its rules refuse have ended; the others follow its lifetime and idle timeout."
        case .policyAssigned: "Policy assigned."
        case .policyUnassigned: "Assignment removed."
        case .sessionEnded: "Session ended: they are signed out on that device."
        case .sessionsEnded: "Sessions ended: they are signed out everywhere."
        case .logStreamCreated: "Log stream added. It sends within a few seconds; send a test record to check the receiver now."
        case .deadLetterReplayed: "Dead letter replayed: the receiver took every one of its events."
        case .deadLetterDiscarded: "Dead letter discarded: its events stay in the audit log but are not sent to this stream."
        case .signingKeyRotated: "Signing key rotated: new tokens are signed with the new key; the previous key stays in the JWKS for a day."
        case .domainClaimed: "Domain claimed. Publish one of the proofs below, then verify it."
        case .domainVerified: "Domain verified: users with an email in it are this organisation's managed accounts."
        case .retentionSaved: "Retention saved. Events past it are purged within the hour, unless a legal hold is in place."
        case .userErased: "User erased: deleted, and their personal data in the audit log can no longer be read. Their events read as “erased user”."
        case .filterSaved: "View saved: it is listed under Saved filters for everyone who reads the log."
        case .filterDeleted: "Saved filter deleted."
        case .exportDeleted: "Export deleted, with its file."
        case .mfaReset: "MFA reset: their factors and recovery codes were removed; they enrol again at their next sign-in."
        }
    }

    /// The redirect target that shows this notice.
    func after(_ path: String) -> String { "\(path)?done=\(rawValue)" }

    /// The template values of the notice a request names, if any.
    static func values(_ request: Request) -> [String: Any] {
        guard let notice = request.uri.queryParameters.get("done").flatMap(ConsoleNotice.init(rawValue:)) else {
            return ["hasNotice": false]
        }
        return ["hasNotice": true, "notice": notice.text]
    }
}
