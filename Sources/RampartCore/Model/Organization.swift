public struct Organization: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// Stable: later issuers and SAML entity ids contain it.
    public var slug: String
    /// Data-residency label; organisations are placed by it once several databases exist.
    public var region: String
    public var createdAt: Timestamp

    public init(id: String, name: String, slug: String, region: String, createdAt: Timestamp) {
        self.id = id; self.name = name; self.slug = slug; self.region = region; self.createdAt = createdAt
    }
}
