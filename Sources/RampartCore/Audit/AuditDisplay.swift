/// How people read an event's actor and targets, the same in the console and the CLI.
extension AuditActor {
    /// The actor's kind comes first and a token's name is quoted, so that a token named
    /// `grace.allen@acme.test` or `rampart` never reads as that person or as the CLI.
    public var label: String {
        if erased { return "erased user" }
        return switch type {
        case .user: "user \(name ?? id ?? "unknown")"
        case .apiToken: "API token ‘\(name ?? id ?? "unknown")’"
        case .scimToken: "SCIM token ‘\(name ?? id ?? "unknown")’"
        case .oauthClient: "OAuth client ‘\(name ?? id ?? "unknown")’"
        case .system: name == AuditActor.system.name ? "system (CLI)" : "system"
        }
    }
}

extension AuditTarget {
    /// "user grace.allen@acme.test", "API token ‘deploy-bot’": kind first, as for actors.
    public var label: String {
        if erased { return "erased user" }
        let shown = name ?? id
        switch type {
        case "api_token": return "API token ‘\(shown)’"
        case "scim_token": return "SCIM token ‘\(shown)’"
        case "oauth_client": return "OAuth client ‘\(shown)’"
        default: return "\(type) \(shown)"
        }
    }

    /// The targets of a stored event, in order; a malformed list reads as none.
    public static func parse(_ json: String) -> [AuditTarget] {
        guard case .array(let items)? = JSONValue.parse(json) else { return [] }
        return items.compactMap { item in
            guard case .object(let fields) = item, case .string(let type)? = fields["type"],
                  case .string(let id)? = fields["id"] else { return nil }
            var target = AuditTarget(type: type, id: id, name: nil)
            if case .string(let name)? = fields["name"] { target.name = name }
            if case .bool(true)? = fields["erased"] { target.erased = true }
            return target
        }
    }
}

extension JSONValue {
    /// A value as a person reads it: strings bare, everything else as compact JSON.
    public var plainText: String {
        if case .string(let text) = self { return text }
        return canonical
    }

    /// An object's fields as (name, value) pairs sorted by name; anything else has none.
    public var labelledFields: [(name: String, value: String)] {
        guard case .object(let fields) = self else { return [] }
        return fields.keys.sorted().map { ($0, fields[$0]!.plainText) }
    }
}
