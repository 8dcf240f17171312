public struct APIToken: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    public var createdAt: Timestamp
    public var expiresAt: Timestamp?
    public var lastUsedAt: Timestamp?
    public var revokedAt: Timestamp?

    public init(id: String, name: String, role: Role, createdAt: Timestamp, expiresAt: Timestamp?,
                lastUsedAt: Timestamp?, revokedAt: Timestamp?) {
        self.id = id; self.name = name; self.role = role; self.createdAt = createdAt
        self.expiresAt = expiresAt; self.lastUsedAt = lastUsedAt; self.revokedAt = revokedAt
    }

    /// The longest lifetime a token can be given where it is set in days (console and CLI).
    public static let maximumLifetimeDays = 3650

    public func isUsable(at now: Timestamp) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }
}
