import RampartCore

/// An OCSF class (Open Cybersecurity Schema Framework 1.3.0) and its category.
public struct OCSFClass: Sendable, Equatable {
    public let uid: Int
    public let name: String
    public let categoryUID: Int
    public let categoryName: String

    static func identityAndAccess(_ uid: Int, _ name: String) -> OCSFClass {
        OCSFClass(uid: uid, name: name, categoryUID: 3, categoryName: "Identity & Access Management")
    }

    static let accountChange = identityAndAccess(3001, "Account Change")
    static let authentication = identityAndAccess(3002, "Authentication")
    static let entityManagement = identityAndAccess(3004, "Entity Management")
    static let userAccessManagement = identityAndAccess(3005, "User Access Management")
    static let groupManagement = identityAndAccess(3006, "Group Management")
    /// What happens to content inside products (`product.*` events that products report).
    static let webResourcesActivity = OCSFClass(uid: 6001, name: "Web Resources Activity", categoryUID: 6,
                                                categoryName: "Application Activity")
    static let base = OCSFClass(uid: 0, name: "Base Event", categoryUID: 0, categoryName: "Uncategorized")
}

/// Which OCSF class and activity each of Rampart's actions is: the one table of the mapping
/// (docs/events.md shows it). Actions not listed (products' own events) are Entity Management
/// when their verb says create, update or delete, and Base Event otherwise.
public enum OCSFMapping {
    public typealias Activity = (id: Int, name: String)

    static let create: Activity = (1, "Create"), update: Activity = (3, "Update"), delete: Activity = (4, "Delete")
    static let other: Activity = (99, "Other")

    public static let table: [String: (OCSFClass, Activity)] = {
        var table: [String: (OCSFClass, Activity)] = [:]
        func add(_ ocsfClass: OCSFClass, _ activity: Activity, _ actions: [String]) {
            for action in actions { table[action] = (ocsfClass, activity) }
        }
        add(.authentication, (1, "Logon"), ["auth.signin_succeeded", "auth.signin_failed", "auth.locked_out",
                                             "oauth.authorized", "oauth.authorization_denied", "sso.signin_failed"])
        add(.authentication, (2, "Logoff"), ["auth.signout", "auth.session_ended", "auth.sessions_ended",
                                              "oauth.backchannel_logout_delivered", "oauth.backchannel_logout_failed"])
        add(.authentication, (3, "Authentication Ticket"), ["oauth.tokens_issued"])
        add(.authentication, other, ["auth.session_elevated", "oauth.grant_revoked", "oauth.replay_detected", "sso.test_completed"])
        add(.accountChange, create, ["user.created", "scim.user_created", "user.invited"])
        add(.accountChange, (2, "Enable"), ["user.reactivated", "scim.user_reactivated"])
        add(.accountChange, (3, "Password Change"), ["auth.password_set", "auth.password_changed", "auth.password_hash_imported"])
        add(.accountChange, (4, "Password Reset"),
            ["auth.password_reset", "auth.password_reset_forced", "auth.password_reset_requested"])
        add(.accountChange, (5, "Disable"), ["user.deactivated", "scim.user_deactivated"])
        add(.accountChange, (6, "Delete"), ["user.deleted", "scim.user_deleted", "user.erased"])
        add(.accountChange, (7, "Attach Policy"), ["auth_policy.assigned"])
        add(.accountChange, (10, "MFA Factor Enable"), ["mfa.factor_enrolled"])
        add(.accountChange, (11, "MFA Factor Disable"), ["mfa.reset"])
        add(.accountChange, other, ["user.updated", "scim.user_updated", "mfa.recovery_codes_generated", "sso.identity_linked"])
        add(.userAccessManagement, (1, "Assign Privileges"), ["role.assigned", "product.access_granted"])
        add(.userAccessManagement, (2, "Revoke Privileges"), ["role.revoked", "product.access_revoked"])
        add(.groupManagement, (3, "Add User"), ["group.member_added"])
        add(.groupManagement, (4, "Remove User"), ["group.member_removed"])
        add(.groupManagement, (5, "Delete"), ["group.deleted", "scim.group_deleted"])
        add(.groupManagement, (6, "Create"), ["group.created", "scim.group_created"])
        add(.groupManagement, other, ["group.updated", "scim.group_updated", "scim.group_members_changed"])
        add(.entityManagement, update, ["keys.kek_rotated", "oauth.signing_key_rotated", "oauth_client.secret_rotated",
                                        "scim.settings_updated", "product.permissions_changed", "product.settings_changed"])
        // A domain claim is an entity of the organisation; its verification, passed or failed, updates it.
        add(.entityManagement, create, ["domain.claimed"])
        add(.entityManagement, update, ["domain.verified", "domain.verification_failed"])
        // The audit log is an entity of the organisation: its retention changes, a purge deletes from it.
        add(.entityManagement, update, ["audit.retention_changed"])
        add(.entityManagement, delete, ["audit.purged"])
        // An export job is an entity of the organisation: requested, then deleted (or expired).
        add(.entityManagement, create, ["audit.export_requested"])
        // A dead letter is an entity of the stream: made when a batch is given up, gone when replayed or discarded.
        add(.entityManagement, create, ["log_stream.dead_lettered"])
        add(.entityManagement, delete, ["log_stream.dead_letter_replayed", "log_stream.dead_letter_discarded"])
        add(.webResourcesActivity, create, ["product.content_created"])
        add(.webResourcesActivity, (2, "Read"), ["product.content_viewed"])
        add(.webResourcesActivity, update, ["product.content_edited"])
        add(.webResourcesActivity, delete, ["product.content_deleted"])
        add(.webResourcesActivity, (5, "Search"), ["product.searched"])
        add(.webResourcesActivity, (7, "Export"), ["product.content_exported"])
        add(.webResourcesActivity, (8, "Share"), ["product.content_shared", "product.content_shared_publicly"])
        return table
    }()

