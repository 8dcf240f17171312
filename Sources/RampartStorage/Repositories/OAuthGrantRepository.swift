import Foundation
import RampartCore
import SQLKit

/// One authorization of one client by one person: what its tokens may do and how the person
/// proved who they were. Its refresh tokens are a family; revoking the grant ends them all.
public struct OAuthGrant: Sendable, Equatable {
    public let id: String
    public let clientID: String
    public let userID: String
    public let scope: [String]
    public let authTime: Timestamp
    /// RFC 8176 authentication method references: `pwd`, `otp`, `mfa`.
    public let amr: [String]
    public let createdAt: Timestamp
    public let lastUsedAt: Timestamp
    public let revokedAt: Timestamp?
    /// The `sid` of the Rampart session that authorized it (nil for grants made before sids).
    public let sid: String?
}

/// What `/authorize` hands to `/token`, bound to one client, redirect URI and PKCE challenge.
public struct AuthorizationCodeRequest: Sendable {
    public let clientID: String
    public let userID: String
    public let redirectURI: String
    public let scope: [String]
    public let nonce: String?
    public let codeChallenge: String
    public let authTime: Timestamp
    public let amr: [String]
    /// The `sid` of the session that passed `/authorize`, carried into the grant and the ID token.
    public let sid: String?

    public init(clientID: String, userID: String, redirectURI: String, scope: [String], nonce: String?,
                codeChallenge: String, authTime: Timestamp, amr: [String], sid: String? = nil) {
        self.clientID = clientID; self.userID = userID; self.redirectURI = redirectURI; self.scope = scope
        self.nonce = nonce; self.codeChallenge = codeChallenge; self.authTime = authTime; self.amr = amr
        self.sid = sid
    }
}

public enum CodeRedemption: Sendable {
    /// Unknown, expired, or another client's: `invalid_grant`, and nothing else happens.
    case invalid
    /// Used before: whatever the first use produced is revoked (RFC 6749 section 4.1.2).
    case replayed
    case redeemed(AuthorizationCodeRequest)
}

public enum RefreshOutcome: Sendable {
    case invalid
    /// A rotated-out token came back: someone holds a copy, so the whole family dies.
    case replayed
    case rotated(OAuthGrant, refreshToken: String)
}

extension Tenant {
    /// Codes live a minute: long enough for a redirect and a back-channel call, short enough
    /// that a leaked one is seldom worth anything (and it is single use and PKCE-bound anyway).
    public static let authorizationCodeLifetimeSeconds: Double = 60
    public static let refreshTokenLifetimeSeconds: Double = 30 * 86_400

    /// Issues a code for a person who passed `/authorize`, audited as their sign-in to the product.
    public func issueAuthorizationCode(_ request: AuthorizationCodeRequest, client: OAuthClient, user: User,
                                       by context: AuditContext) async throws -> String {
        let code = SecretToken.generate(.authorizationCode, orgID: orgID)
        let now = clock()
        try await sql.raw("""
            INSERT INTO oauth_codes (org_id, code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge,
                                     auth_time, amr, expires_at, sid)
            VALUES (\(bind: orgID), \(bind: code.hash), \(bind: client.id), \(bind: user.id), \(bind: request.redirectURI),
                    \(bind: request.scope.joined(separator: " ")), \(bind: request.nonce), \(bind: request.codeChallenge),
                    \(bind: request.authTime.microseconds), \(bind: request.amr.joined(separator: " ")),
                    \(bind: now.adding(seconds: Self.authorizationCodeLifetimeSeconds).microseconds), \(bind: request.sid))
            """).run()
        try await appendAudit([context.record(.oauthAuthorized, [.user(user), .oauthClient(client)],
                                              details: AuditDetails(["scope": .string(request.scope.joined(separator: " "))]),
                                              at: now)])
        return code.text
    }

