import Foundation
import RampartAuthn
import RampartCore
import SQLKit

/// A TOTP factor as sign-in needs it: the generator (seed opened from its seal) and the last
/// step accepted, below which no code is ever accepted again.
public struct StoredTOTPFactor: Sendable {
    public let factor: Factor
    public let totp: TOTP
    public let lastAcceptedStep: UInt64?
}

/// Second factors and recovery codes.
extension Tenant {
    static let factorTable = "auth_factors"

    /// Starts a TOTP enrolment: the factor is stored pending, its seed sealed with the
    /// organisation's key and bound to this row and column. It becomes usable only through
    /// `activateTOTPFactor` with one valid code.
    public func createPendingTOTPFactor(for userID: String, secret: [UInt8], settings: TOTPFactorSettings, label: String,
                                        keys: KeyService) async throws -> Factor {
        _ = try settings.totp(secret: secret)
        let id = Identifier.make()
        let now = clock()
        let sealed = try await keys.seal(Data(secret), in: self, table: Self.factorTable, row: id, column: "sealed_secret")
        let settingsJSON = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        // A person has at most one pending enrolment: starting again abandons the previous one.
        try await sql.raw("""
            DELETE FROM auth_factors WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)
            AND kind = \(bind: FactorKind.totp.rawValue) AND state = \(bind: FactorState.pending.rawValue)
            """).run()
        try await sql.raw("""
            INSERT INTO auth_factors (org_id, id, user_id, kind, label, state, settings, sealed_secret, last_step, created_at)
            VALUES (\(bind: orgID), \(bind: id), \(bind: userID), \(bind: FactorKind.totp.rawValue), \(bind: label),
                    \(bind: FactorState.pending.rawValue), \(bind: settingsJSON), \(bind: sealed), NULL, \(bind: now.microseconds))
            """).run()
        return Factor(id: id, userID: userID, kind: .totp, label: label, state: .pending, createdAt: now, lastUsedAt: nil)
    }

    public func factors(of userID: String) async throws -> [Factor] {
        try await sql.raw("""
            SELECT id, user_id, kind, label, state, created_at, last_used_at FROM auth_factors
            WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID) ORDER BY id
            """).all().compactMap(Self.factor)
    }

    /// The user's TOTP factor in `state`, with its seed opened.
    public func totpFactor(of userID: String, state: FactorState = .active, keys: KeyService) async throws -> StoredTOTPFactor? {
        guard let row = try await sql.raw("""
            SELECT id, user_id, kind, label, state, created_at, last_used_at, settings, sealed_secret, last_step
            FROM auth_factors WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)
            AND kind = \(bind: FactorKind.totp.rawValue) AND state = \(bind: state.rawValue) ORDER BY id DESC
            """).first(), let factor = try Self.factor(row), let sealed = try row.optionalString("sealed_secret")
        else { return nil }
        let settings = try JSONDecoder().decode(TOTPFactorSettings.self, from: Data(try row.string("settings").utf8))
        let secret = try await keys.open(sealed, in: self, table: Self.factorTable, row: factor.id, column: "sealed_secret")
        let last = try row.decode(column: "last_step", as: Int64?.self).map { UInt64($0) }
        return StoredTOTPFactor(factor: factor, totp: try settings.totp(secret: Array(secret)), lastAcceptedStep: last)
    }

    /// Records `step` as the last accepted one, only if it is later than the stored one.
    /// The condition and the write are one statement, so of two concurrent sign-ins with
    /// the same code exactly one sees `true`.
    public func advanceTOTPStep(factorID: String, to step: UInt64) async throws -> Bool {
        let now = clock()
        return try await sql.raw("""
            UPDATE auth_factors SET last_step = \(bind: Int64(step)), last_used_at = \(bind: now.microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: factorID)
            AND (last_step IS NULL OR last_step < \(bind: Int64(step))) RETURNING id
            """).first() != nil
    }

