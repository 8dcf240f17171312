import Foundation
import RampartCore
import SQLKit

/// A sign-in started with an identity provider, as it is kept until the browser comes back.
public struct SSOAttempt: Sendable, Equatable {
    /// The SHA-256 (hex) of the `state` (OIDC) or RelayState (SAML) handed to the provider.
    public var id: String
    public var providerID: String
    /// The SHA-256 (hex) of the cookie the starting browser holds.
    public var browserHash: String
    /// The SHA-256 (hex) of the OIDC nonce.
    public var nonceHash: String?
    /// The PKCE verifier in clear (sealed at rest).
    public var pkceVerifier: String?
    /// The ID of the SAML AuthnRequest, which the response's InResponseTo must name.
    public var samlRequestID: String?
    /// A validated path of the organisation to land on afterwards.
    public var returnTo: String?
    /// A test from the console or API: the result is recorded and nobody is signed in.
    public var testMode: Bool
    public var createdAt: Timestamp
    public var expiresAt: Timestamp

    public init(id: String, providerID: String, browserHash: String, nonceHash: String?, pkceVerifier: String?,
                samlRequestID: String?, returnTo: String?, testMode: Bool, createdAt: Timestamp, expiresAt: Timestamp) {
        self.id = id; self.providerID = providerID; self.browserHash = browserHash; self.nonceHash = nonceHash
        self.pkceVerifier = pkceVerifier; self.samlRequestID = samlRequestID; self.returnTo = returnTo
        self.testMode = testMode; self.createdAt = createdAt; self.expiresAt = expiresAt
    }
}

/// One refused federated sign-in, as the console and the API list them.
public struct SSOFailureRecord: Sendable, Encodable {
    public let occurredAt: Timestamp
    public let reason: String
    /// What was wrong in plain words, when the protocol said (SAML refusals do).
    public let detail: String?
    public let requestId: String?
}

/// Why a returning browser's attempt cannot be used; each is a reason code of `sso.signin_failed`.
public enum SSOAttemptRefusal: String, Error, Sendable {
    case unknown = "unknown_state"
    case used = "attempt_replayed"
    case expired = "attempt_expired"
}

/// What federated sign-in keeps between trips and across nodes: attempts (used once), the
/// SAML assertion-ID replay cache, and the links from a provider's subjects to users.
extension Tenant {
    // MARK: - Attempts

    public func startSSOAttempt(_ attempt: SSOAttempt, keys: KeyService) async throws {
        let now = clock()
        // Attempts are short-lived; an hour past expiry they tell nothing more.
        try await sql.raw("""
            DELETE FROM sso_signin_attempts WHERE org_id = \(bind: orgID) AND expires_at < \(bind: now.microseconds - 3_600_000_000)
            """).run()
        let verifier = try await attempt.pkceVerifier.asyncMap {
            try await keys.seal(Data($0.utf8), in: self, table: "sso_signin_attempts", row: attempt.id, column: "pkce_verifier")
        }
        try await sql.raw("""
            INSERT INTO sso_signin_attempts (org_id, id, provider_id, browser_hash, nonce_hash, pkce_verifier, saml_request_id,
                return_to, test_mode, created_at, expires_at)
            VALUES (\(bind: orgID), \(bind: attempt.id), \(bind: attempt.providerID), \(bind: attempt.browserHash),
                \(bind: attempt.nonceHash), \(bind: verifier), \(bind: attempt.samlRequestID), \(bind: attempt.returnTo),
                \(bind: attempt.testMode ? 1 : 0), \(bind: attempt.createdAt.microseconds), \(bind: attempt.expiresAt.microseconds))
            """).run()
    }

    /// Marks the attempt whose state (OIDC) or RelayState (SAML) hashes to `id` used and returns
    /// it, once: a second call, or a call after it expired, is refused.
    public func consumeSSOAttempt(id: String, keys: KeyService) async throws -> Result<SSOAttempt, SSOAttemptRefusal> {
        try await consumeSSOAttempt(where: SQLQueryString("id = ") + "\(bind: id)", keys: keys)
    }

    private func consumeSSOAttempt(where condition: SQLQueryString, keys: KeyService) async throws
        -> Result<SSOAttempt, SSOAttemptRefusal>
    {
        let now = clock()
        let select = SQLQueryString("""
            SELECT id, provider_id, browser_hash, nonce_hash, pkce_verifier, saml_request_id, return_to, test_mode, created_at,
                expires_at, used_at FROM sso_signin_attempts WHERE org_id = 
            """) + "\(bind: orgID)" + " AND " + condition
        guard let found = try await rows(select, { row in
            (SSOAttempt(id: try row.text(0), providerID: try row.text(1), browserHash: try row.text(2),
                        nonceHash: try row.optionalText(3), pkceVerifier: try row.optionalText(4),
                        samlRequestID: try row.optionalText(5), returnTo: try row.optionalText(6),
                        testMode: try row.integer(7) != 0, createdAt: try row.timestamp(8), expiresAt: try row.timestamp(9)),
             try row.optionalInteger(10))
        }).first else { return .failure(.unknown) }
        var (attempt, usedAt) = found
        if usedAt != nil { return .failure(.used) }
        if attempt.expiresAt <= now { return .failure(.expired) }
        // The compare-and-set that makes two concurrent callbacks with one state succeed once.
        let won = try await sql.raw("""
            UPDATE sso_signin_attempts SET used_at = \(bind: now.microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: attempt.id) AND used_at IS NULL RETURNING id
            """).all()
        guard !won.isEmpty else { return .failure(.used) }
        if let sealed = attempt.pkceVerifier {
            let clear = try await keys.open(sealed, in: self, table: "sso_signin_attempts", row: attempt.id, column: "pkce_verifier")
            attempt.pkceVerifier = String(decoding: clear, as: UTF8.self)
        }
        return .success(attempt)
    }