    /// Uses a code once. The first use marks it (a conditional update, so two racing
    /// redemptions cannot both win); a second use revokes the grant the first one started.
    public func redeemAuthorizationCode(_ code: SecretToken, clientID: String, by context: AuditContext) async throws -> CodeRedemption {
        let now = clock()
        guard code.orgID == orgID, let found = try await row("""
            SELECT client_id, user_id, redirect_uri, scope, nonce, code_challenge, auth_time, amr, expires_at, used_at, grant_id,
                   sid
            FROM oauth_codes WHERE org_id = ?1 AND code_hash = ?2
            """, [orgID, code.hash], { row in
                (request: AuthorizationCodeRequest(
                    clientID: try row.text(0), userID: try row.text(1), redirectURI: try row.text(2),
                    scope: Self.words(try row.text(3)), nonce: try row.optionalText(4), codeChallenge: try row.text(5),
                    authTime: try row.timestamp(6), amr: Self.words(try row.text(7)), sid: try row.optionalText(11)),
                 expiresAt: try row.timestamp(8), used: try row.optionalInteger(9) != nil, grantID: try row.optionalText(10))
            }), found.request.clientID == clientID
        else { return .invalid }
        if found.used {
            if let grantID = found.grantID { try await revokeOAuthGrant(grantID, reason: "code_replayed", by: context) }
            try await appendAudit([context.record(.oauthReplayDetected, [], details: AuditDetails([
                "credential": .string("authorization_code"), "grantId": found.grantID.map(JSONValue.string) ?? .null,
            ]), outcome: .failure, at: now)])
            return .replayed
        }
        guard now < found.expiresAt else { return .invalid }
        let marked = try await sql.raw("""
            UPDATE oauth_codes SET used_at = \(bind: now.microseconds)
            WHERE org_id = \(bind: orgID) AND code_hash = \(bind: code.hash) AND used_at IS NULL RETURNING code_hash
            """).first()
        guard marked != nil else { return .replayed }
        return .redeemed(found.request)
    }

    /// Starts the grant a redeemed code leads to; the refresh token (when `offline_access` was
    /// granted) is returned once, stored as a hash.
    public func startOAuthGrant(_ request: AuthorizationCodeRequest, code: SecretToken, client: OAuthClient,
                                by context: AuditContext) async throws -> (OAuthGrant, refreshToken: String?) {
        let now = clock()
        let grant = OAuthGrant(id: Identifier.make(), clientID: client.id, userID: request.userID, scope: request.scope,
                               authTime: request.authTime, amr: request.amr, createdAt: now, lastUsedAt: now, revokedAt: nil,
                               sid: request.sid)
        try await sql.raw("""
            INSERT INTO oauth_grants (org_id, id, client_id, user_id, scope, auth_time, amr, created_at, last_used_at, sid)
            VALUES (\(bind: orgID), \(bind: grant.id), \(bind: client.id), \(bind: grant.userID),
                    \(bind: grant.scope.joined(separator: " ")), \(bind: grant.authTime.microseconds),
                    \(bind: grant.amr.joined(separator: " ")), \(bind: now.microseconds), \(bind: now.microseconds),
                    \(bind: grant.sid))
            """).run()
        try await sql.raw("""
            UPDATE oauth_codes SET grant_id = \(bind: grant.id) WHERE org_id = \(bind: orgID) AND code_hash = \(bind: code.hash)
            """).run()
        let refresh = grant.scope.contains("offline_access") ? try await insertRefreshToken(grantID: grant.id, at: now) : nil
        try await appendAudit([context.record(.oauthTokensIssued, [AuditTarget(type: "user", id: grant.userID, name: nil),
                                                                   .oauthClient(client)],
                                              details: AuditDetails(["grantType": .string("authorization_code"),
                                                                     "grantId": .string(grant.id),
                                                                     "refreshToken": .bool(refresh != nil)]), at: now)])
        return (grant, refresh)
    }

