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
            "canReadTokens": principal?.can(.readTokens) ?? false,
            "canManageTokens": principal?.can(.manageTokens) ?? false,
            "canReadAudit": principal?.can(.readAuditLog) ?? false,
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
         "createdAt": time(u.createdAt), "lastActiveAt": time(u.lastActiveAt)]
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

    static func event(_ e: AuditEvent) -> [String: Any] {
        var targets: [String] = []
        if case .array(let items)? = JSONValue.parse(e.targetsJSON) {
            for case .object(let t) in items {
                if case .string(let type)? = t["type"] {
                    var label = type
                    if case .string(let name)? = t["name"] { label += " " + name }
                    targets.append(label)
                }
            }
        }
        return ["sequence": e.sequence, "time": time(e.occurredAt), "action": e.action, "outcome": e.outcome,
                "failed": e.outcome != "success", "actor": e.actor.name ?? e.actor.type.rawValue,
                "actorType": e.actor.type.rawValue, "ip": e.actor.ip ?? "", "targets": targets.joined(separator: ", "),
                "details": e.detailsJSON == "{}" ? "" : e.detailsJSON, "requestId": e.requestID ?? ""]
    }
}