    /// Completes an enrolment once the person has entered a valid code for `step`: the
    /// pending factor becomes the active one, replacing any previous TOTP factor.
    public func activateTOTPFactor(_ factor: Factor, acceptedStep step: UInt64, by context: AuditContext, user: User)
        async throws -> Bool {
        guard try await advanceTOTPStep(factorID: factor.id, to: step) else { return false }
        try await sql.raw("""
            DELETE FROM auth_factors WHERE org_id = \(bind: orgID) AND user_id = \(bind: factor.userID)
            AND kind = \(bind: FactorKind.totp.rawValue) AND id <> \(bind: factor.id)
            """).run()
        try await sql.raw("""
            UPDATE auth_factors SET state = \(bind: FactorState.active.rawValue)
            WHERE org_id = \(bind: orgID) AND id = \(bind: factor.id)
            """).run()
        let details = AuditDetails(["factor_id": .string(factor.id), "kind": .string(factor.kind.rawValue)])
        try await appendAudit([context.record(.mfaFactorEnrolled, [.user(user)], details: details, at: clock())])
        return true
    }

    /// Replaces the user's recovery codes with a new set (only hashes are stored).
    public func replaceRecoveryCodes(for user: User, hashes: [String], by context: AuditContext) async throws {
        let now = clock()
        try await sql.raw("DELETE FROM recovery_codes WHERE org_id = \(bind: orgID) AND user_id = \(bind: user.id)").run()
        for hash in hashes {
            try await sql.raw("""
                INSERT INTO recovery_codes (org_id, user_id, code_hash, created_at)
                VALUES (\(bind: orgID), \(bind: user.id), \(bind: hash), \(bind: now.microseconds))
                """).run()
        }
        try await appendAudit([context.record(.mfaRecoveryCodesGenerated, [.user(user)],
                                              details: AuditDetails(["count": .int(Int64(hashes.count))]), at: now)])
    }

    /// Spends a recovery code: true only for the one caller that marks it used.
    public func consumeRecoveryCode(of userID: String, presented: String) async throws -> Bool {
        guard RecoveryCodes.isWellFormed(presented) else { return false }
        return try await sql.raw("""
            UPDATE recovery_codes SET used_at = \(bind: clock().microseconds)
            WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)
            AND code_hash = \(bind: RecoveryCodes.hash(presented)) AND used_at IS NULL RETURNING code_hash
            """).first() != nil
    }

    public func unusedRecoveryCodeCount(of userID: String) async throws -> Int {
        let row = try await sql.raw("""
            SELECT COUNT(*) AS n FROM recovery_codes WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)
            AND used_at IS NULL
            """).first()
        return Int(try row?.int("n") ?? 0)
    }

    private static func factor(_ row: any SQLRow) throws -> Factor? {
        guard let kind = FactorKind(rawValue: try row.string("kind")),
              let state = FactorState(rawValue: try row.string("state")) else { return nil }
        return Factor(id: try row.string("id"), userID: try row.string("user_id"), kind: kind, label: try row.string("label"),
                      state: state, createdAt: try row.timestamp("created_at"), lastUsedAt: try row.optionalTimestamp("last_used_at"))
    }
}

/// The MFA enrolment grace period starts when MFA first applies to a person without a factor.
extension Tenant {
    /// When the person's grace period started, starting it now if it had not.
    public func mfaGraceStart(for userID: String) async throws -> Timestamp {
        try await sql.raw("""
            INSERT INTO mfa_grace (org_id, user_id, started_at) VALUES (\(bind: orgID), \(bind: userID), \(bind: clock().microseconds))
            ON CONFLICT (org_id, user_id) DO NOTHING
            """).run()
        return try await sql.raw("SELECT started_at FROM mfa_grace WHERE org_id = \(bind: orgID) AND user_id = \(bind: userID)")
            .first()!.timestamp("started_at")
    }
}
