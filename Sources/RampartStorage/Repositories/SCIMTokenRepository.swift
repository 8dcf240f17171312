import RampartCore
import SQLKit

extension Tenant {
    /// Returns the token and its secret; the secret is shown once and only its hash is kept.
    public func createSCIMToken(name rawName: String, by context: AuditContext) async throws -> (SCIMToken, String) {
        let name = try Validate.name(rawName, field: "name")
        let now = clock()
        let secret = SecretToken.generate(.scimToken, orgID: orgID)
        let token = SCIMToken(id: Identifier.make(), name: name, createdAt: now, lastUsedAt: nil, revokedAt: nil)
        try await sql.raw("""
            INSERT INTO scim_tokens (org_id, id, name, token_hash, created_by, created_at)
            VALUES (\(bind: orgID), \(bind: token.id), \(bind: name), \(bind: secret.hash), \(bind: context.actor.id),
                    \(bind: now.microseconds))
            """).run()
        try await appendAudit([context.record(.scimTokenCreated, [.scimToken(token)], at: now)])
        return (token, secret.text)
    }

    public func scimTokens() async throws -> [SCIMToken] {
        try await rows("SELECT \(Self.scimTokenColumns) FROM scim_tokens WHERE org_id = ?1 ORDER BY created_at, id",
                       [orgID], Self.decodeSCIMToken)
    }

    public func requireSCIMToken(_ id: String) async throws -> SCIMToken {
        guard let id = Identifier.canonical(id),
              let token = try await row("SELECT \(Self.scimTokenColumns) FROM scim_tokens WHERE org_id = ?1 AND id = ?2",
                                        [orgID, id], Self.decodeSCIMToken)
        else { throw RampartError.notFound("SCIM token") }
        return token
    }

    /// The token a presented secret names, if it is not revoked; unknown and revoked look alike.
    public func authenticateSCIMToken(_ secret: SecretToken) async throws -> SCIMToken? {
        let token = try await row(of: "scim_tokens", columns: Self.scimTokenColumns, columnCount: 5, matching: secret,
                                  Self.decodeSCIMToken)
        return token?.revokedAt == nil ? token : nil
    }

    public func markSCIMTokenUsed(_ id: String, at time: Timestamp) async throws {
        try await stamp("last_used_at", of: "scim_tokens", id: id, at: time)
    }

    public func revokeSCIMToken(_ id: String, by context: AuditContext) async throws {
        var token = try await requireSCIMToken(id)
        guard token.revokedAt == nil else { return }
        token.revokedAt = clock()
        try await stamp("revoked_at", of: "scim_tokens", id: token.id, at: token.revokedAt!)
        try await appendAudit([context.record(.scimTokenRevoked, [.scimToken(token)])])
    }

    public func scimDeleteMode() async throws -> SCIMDeleteMode {
        let mode = try await row("SELECT delete_mode FROM scim_settings WHERE org_id = ?1", [orgID]) { try $0.text(0) }
        return mode.flatMap(SCIMDeleteMode.init(rawValue:)) ?? .delete
    }

    public func setSCIMDeleteMode(_ mode: SCIMDeleteMode, by context: AuditContext) async throws {
        let before = try await scimDeleteMode()
        guard before != mode else { return }
        try await sql.raw("""
            INSERT INTO scim_settings (org_id, delete_mode, updated_at)
            VALUES (\(bind: orgID), \(bind: mode.rawValue), \(bind: clock().microseconds))
            ON CONFLICT (org_id) DO UPDATE SET delete_mode = excluded.delete_mode, updated_at = excluded.updated_at
            """).run()
        var details = AuditDetails()
        details.change("deleteMode", from: .string(before.rawValue), to: .string(mode.rawValue))
        try await appendAudit([context.record(.scimSettingsUpdated, [], details: details)])
    }

    static let scimTokenColumns = "id, name, created_at, last_used_at, revoked_at"

    static func decodeSCIMToken(_ row: any ColumnReader) throws -> SCIMToken {
        SCIMToken(id: try row.text(0), name: try row.text(1), createdAt: try row.timestamp(2),
                  lastUsedAt: try row.optionalTimestamp(3), revokedAt: try row.optionalTimestamp(4))
    }
}
