/// A named view of the audit log that an organisation's admins and auditors share: the
/// search words and filters of `GET /api/v1/audit-events`, kept as typed so that opening it
/// asks the same question again (`since`/`until` are absolute times).
public struct AuditSavedFilter: Codable, Sendable, Equatable {
    public static let maxNameLength = 100
    /// How many an organisation keeps: a list people pick from, not a store of queries.
    public static let maxPerOrganization = 200

    public var id: String
    public var name: String
    public var view: View
    public var createdAt: Timestamp

    public init(id: String, name: String, view: View, createdAt: Timestamp) {
        self.id = id; self.name = name; self.view = view; self.createdAt = createdAt
    }

    /// What the filter shows; empty fields are left out.
    public struct View: Codable, Sendable, Equatable {
        public var q: String?
        public var action: String?
        public var actor: String?
        public var target: String?
        public var since: Timestamp?
        public var until: Timestamp?

        public init(q: String? = nil, action: String? = nil, actor: String? = nil, target: String? = nil,
                    since: Timestamp? = nil, until: Timestamp? = nil) {
            self.q = q; self.action = action; self.actor = actor; self.target = target; self.since = since; self.until = until
        }

        /// The view checked as the list's query parameters are: trimmed, empty as absent, each
        /// at most 200 characters, the words within `AuditSearchText`'s bounds, and at least one set.
        public func validated() throws -> View {
            func field(_ value: String?, _ name: String) throws -> String? {
                guard let value else { return nil }
                let text = try Validate.text(value, field: name, max: 200)
                return text.isEmpty ? nil : text
            }
            var view = View(q: try field(q, "q"), action: try field(action, "action"), actor: try field(actor, "actor"),
                            target: try field(target, "target"), since: since, until: until)
            if let q = view.q { _ = try AuditSearchText.field(q) }
            if let since, let until, until <= since {
                throw RampartError.invalidField("until", "must be after since")
            }
            guard view != View() else {
                throw RampartError(.invalidField, "A saved filter needs at least one of q, action, actor, target, since, until.",
                                   field: "q")
            }
            view.q = view.q.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
            return view
        }

        /// The names of the fields whose values differ in `other`, in the order of `parameters`.
        public func fieldsChanged(in other: View) -> [String] {
            [("q", q != other.q), ("action", action != other.action), ("actor", actor != other.actor),
             ("target", target != other.target), ("since", since != other.since), ("until", until != other.until)]
                .filter(\.1).map(\.0)
        }

        /// The view as `name=value` query parameters, in a fixed order.
        public var parameters: [(name: String, value: String)] {
            [("q", q), ("action", action), ("actor", actor), ("target", target), ("since", since?.rfc3339),
             ("until", until?.rfc3339)].compactMap { name, value in value.map { (name, $0) } }
        }
    }

    /// A change to a saved filter (`PATCH /audit-filters/{id}`): a new name, and for each of
    /// the view's fields either nothing (kept as it is) or a new value, `nil` clearing it.
    public struct Change: Sendable, Equatable {
        public var name: String?
        public var q: String??
        public var action: String??
        public var actor: String??
        public var target: String??
        public var since: Timestamp??
        public var until: Timestamp??

        public init(name: String? = nil, q: String?? = nil, action: String?? = nil, actor: String?? = nil,
                    target: String?? = nil, since: Timestamp?? = nil, until: Timestamp?? = nil) {
            self.name = name; self.q = q; self.action = action; self.actor = actor; self.target = target
            self.since = since; self.until = until
        }

        /// The view with this change's fields in place of its own, not yet validated.
        public func applied(to view: View) -> View {
            View(q: q ?? view.q, action: action ?? view.action, actor: actor ?? view.actor, target: target ?? view.target,
                 since: since ?? view.since, until: until ?? view.until)
        }
    }

    private enum CodingKeys: String, CodingKey { case id, name, q, action, actor, target, since, until, createdAt }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        view = View(q: try c.decodeIfPresent(String.self, forKey: .q), action: try c.decodeIfPresent(String.self, forKey: .action),
                    actor: try c.decodeIfPresent(String.self, forKey: .actor),
                    target: try c.decodeIfPresent(String.self, forKey: .target),
                    since: try c.decodeIfPresent(Timestamp.self, forKey: .since),
                    until: try c.decodeIfPresent(Timestamp.self, forKey: .until))
        createdAt = try c.decode(Timestamp.self, forKey: .createdAt)
    }

    /// Flat, as the API shows it: `{"id", "name", "q", "action", …, "createdAt"}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(view.q, forKey: .q)
        try c.encode(view.action, forKey: .action)
        try c.encode(view.actor, forKey: .actor)
        try c.encode(view.target, forKey: .target)
        try c.encode(view.since, forKey: .since)
        try c.encode(view.until, forKey: .until)
        try c.encode(createdAt, forKey: .createdAt)
    }
}
