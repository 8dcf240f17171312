/// A bearer credential with which one product appends its events to the organisation's audit
/// log (`POST /api/v1/events`). It can do nothing else; only a hash of its secret is kept.
public struct IngestionKey: Codable, Sendable, Equatable {
    public var id: String
    public var productID: String
    public var name: String
    public var createdAt: Timestamp
    public var lastUsedAt: Timestamp?
    public var revokedAt: Timestamp?

    public init(id: String, productID: String, name: String, createdAt: Timestamp, lastUsedAt: Timestamp?, revokedAt: Timestamp?) {
        self.id = id; self.productID = productID; self.name = name; self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt; self.revokedAt = revokedAt
    }

    enum CodingKeys: String, CodingKey { case id, productID = "productId", name, createdAt, lastUsedAt, revokedAt }
}
