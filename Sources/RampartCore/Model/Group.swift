public struct Group: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    public var memberCount: Int
    public var createdAt: Timestamp

    public init(id: String, name: String, description: String, memberCount: Int, createdAt: Timestamp) {
        self.id = id; self.name = name; self.description = description
        self.memberCount = memberCount; self.createdAt = createdAt
    }
}
