import Crypto
import Foundation
import RampartCore
import SQLKit

/// The `sid` claim of a Rampart sign-in session: a one-way function of the stored hash of the
/// secret the sign-in started with, so a product learns neither the secret nor the session's id
/// (which admins use to end it). It is stored with the session, because a step-up replaces the
/// secret while the sign-in, as products know it, goes on.
public enum OIDCSessionID {
    public static func of(sessionHash: String) -> String {
        Data(SHA256.hash(data: Data(("rampart.oidc.sid\u{0}" + sessionHash).utf8))).base64URLEncoded
    }

    /// A session row's sid: sessions started before sids were stored keep the one derived from their secret.
    static func of(stored: String?, sessionHash: String) -> String {
        stored ?? of(sessionHash: sessionHash)
    }
}

/// One logout token waiting to be sent to one product. Its id is the token's `jti`, the same
/// at every attempt, so a product that took it once can recognise a retry.
public struct LogoutDelivery: Sendable, Equatable {
    public let id: String
    public let clientID: String
    public let subject: String
    public let sid: String?
    public let attempts: Int
    /// Where to send it now; nil when the client was deleted or no longer takes back-channel logout.
    public let uri: String?
}

extension Tenant {
    // MARK: Settings

    public func oauthBackchannelLogout(of clientID: String) async throws -> OAuthBackchannelLogout? {
        try await row("SELECT uri, session_required FROM oauth_backchannel_logout_uris WHERE org_id = ?1 AND client_id = ?2",
                      [orgID, clientID], { OAuthBackchannelLogout(uri: try $0.text(0), sessionRequired: try $0.integer(1) != 0) })
    }

    /// Every client's setting, by client id, for lists.
    public func oauthBackchannelLogouts() async throws -> [String: OAuthBackchannelLogout] {
        let found = try await rows("SELECT client_id, uri, session_required FROM oauth_backchannel_logout_uris WHERE org_id = ?1",
                                   [orgID], { (try $0.text(0), OAuthBackchannelLogout(uri: try $0.text(1), sessionRequired: try $0.integer(2) != 0)) })
        return Dictionary(found, uniquingKeysWith: { first, _ in first })
    }

    /// Sets (or, with a nil or empty `uri`, removes) a client's back-channel logout URI; the
    /// changes go into the caller's audit details. `sessionRequired` nil keeps what was set.
    func setOAuthBackchannelLogout(_ clientID: String, uri raw: String?, sessionRequired: Bool?,
                                   details: inout AuditDetails) async throws {
        let before = try await oauthBackchannelLogout(of: clientID)
        let uri: String? = if let raw { try OAuthClientRules.backchannelLogoutURI(raw) } else { before?.uri }
        let after = uri.map { OAuthBackchannelLogout(uri: $0, sessionRequired: sessionRequired ?? before?.sessionRequired ?? false) }
        guard after != before else { return }
        if after?.uri != before?.uri {
            details.change("backchannelLogoutUri", from: before.map { .string($0.uri) } ?? .null, to: after.map { .string($0.uri) } ?? .null)
        }
        if (after?.sessionRequired ?? false) != (before?.sessionRequired ?? false) {
            details.change("backchannelLogoutSessionRequired", from: .bool(before?.sessionRequired ?? false),
                           to: .bool(after?.sessionRequired ?? false))
        }
        try await sql.raw("DELETE FROM oauth_backchannel_logout_uris WHERE org_id = \(bind: orgID) AND client_id = \(bind: clientID)").run()
        if let after {
            try await sql.raw("""
                INSERT INTO oauth_backchannel_logout_uris (org_id, client_id, uri, session_required)
                VALUES (\(bind: orgID), \(bind: clientID), \(bind: after.uri), \(bind: Int64(after.sessionRequired ? 1 : 0)))
                """).run()
        }
    }

    func removeOAuthBackchannelLogoutRows(_ clientID: String) async throws {
        for table in ["oauth_backchannel_logout_uris", "oauth_logout_deliveries"] {
            try await sql.raw(SQLQueryString("DELETE FROM \(ident: table) WHERE org_id = ") + "\(bind: orgID)"
                + " AND client_id = " + "\(bind: clientID)").run()
        }
    }

