import RampartCore
import SQLKit

/// One SCIM request as the provisioning log shows it to organisation admins: enough to see
/// why a user did not arrive, without the request body (which holds personal data).
public struct SCIMRequestEntry: Sendable, Equatable {
    public var id: String
    public var occurredAt: Timestamp
    public var tokenID: String?
    public var method: String
    public var path: String
    public var resourceType: String
    public var resourceID: String?
    public var status: Int
    public var scimType: String?
    public var detail: String?

    public init(id: String = Identifier.make(), occurredAt: Timestamp, tokenID: String?, method: String, path: String,
                resourceType: String, resourceID: String?, status: Int, scimType: String?, detail: String?) {
        self.id = id; self.occurredAt = occurredAt; self.tokenID = tokenID; self.method = method; self.path = path
        self.resourceType = resourceType; self.resourceID = resourceID; self.status = status
        self.scimType = scimType; self.detail = detail
    }
}

public struct SCIMRequestFilter: Sendable {
    public var failedOnly: Bool
    public var resourceType: String?
    public var resourceID: String?
    public init(failedOnly: Bool = false, resourceType: String? = nil, resourceID: String? = nil) {
        self.failedOnly = failedOnly; self.resourceType = resourceType; self.resourceID = resourceID
    }
}

extension Tenant {
    public func recordSCIMRequest(_ entry: SCIMRequestEntry) async throws {
        try await sql.raw("""
            INSERT INTO scim_requests (org_id, id, occurred_at, token_id, method, path, resource_type, resource_id,
                                       status, scim_type, detail)
            VALUES (\(bind: orgID), \(bind: entry.id), \(bind: entry.occurredAt.microseconds), \(bind: entry.tokenID),
                    \(bind: entry.method), \(bind: String(entry.path.prefix(500))), \(bind: entry.resourceType),
                    \(bind: entry.resourceID), \(bind: Int64(entry.status)), \(bind: entry.scimType),
                    \(bind: entry.detail.map { String($0.prefix(1000)) }))
            """).run()
    }

    /// Newest first.
    public func scimRequests(_ filter: SCIMRequestFilter = SCIMRequestFilter(), limit: Int = 200) async throws
        -> [SCIMRequestEntry]
    {
        var q = SQLQueryString("""
            SELECT id, occurred_at, token_id, method, path, resource_type, resource_id, status, scim_type, detail
            FROM scim_requests WHERE org_id = 
            """) + "\(bind: orgID)"
        if filter.failedOnly { q = q + " AND status >= 400" }
        if let type = filter.resourceType { q = q + " AND resource_type = " + "\(bind: type)" }
        if let id = filter.resourceID { q = q + " AND resource_id = " + "\(bind: id)" }
        q = q + " ORDER BY occurred_at DESC, id DESC LIMIT " + "\(bind: Int64(max(1, min(limit, 1000))))"
        return try await rows(q) { row in
            SCIMRequestEntry(id: try row.text(0), occurredAt: try row.timestamp(1), tokenID: try row.optionalText(2),
                             method: try row.text(3), path: try row.text(4), resourceType: try row.text(5),
                             resourceID: try row.optionalText(6), status: Int(try row.integer(7)),
                             scimType: try row.optionalText(8), detail: try row.optionalText(9))
        }
    }
}
