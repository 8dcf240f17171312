import RampartCore
import SQLKit

/// Ingestion keys, shaped like SCIM tokens: the secret is shown once and only its hash kept.
extension Tenant {
    /// Returns the key and its secret. The product must be this organisation's.
    public func createIngestionKey(product productID: String, name rawName: String,
                                   by context: AuditContext) async throws -> (IngestionKey, String) {
        let name = try Validate.name(rawName, field: "name")
        let product = try await requireProduct(productID)
        let now = clock()
        let secret = SecretToken.generate(.ingestionKey, orgID: orgID)
        let key = IngestionKey(id: Identifier.make(), productID: product.id, name: name, createdAt: now, lastUsedAt: nil, revokedAt: nil)
        try await sql.raw("""
            INSERT INTO ingestion_keys (org_id, id, product_id, name, token_hash, created_by, created_at)
            VALUES (\(bind: orgID), \(bind: key.id), \(bind: product.id), \(bind: name), \(bind: secret.hash),
                    \(bind: context.actor.id), \(bind: now.microseconds))
            """).run()
        try await appendAudit([context.record(.ingestionKeyCreated, [.ingestionKey(key), .product(product)], at: now)])
        return (key, secret.text)
    }

    /// The organisation's keys, or one product's.
    public func ingestionKeys(product productID: String? = nil) async throws -> [IngestionKey] {
        if let productID {
            return try await rows("""
                SELECT \(Self.ingestionKeyColumns) FROM ingestion_keys WHERE org_id = ?1 AND product_id = ?2 ORDER BY created_at, id
                """, [orgID, try await requireProduct(productID).id], Self.decodeIngestionKey)
        }
        return try await rows("SELECT \(Self.ingestionKeyColumns) FROM ingestion_keys WHERE org_id = ?1 ORDER BY created_at, id",
                              [orgID], Self.decodeIngestionKey)
    }

    public func requireIngestionKey(_ id: String) async throws -> IngestionKey {
        guard let id = Identifier.canonical(id),
              let key = try await row("SELECT \(Self.ingestionKeyColumns) FROM ingestion_keys WHERE org_id = ?1 AND id = ?2",
                                      [orgID, id], Self.decodeIngestionKey)
        else { throw RampartError.notFound("Ingestion key") }
        return key
    }

    /// The key a presented secret names and its product, if the key is not revoked; unknown
    /// and revoked look alike.
    public func authenticateIngestionKey(_ secret: SecretToken) async throws -> (IngestionKey, Product)? {
        guard let key = try await row(of: "ingestion_keys", columns: Self.ingestionKeyColumns, columnCount: 6, matching: secret,
                                      Self.decodeIngestionKey),
              key.revokedAt == nil, let product = try await product(key.productID) else { return nil }
        return (key, product)
    }

    public func markIngestionKeyUsed(_ id: String, at time: Timestamp) async throws {
        try await stamp("last_used_at", of: "ingestion_keys", id: id, at: time)
    }

    /// Revoking a revoked key changes nothing and writes no event.
    public func revokeIngestionKey(_ id: String, by context: AuditContext) async throws -> IngestionKey {
        var key = try await requireIngestionKey(id)
        guard key.revokedAt == nil else { return key }
        key.revokedAt = clock()
        try await stamp("revoked_at", of: "ingestion_keys", id: key.id, at: key.revokedAt!)
        try await appendAudit([context.record(.ingestionKeyRevoked, [.ingestionKey(key)])])
        return key
    }

    /// A deleted product's keys go with it (`deleteProduct`).
    func deleteIngestionKeys(ofProduct productID: String) async throws {
        try await sql.raw("DELETE FROM ingestion_keys WHERE org_id = \(bind: orgID) AND product_id = \(bind: productID)").run()
    }

    static let ingestionKeyColumns = "id, product_id, name, created_at, last_used_at, revoked_at"

    static func decodeIngestionKey(_ row: any ColumnReader) throws -> IngestionKey {
        IngestionKey(id: try row.text(0), productID: try row.text(1), name: try row.text(2), createdAt: try row.timestamp(3),
                     lastUsedAt: try row.optionalTimestamp(4), revokedAt: try row.optionalTimestamp(5))
    }
}