    // MARK: Queueing, in the transaction that ends sessions

    /// Queues a logout token for every product that should hear that these sessions ended.
    /// For the sessions themselves: each client with a back-channel URI that a grant of them
    /// went to. With `everywhere` (every session of the person ended, or their access did):
    /// also each client holding a live grant of the person that no remaining session covers and
    /// whose session was not reported ended before, so a product signed into from a session
    /// that has since expired still hears of it, once.
    func queueBackchannelLogouts(userID: String, endedSIDs: [String], everywhere: Bool) async throws {
        let ended = Set(endedSIDs)
        let remaining: Set<String> = everywhere ? Set(try await sql.raw("""
            SELECT token_hash, sid FROM user_sessions WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)
            """).all().map(Self.sid)) : []
        guard everywhere || !ended.isEmpty else { return }
        let candidates = try await rows("""
            SELECT g.id, g.client_id, g.sid, g.revoked_at, g.session_ended_at, b.session_required FROM oauth_grants g
            JOIN oauth_backchannel_logout_uris b ON b.org_id = g.org_id AND b.client_id = g.client_id
            WHERE g.org_id = ?1 AND g.user_id = ?2 ORDER BY g.created_at, g.id
            """, [orgID, userID], { (grant: try $0.text(0), client: try $0.text(1), sid: try $0.optionalText(2),
                                    live: try $0.optionalInteger(3) == nil, told: try $0.optionalInteger(4) != nil,
                                    sessionRequired: try $0.integer(5) != 0) })
        var queued: Set<String> = []
        let now = clock().microseconds
        for grant in candidates {
            let endedHere = grant.sid.map(ended.contains) ?? false
            let uncovered = everywhere && grant.live && !grant.told && !(grant.sid.map(remaining.contains) ?? false)
            guard endedHere || uncovered else { continue }
            try await sql.raw("""
                UPDATE oauth_grants SET session_ended_at = \(bind: now) WHERE org_id = \(bind: orgID) AND id = \(bind: grant.grant)
                """).run()
            guard !(grant.sessionRequired && grant.sid == nil),
                  queued.insert(grant.client + "\u{0}" + (grant.sid ?? "")).inserted else { continue }
            try await sql.raw("""
                INSERT INTO oauth_logout_deliveries (org_id, id, client_id, subject, sid, created_at, attempts, next_attempt_at)
                VALUES (\(bind: orgID), \(bind: Identifier.make()), \(bind: grant.client), \(bind: userID), \(bind: grant.sid),
                        \(bind: now), 0, \(bind: now))
                """).run()
        }
    }

    // MARK: Sending

    /// Whether anything waits to be sent now: a read, so idle organisations cost no write.
    public func hasDueLogoutDeliveries(at now: Timestamp = .now()) async throws -> Bool {
        try await row("""
            SELECT id FROM oauth_logout_deliveries WHERE org_id = ?1 AND next_attempt_at <= CAST(?2 AS BIGINT)
            AND (lease_until IS NULL OR lease_until < CAST(?2 AS BIGINT)) LIMIT 1
            """, [orgID, String(now.microseconds)], { try $0.text(0) }) != nil
    }

    /// Takes up to `limit` due deliveries for `owner` until `until`. The conditions are checked
    /// again on the row being updated, so two nodes claiming at once never both take one: on
    /// PostgreSQL a row another transaction just leased fails the re-check (and `SKIP LOCKED`
    /// lets the claimers pass each other by), on SQLite writers take turns.
    public func claimLogoutDeliveries(owner: String, until: Timestamp, limit: Int = 20) async throws -> [LogoutDelivery] {
        let now = clock().microseconds
        let skipLocked = flavor == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let claimed = try await sql.raw(SQLQueryString("""
            UPDATE oauth_logout_deliveries SET lease_owner = \(bind: owner), lease_until = \(bind: until.microseconds)
            WHERE org_id = \(bind: orgID) AND next_attempt_at <= \(bind: now) AND (lease_until IS NULL OR lease_until < \(bind: now))
            AND id IN (SELECT id FROM oauth_logout_deliveries
                       WHERE org_id = \(bind: orgID) AND next_attempt_at <= \(bind: now)
                       AND (lease_until IS NULL OR lease_until < \(bind: now))
                       ORDER BY next_attempt_at, id LIMIT \(bind: Int64(limit))
            """) + SQLQueryString(skipLocked + ")") + SQLQueryString(" RETURNING id, client_id, subject, sid, attempts")).all()
        guard !claimed.isEmpty else { return [] }
        let settings = try await oauthBackchannelLogouts()
        return try claimed.map { row in
            let clientID = try row.string("client_id")
            return LogoutDelivery(id: try row.string("id"), clientID: clientID, subject: try row.string("subject"),
                                  sid: try row.optionalString("sid"), attempts: Int(try row.int("attempts")),
                                  uri: settings[clientID]?.uri)
        }.sorted { $0.id < $1.id }
    }

