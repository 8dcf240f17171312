/// A bearer credential an identity provider uses to provision one organisation over SCIM.
public struct SCIMToken: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Timestamp
    public var lastUsedAt: Timestamp?
    public var revokedAt: Timestamp?

    public init(id: String, name: String, createdAt: Timestamp, lastUsedAt: Timestamp?, revokedAt: Timestamp?) {
        self.id = id; self.name = name; self.createdAt = createdAt; self.lastUsedAt = lastUsedAt; self.revokedAt = revokedAt
    }

    /// The audit actor of every change made with this token.
    public var actor: AuditActor { AuditActor(type: .scimToken, id: id, name: name) }
}

/// What a SCIM `DELETE /Users/{id}` does in an organisation.
public enum SCIMDeleteMode: String, Codable, Sendable, CaseIterable {
    /// The user is deactivated and kept, still returned by GET: for organisations that keep
    /// every account for its history.
    case deactivate
    /// The user is removed from the directory, as RFC 7644 §3.6 describes (the default).
    case delete
}