    /// Trades a refresh token for a new one of the same family. A token already traded is a
    /// copy in someone else's hands: the family is revoked and the event audited. One read
    /// finds the token, its grant, the person's status and their access to the product.
    public func rotateRefreshToken(_ token: SecretToken, clientID: String, by context: AuditContext) async throws -> RefreshOutcome {
        let now = clock()
        guard token.orgID == orgID, let found = try await row("""
            SELECT g.id, g.client_id, g.user_id, g.scope, g.auth_time, g.amr, g.created_at, g.last_used_at, g.revoked_at, g.sid,
                   t.expires_at, t.used_at, u.status, CASE WHEN \(Self.grantHasProductAccess) THEN 1 ELSE 0 END AS access
            FROM oauth_refresh_tokens t JOIN oauth_grants g ON g.org_id = t.org_id AND g.id = t.grant_id
            JOIN users u ON u.org_id = g.org_id AND u.id = g.user_id
            WHERE t.org_id = ?1 AND t.token_hash = ?2
            """, [orgID, token.hash], { row in
                (grant: try Self.decodeGrant(row), expiresAt: try row.timestamp(10), used: try row.optionalInteger(11) != nil,
                 userActive: try row.text(12) == "active", access: try row.integer(13) != 0)
            }), found.grant.clientID == clientID
        else { return .invalid }
        let grant = found.grant
        if found.used {
            if grant.revokedAt == nil { try await revokeOAuthGrant(grant.id, reason: "refresh_token_replayed", by: context) }
            try await appendAudit([context.record(.oauthReplayDetected, [], details: AuditDetails([
                "credential": .string("refresh_token"), "grantId": .string(grant.id),
            ]), outcome: .failure, at: now)])
            return .replayed
        }
        guard grant.revokedAt == nil, found.userActive, now < found.expiresAt else { return .invalid }
        guard found.access else {
            try await revokeOAuthGrant(grant.id, reason: "product_access_removed", by: context)
            return .invalid
        }
        guard try await row("""
            UPDATE oauth_refresh_tokens SET used_at = CAST(?3 AS BIGINT)
            WHERE org_id = ?1 AND token_hash = ?2 AND used_at IS NULL RETURNING token_hash
            """, [orgID, token.hash, String(now.microseconds)], { try $0.text(0) }) != nil
        else { return .replayed }
        // "Last used" is for people reading the register: a minute's precision is enough, and
        // a product refreshing often does not turn every refresh into two writes.
        if grant.lastUsedAt.adding(seconds: 60) < now {
            try await sql.raw("""
                UPDATE oauth_grants SET last_used_at = \(bind: now.microseconds) WHERE org_id = \(bind: orgID) AND id = \(bind: grant.id)
                """).run()
        }
        return .rotated(grant, refreshToken: try await insertRefreshToken(grantID: grant.id, at: now))
    }

    private func insertRefreshToken(grantID: String, at now: Timestamp) async throws -> String {
        let token = SecretToken.generate(.refreshToken, orgID: orgID)
        try await sql.raw("""
            INSERT INTO oauth_refresh_tokens (org_id, token_hash, grant_id, created_at, expires_at)
            VALUES (\(bind: orgID), \(bind: token.hash), \(bind: grantID), \(bind: now.microseconds),
                    \(bind: now.adding(seconds: Self.refreshTokenLifetimeSeconds).microseconds))
            """).run()
        return token.text
    }

    public func oauthGrant(_ id: String) async throws -> OAuthGrant? {
        try await row("SELECT \(Self.grantColumns) FROM oauth_grants WHERE org_id = ?1 AND id = ?2", [orgID, id], Self.decodeGrant)
    }

    /// The grant behind a refresh token, whoever presents it (for revocation and introspection).
    public func oauthGrant(refreshToken token: SecretToken) async throws -> (OAuthGrant, expiresAt: Timestamp, used: Bool)? {
        guard token.orgID == orgID, let found = try await row("""
            SELECT grant_id, expires_at, used_at FROM oauth_refresh_tokens WHERE org_id = ?1 AND token_hash = ?2
            """, [orgID, token.hash], { (try $0.text(0), try $0.timestamp(1), try $0.optionalInteger(2) != nil) }),
            let grant = try await oauthGrant(found.0)
        else { return nil }
        return (grant, found.1, found.2)
    }

    /// The live grants (not revoked), newest first: the register of which person signed into
    /// which product with which scopes, and when the product last used it.
    public func oauthGrants(userID: String? = nil, clientID: String? = nil) async throws -> [OAuthGrant] {
        var query = SQLQueryString("SELECT " + Self.grantColumns + " FROM oauth_grants WHERE org_id = ") + "\(bind: orgID)"
            + " AND revoked_at IS NULL"
        if let userID { query = query + " AND user_id = " + "\(bind: userID)" }
        if let clientID { query = query + " AND client_id = " + "\(bind: clientID)" }
        return try await rows(query + " ORDER BY created_at DESC, id DESC", Self.decodeGrant)
    }

    /// A person's live grants with their clients' names, for My account's "Connected applications".
    public func connectedApps(of userID: String) async throws -> [(grant: OAuthGrant, clientName: String)] {
        let names = Dictionary(uniqueKeysWithValues: try await oauthClients().map { ($0.id, $0.name) })
        return try await oauthGrants(userID: userID).map { ($0, names[$0.clientID] ?? "a removed application") }
    }