    /// What a test sign-in found (JSON, for the console and `GET …/test/{attemptId}`).
    public func recordSSOTestResult(attemptID: String, result: String) async throws {
        try await sql.raw("""
            UPDATE sso_signin_attempts SET result = \(bind: result) WHERE org_id = \(bind: orgID) AND id = \(bind: attemptID)
            """).run()
    }

    public func ssoTestResult(attemptID: String) async throws -> String? {
        try await row("SELECT result FROM sso_signin_attempts WHERE org_id = ?1 AND id = ?2 AND test_mode = 1",
                      [orgID, attemptID], { try $0.optionalText(0) }) ?? nil
    }

    /// The last finished test of a provider, as `recordSSOTestResult` kept it.
    public func lastSSOTestResult(providerID: String) async throws -> String? {
        try await row("""
            SELECT result FROM sso_signin_attempts WHERE org_id = ?1 AND provider_id = ?2 AND test_mode = 1 AND result IS NOT NULL
            ORDER BY created_at DESC LIMIT 1
            """, [orgID, providerID], { try $0.optionalText(0) }) ?? nil
    }

    /// The provider's last refusals, newest first, from the audit log: when and why.
    public func recentSSOFailures(providerID: String, limit: Int = 10) async throws -> [SSOFailureRecord] {
        try await auditEvents(AuditQuery(action: AuditAction.ssoSigninFailed.rawValue, target: providerID, limit: limit)).items
            .map { event in
                let details = try? JSONDecoder().decode([String: JSONValue].self, from: Data(event.detailsJSON.utf8))
                let reason: String = if case .string(let text)? = details?["reason"] { text } else { "unknown" }
                let detail: String? = if case .string(let text)? = details?["detail"] { text } else { nil }
                return SSOFailureRecord(occurredAt: event.occurredAt, reason: reason, detail: detail, requestId: event.requestID)
            }
    }

    // MARK: - SAML assertion replay cache

    /// Remembers a SAML assertion's ID until `expiresAt` (its NotOnOrAfter plus the allowed
    /// skew); false if that provider's assertion with this ID was already accepted. Expired
    /// entries of the organisation go on the way.
    public func rememberAssertionID(providerID: String, assertionID: String, expiresAt: Timestamp) async throws -> Bool {
        try await sql.raw("""
            DELETE FROM sso_assertion_ids WHERE org_id = \(bind: orgID) AND expires_at < \(bind: clock().microseconds)
            """).run()
        let inserted = try await sql.raw("""
            INSERT INTO sso_assertion_ids (org_id, provider_id, assertion_id, expires_at)
            VALUES (\(bind: orgID), \(bind: providerID), \(bind: assertionID), \(bind: expiresAt.microseconds))
            ON CONFLICT (org_id, provider_id, assertion_id) DO NOTHING RETURNING assertion_id
            """).all()
        return !inserted.isEmpty
    }

    // MARK: - Linked identities

    /// The user a provider's subject is linked to.
    public func linkedUser(providerID: String, subject: String) async throws -> String? {
        try await row("SELECT user_id FROM external_identities WHERE org_id = ?1 AND provider_id = ?2 AND subject = ?3",
                      [orgID, providerID, subject], { try $0.text(0) })
    }

    public func linkExternalIdentity(providerID: String, subject: String, userID: String) async throws {
        let now = clock().microseconds
        try await sql.raw("""
            INSERT INTO external_identities (org_id, provider_id, subject, user_id, synced_groups, created_at, last_signin_at)
            VALUES (\(bind: orgID), \(bind: providerID), \(bind: subject), \(bind: userID), '[]', \(bind: now), \(bind: now))
            """).run()
    }

    /// Makes the user's memberships in the groups this provider manages match `names` (the
    /// groups claim or attribute): groups that match nothing in Rampart are left aside, and
    /// only groups this provider put the user in before are ever left.
    public func syncProviderGroups(providerID: String, subject: String, user: User, names: [String], match: GroupMatch,
                                   by context: AuditContext) async throws {
        var wanted: [String] = []
        for name in Set(names.prefix(500)) {
            let id: String? = switch match {
            case .name: try await group(named: name)?.id
            case .externalId:
                try await row("SELECT group_id FROM scim_groups WHERE org_id = ?1 AND external_id = ?2", [orgID, name],
                              { try $0.text(0) })
            }
            if let id, !wanted.contains(id) { wanted.append(id) }
        }
        let previous = try await row("""
            SELECT synced_groups FROM external_identities WHERE org_id = ?1 AND provider_id = ?2 AND subject = ?3
            """, [orgID, providerID, subject], { try $0.text(0) }).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        let current = Set(try await groupsOf(user: user.id).map(\.id))
        for id in wanted.sorted() where !current.contains(id) { try await addMember(user.id, to: id, by: context) }
        for id in previous.sorted() where !wanted.contains(id) && current.contains(id) {
            try await removeMember(user.id, from: id, by: context)
        }
        try await sql.raw("""
            UPDATE external_identities SET synced_groups = \(bind: Self.json(wanted.sorted())),
                last_signin_at = \(bind: clock().microseconds)
            WHERE org_id = \(bind: orgID) AND provider_id = \(bind: providerID) AND subject = \(bind: subject)
            """).run()
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