    public static func classify(_ action: String) -> (OCSFClass, Activity) {
        if let mapped = table[action] { return mapped }
        let verb = action.split(separator: ".").last ?? ""
        if verb.hasSuffix("created") { return (.entityManagement, create) }
        if verb.hasSuffix("updated") { return (.entityManagement, update) }
        if verb.hasSuffix("deleted") || verb.hasSuffix("revoked") { return (.entityManagement, delete) }
        return (.base, other)
    }
}

/// An audit event as an OCSF 1.3.0 event of its action's class (`OCSFMapping`), written
/// straight to JSON bytes. The class's subject is taken from the targets (`user`, `group`, or
/// `entity`); what OCSF has no place for (targets and details as Rampart writes them) is in
/// `unmapped`, so nothing of the event is lost.
public enum OCSFEvent {
    public static let version = "1.3.0"

    public static func write(_ event: AuditEvent, orgID: String, to out: inout [UInt8]) {
        let (ocsfClass, activity) = OCSFMapping.classify(event.action)
        let failed = event.outcome == AuditOutcome.failure.rawValue
        var json = JSONObjectBytes(into: out)
        json.int("activity_id", activity.id)
        json.string("activity_name", activity.name)
        json.object("actor") { actor in
            actor.object("user") { user in
                user.string("name", event.actor.name)
                user.string("type", event.actor.type.rawValue)
                user.string("uid", event.actor.id)
            }
        }
        json.string("category_name", ocsfClass.categoryName)
        json.int("category_uid", ocsfClass.categoryUID)
        json.string("class_name", ocsfClass.name)
        json.int("class_uid", ocsfClass.uid)
        var targets: [JSONValue] = []
        if case .array(let parsed)? = JSONValue.parse(event.targetsJSON) { targets = parsed }
        subject(of: ocsfClass, targets: targets, into: &json)
        if let userAgent = event.actor.userAgent { json.object("http_request") { $0.string("user_agent", userAgent) } }
        json.string("message", event.action)
        json.object("metadata") { metadata in
            metadata.string("correlation_uid", event.requestID)
            metadata.string("event_code", event.action)
            metadata.string("log_name", "audit")
            metadata.object("product") { product in
                product.string("name", "Rampart")
                product.string("vendor_name", "Rampart")
            }
            metadata.int("sequence", Int(event.sequence))
            metadata.string("tenant_uid", orgID)
            metadata.string("uid", event.id)
            metadata.string("version", version)
        }
        json.string("severity", failed ? "Medium" : "Informational")
        json.int("severity_id", failed ? 3 : 1)
        if let ip = event.actor.ip { json.object("src_endpoint") { $0.string("ip", ip) } }
        json.string("status", failed ? "Failure" : "Success")
        json.int("status_id", failed ? 2 : 1)
        json.int("time", Int(event.occurredAt.microseconds / 1000))
        json.string("type_name", "\(ocsfClass.name): \(activity.name)")
        json.int("type_uid", ocsfClass.uid * 100 + activity.id)
        json.object("unmapped") { unmapped in
            unmapped.raw("details", event.detailsJSON)
            unmapped.raw("targets", event.targetsJSON)
        }
        out = json.finish()
    }

