public enum ProductKind: String, Codable, Sendable, CaseIterable {
    case issueTracker = "issue-tracker"
    case wiki
    case serviceDesk = "service-desk"
    case chat
    case sourceControl = "source-control"
    case custom
}

/// An application the organisation uses; access to it is granted to groups.
public struct Product: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var kind: ProductKind
    public var url: String
    public var createdAt: Timestamp

    public init(id: String, name: String, kind: ProductKind, url: String, createdAt: Timestamp) {
        self.id = id; self.name = name; self.kind = kind; self.url = url; self.createdAt = createdAt
    }
}
