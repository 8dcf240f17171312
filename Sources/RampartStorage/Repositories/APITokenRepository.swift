import RampartCore
import SQLKit

extension Tenant {
    /// Returns the token and its secret; the secret is shown once and only its hash is kept.
    public func createAPIToken(name rawName: String, role: Role, expiresAt: Timestamp?, by context: AuditContext)
        async throws -> (APIToken, String)
    {
        let name = try Validate.name(rawName, field: "name")
        let now = clock()
        if let expiresAt, expiresAt <= now { throw RampartError.invalidField("expiresAt", "must be in the future") }
        let secret = SecretToken.generate(.apiToken, orgID: orgID)
        let token = APIToken(id: Identifier.make(), name: name, role: role, createdAt: now, expiresAt: expiresAt,
                             lastUsedAt: nil, revokedAt: nil)
        try await sql.raw("""
            INSERT INTO api_tokens (org_id, id, name, role, token_hash, created_by, created_at, expires_at)
            VALUES (\(bind: orgID), \(bind: token.id), \(bind: name), \(bind: role.rawValue), \(bind: secret.hash),
                    \(bind: context.actor.id), \(bind: now.microseconds), \(bind: expiresAt?.microseconds))
            """).run()
        var details = AuditDetails(["role": .string(role.rawValue)])
        details["expiresAt"] = JSONValue(expiresAt?.rfc3339)
        try await appendAudit([context.record(.apiTokenCreated, [.token(token)], details: details, at: now)])
        return (token, secret.text)
    }

    public func apiToken(_ id: String) async throws -> APIToken? {
        try await row("SELECT \(Self.tokenColumns) FROM api_tokens WHERE org_id = ?1 AND id = ?2", [orgID, id],
                      Self.decodeToken)
    }

    public func requireAPIToken(_ id: String) async throws -> APIToken {
        guard let id = Identifier.canonical(id), let token = try await apiToken(id) else {
            throw RampartError.notFound("API token")
        }
        return token
    }

    public func apiTokens(page: PageRequest = PageRequest()) async throws -> Page<APIToken> {
        var q = SQLQueryString("SELECT " + Self.tokenColumns + " FROM api_tokens WHERE org_id = ") + "\(bind: orgID)"
        if let after = page.after { q = q + " AND id > " + "\(bind: after)" }
        q = q + " ORDER BY id LIMIT " + "\(bind: page.limit + 1)"
        return page.page(try await rows(q, Self.decodeToken), id: \.id)
    }

    /// The token a presented secret names, if it is usable now. Unknown, expired and revoked
    /// all answer nil: the caller cannot tell them apart, and neither can a client.
    public func authenticateAPIToken(_ secret: SecretToken, at now: Timestamp = .now()) async throws -> APIToken? {
        let hash = secret.hash
        // Every API request reads its token; a reader keeps it until the database changes, so
        // a revocation (by the server or the CLI) still refuses the very next request.
        // It is kept under the statement and its parameters, the organisation among them.
        let found = try await recalledRow(Self.tokenByHash, [orgID, hash]) { row in
            FoundToken(token: try Self.decodeToken(row), hash: try row.text(7))
        }
        guard let found, constantTimeEquals(found.hash, hash), found.token.isUsable(at: now) else { return nil }
        return found.token
    }

    public func markAPITokenUsed(_ id: String, at time: Timestamp) async throws {
        try await sql.raw("""
            UPDATE api_tokens SET last_used_at = \(bind: time.microseconds) WHERE org_id = \(bind: orgID) AND id = \(bind: id)
            """).run()
    }

    public func revokeAPIToken(_ id: String, by context: AuditContext) async throws {
        var token = try await requireAPIToken(id)
        guard token.revokedAt == nil else { return }
        token.revokedAt = .now()
        try await sql.raw("""
            UPDATE api_tokens SET revoked_at = \(bind: token.revokedAt!.microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: token.id)
            """).run()
        try await appendAudit([context.record(.apiTokenRevoked, [.token(token)])])
    }

    /// The columns `decodeToken` reads, in its order.
    static let tokenColumns = "id, name, role, created_at, expires_at, last_used_at, revoked_at"
    private static let tokenByHash =
        "SELECT \(tokenColumns), token_hash FROM api_tokens WHERE org_id = ?1 AND token_hash = ?2"

    static func decodeToken(_ row: any ColumnReader) throws -> APIToken {
        APIToken(id: try row.text(0), name: try row.text(1), role: Role(rawValue: try row.text(2)) ?? .auditor,
                 createdAt: try row.timestamp(3), expiresAt: try row.optionalTimestamp(4),
                 lastUsedAt: try row.optionalTimestamp(5), revokedAt: try row.optionalTimestamp(6))
    }
}

/// A token row with the hash it was found by, compared again in constant time.
private struct FoundToken: Sendable {
    let token: APIToken
    let hash: String
}
