import RampartCore
import SQLKit

/// What SCIM tokens and ingestion keys share: a table of named bearer secrets kept as the
/// SHA-256 of the secret (`token_hash`), with `last_used_at` and `revoked_at` columns.
extension Tenant {
    /// The row whose hash is the presented secret's, decoded from `columns` (`columnCount`
    /// of them); the stored hash, read after them, is compared again in constant time.
    func row<T>(of table: String, columns: String, columnCount: Int, matching secret: SecretToken,
                _ decode: (any ColumnReader) throws -> T) async throws -> T? {
        let hash = secret.hash
        let found = try await row("SELECT \(columns), token_hash FROM \(table) WHERE org_id = ?1 AND token_hash = ?2",
                                  [orgID, hash]) { row in (try decode(row), try row.text(columnCount)) }
        guard let (value, stored) = found, constantTimeEquals(stored, hash) else { return nil }
        return value
    }

    /// Sets `last_used_at` or `revoked_at` of one row of such a table (both names are the callers' own, never input).
    func stamp(_ column: String, of table: String, id: String, at time: Timestamp) async throws {
        try await sql.raw("""
            UPDATE \(unsafeRaw: table) SET \(unsafeRaw: column) = \(bind: time.microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: id)
            """).run()
    }
}
