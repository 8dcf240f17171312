public enum UserStatus: String, Codable, Sendable, CaseIterable {
    case active
    case deactivated
}

/// A managed account of one organisation.
public struct User: Codable, Sendable, Equatable {
    public var id: String
    public var email: String
    public var displayName: String
    public var status: UserStatus
    public var roles: [Role]
    public var createdAt: Timestamp
    public var lastActiveAt: Timestamp?
    /// The email's domain is verified by this organisation: the account is one of its managed
    /// accounts. Derived, never set: read from the organisation's verified domains.
    public var managed: Bool

    public init(id: String, email: String, displayName: String, status: UserStatus, roles: [Role],
                createdAt: Timestamp, lastActiveAt: Timestamp?, managed: Bool = false) {
        self.id = id; self.email = email; self.displayName = displayName; self.status = status
        self.roles = roles; self.createdAt = createdAt; self.lastActiveAt = lastActiveAt; self.managed = managed
    }
}

public struct RoleAssignment: Codable, Sendable, Equatable {
    public var userId: String
    public var role: Role
    public var createdAt: Timestamp
    public init(userId: String, role: Role, createdAt: Timestamp) {
        self.userId = userId; self.role = role; self.createdAt = createdAt
    }
}