    /// Revokes one live grant of the organisation; false when there is no such live grant.
    public func revokeLiveOAuthGrant(_ id: String, ofUser userID: String? = nil, reason: String, by context: AuditContext) async throws -> Bool {
        guard let id = Identifier.canonical(id), let grant = try await oauthGrant(id), grant.revokedAt == nil,
              userID == nil || grant.userID == userID else { return false }
        try await revokeOAuthGrant(grant.id, reason: reason, by: context)
        return true
    }

    /// Whether the person already granted this client every scope asked, in a grant not
    /// revoked: a third-party client's consent page is then skipped.
    public func hasConsented(user userID: String, client clientID: String, to scope: [String]) async throws -> Bool {
        let granted = try await rows("""
            SELECT scope FROM oauth_grants WHERE org_id = ?1 AND user_id = ?2 AND client_id = ?3 AND revoked_at IS NULL
            """, [orgID, userID, clientID], { Set(Self.words(try $0.text(0))) })
        return granted.contains { $0.isSuperset(of: scope) }
    }

    /// Whether tokens of this grant may still be honoured: not revoked, and its person still active.
    public func oauthGrantIsLive(_ id: String) async throws -> Bool {
        try await row("""
            SELECT g.id FROM oauth_grants g JOIN users u ON u.org_id = g.org_id AND u.id = g.user_id
            WHERE g.org_id = ?1 AND g.id = ?2 AND g.revoked_at IS NULL AND u.status = 'active'
            AND \(Self.grantHasProductAccess)
            """, [orgID, id], { try $0.text(0) }) != nil
    }

    /// Whether the grant's person still reaches the client's product through a group: access
    /// taken away (a group left, a group's access removed) ends what the grant gives at once.
    static let grantHasProductAccess = """
        EXISTS (SELECT 1 FROM oauth_clients c JOIN product_access a ON a.org_id = c.org_id AND a.product_id = c.product_id
                JOIN group_members m ON m.org_id = a.org_id AND m.group_id = a.group_id
                WHERE c.org_id = g.org_id AND c.id = g.client_id AND m.user_id = g.user_id)
        """

    /// Ends a grant and every refresh token of it; access tokens of it are refused from then on
    /// by userinfo and introspection. Revoking twice changes nothing and writes nothing.
    public func revokeOAuthGrant(_ id: String, reason: String, by context: AuditContext) async throws {
        let now = clock()
        guard let revoked = try await row("""
            UPDATE oauth_grants SET revoked_at = CAST(?3 AS BIGINT), revoked_reason = ?4
            WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NULL RETURNING client_id, user_id
            """, [orgID, id, String(now.microseconds), reason], { (try $0.text(0), try $0.text(1)) })
        else { return }
        try await sql.raw("DELETE FROM oauth_refresh_tokens WHERE org_id = \(bind: orgID) AND grant_id = \(bind: id)").run()
        try await appendAudit([context.record(.oauthGrantRevoked, [
            AuditTarget(type: "user", id: revoked.1, name: nil), AuditTarget(type: "oauth_client", id: revoked.0, name: nil),
        ], details: AuditDetails(["grantId": .string(id), "reason": .string(reason)]), at: now)])
    }

    /// Every grant of a person ends with their access (deactivation, deletion): products'
    /// refresh tokens stop working in the same transaction.
    func endOAuthGrants(of userID: String) async throws {
        try await sql.raw("""
            DELETE FROM oauth_refresh_tokens WHERE org_id = \(bind: orgID) AND grant_id IN
                (SELECT id FROM oauth_grants WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID))
            """).run()
        try await sql.raw("""
            UPDATE oauth_grants SET revoked_at = \(bind: clock().microseconds), revoked_reason = 'access_ended'
            WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID) AND revoked_at IS NULL
            """).run()
        try await sql.raw("DELETE FROM oauth_codes WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)").run()
    }

    static let grantColumns = "id, client_id, user_id, scope, auth_time, amr, created_at, last_used_at, revoked_at, sid"

    static func decodeGrant(_ row: any ColumnReader) throws -> OAuthGrant {
        OAuthGrant(id: try row.text(0), clientID: try row.text(1), userID: try row.text(2), scope: words(try row.text(3)),
                   authTime: try row.timestamp(4), amr: words(try row.text(5)), createdAt: try row.timestamp(6),
                   lastUsedAt: try row.timestamp(7), revokedAt: try row.optionalTimestamp(8), sid: try row.optionalText(9))
    }

    static func words(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }
}