    /// The product answered 200 or 204: the delivery leaves the outbox. A node that lost its
    /// lease records nothing (the node that holds it will).
    public func logoutDelivered(_ delivery: LogoutDelivery, owner: String, status: Int) async throws {
        guard try await sql.raw("""
            DELETE FROM oauth_logout_deliveries
            WHERE org_id = \(bind: orgID) AND id = \(bind: delivery.id) AND lease_owner = \(bind: owner) RETURNING id
            """).first() != nil else { return }
        try await appendAudit([AuditContext.system.record(.oauthBackchannelLogoutDelivered, [Self.clientTarget(delivery)],
                                                          details: AuditDetails(["deliveryId": .string(delivery.id),
                                                                                 "attempts": .int(Int64(delivery.attempts + 1)),
                                                                                 "status": .int(Int64(status))]))])
    }

    /// An attempt failed. Before `maxAttempts` the delivery waits until `retryAt`; at the last
    /// one (or when there is nowhere to send it) it leaves the outbox and the failure is audited.
    public func logoutDeliveryFailed(_ delivery: LogoutDelivery, owner: String, error: String, maxAttempts: Int,
                                     retryAt: Timestamp) async throws {
        let attempts = delivery.attempts + 1
        if attempts < maxAttempts, delivery.uri != nil {
            try await sql.raw("""
                UPDATE oauth_logout_deliveries SET attempts = \(bind: Int64(attempts)), last_error = \(bind: String(error.prefix(300))),
                next_attempt_at = \(bind: retryAt.microseconds), lease_owner = NULL, lease_until = NULL
                WHERE org_id = \(bind: orgID) AND id = \(bind: delivery.id) AND lease_owner = \(bind: owner)
                """).run()
            return
        }
        guard try await sql.raw("""
            DELETE FROM oauth_logout_deliveries
            WHERE org_id = \(bind: orgID) AND id = \(bind: delivery.id) AND lease_owner = \(bind: owner) RETURNING id
            """).first() != nil else { return }
        try await appendAudit([AuditContext.system.record(.oauthBackchannelLogoutFailed, [Self.clientTarget(delivery)],
                                                          details: AuditDetails(["deliveryId": .string(delivery.id),
                                                                                 "attempts": .int(Int64(attempts)),
                                                                                 "error": .string(String(error.prefix(300)))]),
                                                          outcome: .failure)])
    }

    /// What waits in the outbox, oldest first: for tests and for an operator's questions.
    public func pendingLogoutDeliveries() async throws -> [(clientID: String, attempts: Int, lastError: String?)] {
        try await rows("""
            SELECT client_id, attempts, last_error FROM oauth_logout_deliveries WHERE org_id = ?1 ORDER BY created_at, id
            """, [orgID], { (try $0.text(0), Int(try $0.integer(1)), try $0.optionalText(2)) })
    }

    private static func clientTarget(_ delivery: LogoutDelivery) -> AuditTarget {
        AuditTarget(type: "oauth_client", id: delivery.clientID, name: nil)
    }
}

extension OAuthClientRules {
    /// Same rules as a redirect URI: https (http only on loopback), no fragment, no user name.
    static func backchannelLogoutURI(_ raw: String) throws(RampartError) -> String? {
        if raw.isEmpty { return nil }
        return try redirectURIs([raw], field: "backchannelLogoutUri", required: true).first
    }
}