    /// The class's subject: the first target of the type it is about.
    private static func subject(of ocsfClass: OCSFClass, targets: [JSONValue], into json: inout JSONObjectBytes) {
        func first(_ type: String?) -> [String: JSONValue]? {
            for case .object(let target) in targets where type == nil || target["type"] == .string(type!) { return target }
            return nil
        }
        func text(_ value: JSONValue?) -> String? { if case .string(let s)? = value { s } else { nil } }
        switch ocsfClass.uid {
        case 3001, 3002, 3005:
            guard let user = first("user") else { return }
            json.object("user") { $0.string("name", text(user["name"])); $0.string("uid", text(user["id"])) }
        case 3006:
            guard let group = first("group") else { return }
            json.object("group") { $0.string("name", text(group["name"])); $0.string("uid", text(group["id"])) }
            if let user = first("user") {
                json.object("user") { $0.string("name", text(user["name"])); $0.string("uid", text(user["id"])) }
            }
        case 3004:
            guard let entity = first(nil) else { return }
            json.object("entity") { entity_ in
                entity_.string("name", text(entity["name"]))
                entity_.string("type", text(entity["type"]))
                entity_.string("uid", text(entity["id"]))
            }
        case 6001:
            // The product's own targets; the source product, which ingestion adds last, is in `unmapped`.
            let resources = targets.dropLast().compactMap { target -> [String: JSONValue]? in
                if case .object(let object) = target { object } else { nil }
            }
            guard !resources.isEmpty else { return }
            json.array("web_resources", resources) { resource, target in
                resource.string("name", text(target["name"]))
                resource.string("type", text(target["type"]))
                resource.string("uid", text(target["id"]))
            }
        default: return
        }
    }
}

/// Writes one JSON object's members to bytes, in the order given; a nil string is left out.
struct JSONObjectBytes {
    private var out: [UInt8]
    private var first = true

    init(into out: [UInt8]) {
        self.out = out
        self.out.append(UInt8(ascii: "{"))
    }

    mutating func finish() -> [UInt8] {
        out.append(UInt8(ascii: "}"))
        return out
    }

    private mutating func key(_ key: String) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        JSONValue.writeString(key, to: &out)
        out.append(UInt8(ascii: ":"))
    }

    mutating func string(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONValue.writeString(value, .foundation, to: &out)
    }

    mutating func int(_ name: String, _ value: Int) {
        key(name)
        out += String(value).utf8
    }

    /// Stored JSON text (already valid JSON), copied as it is.
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        out += json.utf8
    }

    /// An array of objects, one for each element.
    mutating func array<Element>(_ name: String, _ elements: [Element], _ members: (inout JSONObjectBytes, Element) -> Void) {
        key(name)
        out.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            var inner = JSONObjectBytes(into: [])
            members(&inner, element)
            out += inner.finish()
        }
        out.append(UInt8(ascii: "]"))
    }

    mutating func object(_ name: String, _ members: (inout JSONObjectBytes) -> Void) {
        key(name)
        var inner = JSONObjectBytes(into: [])
        members(&inner)
        out += inner.finish()
    }
}
