import RampartCore
import SQLKit

/// Link tables (group members, product access, role assignments) pair two things of one
/// organisation. Adding or removing a link that is already in that state changes nothing
/// and writes no audit event, so these report whether they changed anything.
extension Tenant {
    func addLink(_ table: String, _ first: (column: String, value: String),
                 _ second: (column: String, value: String)) async throws -> Bool {
        let query = SQLQueryString("INSERT INTO \(ident: table) (org_id, \(ident: first.column), \(ident: second.column), created_at) VALUES (")
            + "\(bind: orgID), \(bind: first.value), \(bind: second.value), \(bind: clock().microseconds)"
            + ") ON CONFLICT DO NOTHING RETURNING org_id"
        return try await sql.raw(query).first() != nil
    }

    func removeLink(_ table: String, _ first: (column: String, value: String),
                    _ second: (column: String, value: String)) async throws -> Bool {
        let query = SQLQueryString("DELETE FROM \(ident: table) WHERE org_id = ") + "\(bind: orgID)"
            + SQLQueryString(" AND \(ident: first.column) = ") + "\(bind: first.value)"
            + SQLQueryString(" AND \(ident: second.column) = ") + "\(bind: second.value)" + " RETURNING org_id"
        return try await sql.raw(query).first() != nil
    }
}
