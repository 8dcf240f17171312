import Hummingbird
import RampartCore
import RampartStorage

/// What every signed-in page shows: who is signed in, the navigation their roles allow,
/// the CSRF token for forms, and a notice or error from the last action.
struct ConsolePage {
    static func values(_ context: RampartRequestContext, title: String, active: String,
                       extra: [String: Any] = [:]) -> [String: Any] {
        let principal = context.principal
        var values: [String: Any] = [
            "title": title,
            "signedIn": context.consoleSession != nil,
            "userEmail": context.consoleSession?.user.email ?? "",
            "roles": context.consoleSession?.user.roles.map(\.rawValue).joined(separator: ", ") ?? "",
            "csrf": context.consoleSession?.csrfToken ?? "",
            "canManageDirectory": principal?.can(.manageDirectory) ?? false,
            "canEraseUsers": principal?.can(.eraseUsers) ?? false,
            "canReadTokens": principal?.can(.readTokens) ?? false,
            "canManageTokens": principal?.can(.manageTokens) ?? false,
            "canReadAudit": principal?.can(.readAuditLog) ?? false,
            "canReadPolicies": principal?.can(.readAuthenticationPolicies) ?? false,
            "canManagePolicies": principal?.can(.manageAuthenticationPolicies) ?? false,
            "canManageOAuthClients": principal?.can(.manageOAuthClients) ?? false,
            "canManageDomains": principal?.can(.manageDomains) ?? false,
            "canManageAuditRetention": principal?.can(.manageAuditRetention) ?? false,
            "nav_\(active)": true,
        ]
        for (key, value) in extra { values[key] = value }
        return values
    }

    static func time(_ t: Timestamp?) -> String {
        guard let t else { return "never" }
        return String(t.rfc3339.prefix(19)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    static func user(_ u: User) -> [String: Any] {
        ["id": u.id, "email": u.email, "displayName": u.displayName, "status": u.status.rawValue,
         "active": u.status == .active, "roles": u.roles.map(\.rawValue).joined(separator: ", "),
         "createdAt": time(u.createdAt), "lastActiveAt": time(u.lastActiveAt), "managed": u.managed]
    }

    static func group(_ g: Group) -> [String: Any] {
        ["id": g.id, "name": g.name, "description": g.description, "memberCount": g.memberCount,
         "createdAt": time(g.createdAt)]
    }

    static func product(_ p: Product) -> [String: Any] {
        ["id": p.id, "name": p.name, "kind": p.kind.rawValue, "url": p.url, "createdAt": time(p.createdAt)]
    }

    static func token(_ t: APIToken) -> [String: Any] {
        ["id": t.id, "name": t.name, "role": t.role.rawValue, "createdAt": time(t.createdAt),
         "expiresAt": t.expiresAt.map { time($0) } ?? "never", "lastUsedAt": time(t.lastUsedAt),
         "revoked": t.revokedAt != nil, "revokedAt": time(t.revokedAt)]
    }

    /// A SCIM token's or an ingestion key's row: the same columns on both pages.
    static func credential(id: String, name: String, createdAt: Timestamp, lastUsedAt: Timestamp?,
                           revokedAt: Timestamp?) -> [String: Any] {
        ["id": id, "name": name, "createdAt": time(createdAt), "lastUsedAt": time(lastUsedAt),
         "revoked": revokedAt != nil, "revokedAt": time(revokedAt)]
    }

    static func event(_ e: AuditEvent) -> [String: Any] {
        let targets = AuditTarget.parse(e.targetsJSON).map { target -> [String: Any] in
            let link = consoleLink(type: target.type, id: target.id)
            return ["label": target.label, "link": link ?? "", "hasLink": link != nil]
        }
        let details = JSONValue.parse(e.detailsJSON)?.labelledFields.map { ["name": $0.name, "value": $0.value] } ?? []
        let actorLink = e.actor.type == .user ? e.actor.id.flatMap { consoleLink(type: "user", id: $0) } : nil
        return ["sequence": e.sequence, "time": time(e.occurredAt), "action": e.action, "outcome": e.outcome,
                "failed": e.outcome != "success", "actor": e.actor.label, "actorLink": actorLink ?? "",
                "hasActorLink": actorLink != nil, "actorType": e.actor.type.rawValue, "ip": e.actor.ip ?? "",
                "targets": targets, "details": details, "hasDetails": !details.isEmpty, "requestId": e.requestID ?? ""]
    }

    /// The console page of something an event names, when it has one.
    static func consoleLink(type: String, id: String) -> String? {
        guard Identifier.canonical(id) != nil else { return nil }
        switch type {
        case "user": return "/console/users/\(id)"
        case "group": return "/console/groups/\(id)"
        case "product": return "/console/products/\(id)"
        case "oauth_client": return "/console/oauth-clients/\(id)"
        default: return nil
        }
    }
}
