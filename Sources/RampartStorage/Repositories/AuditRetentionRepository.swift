import Foundation
import RampartCore
import SQLKit

/// Retention of the audit log: the organisation's setting, its legal hold, and the purge.
///
/// A purge removes the oldest events up to a signed checkpoint, never further: the log that
/// remains verifies from that checkpoint's head (checked against its signature), and the
/// `audit.purged` event it appends names the checkpoint, so events removed any other way still
/// show. It never removes what a log stream has not sent yet, nor what a dead letter holds.
///
/// Once the Merkle tree exists, a purge goes only through a checkpoint that keeps the tree's
/// frontier, and that row stays: the frontier is all that proofs of the retained events need
/// of the purged prefix, so the stored block roots inside the prefix go with its events.
extension Tenant {
    public func auditRetention() async throws -> AuditRetention {
        try await sql.raw("""
            SELECT retention_days, legal_hold, legal_hold_reason, legal_hold_since, purged_through_seq, purged_through_hash,
            last_purge_at FROM audit_retention WHERE org_id = \(bind: orgID)
            """).first().map { row in
            AuditRetention(retentionDays: Int(try row.int("retention_days")), legalHold: try row.int("legal_hold") != 0,
                           legalHoldReason: try row.decode(column: "legal_hold_reason", as: String?.self),
                           legalHoldSince: try row.decode(column: "legal_hold_since", as: Int64?.self).map(Timestamp.init(microseconds:)),
                           purgedThrough: ChainHead(sequence: try row.int("purged_through_seq"),
                                                    hash: try row.string("purged_through_hash")),
                           lastPurgeAt: try row.decode(column: "last_purge_at", as: Int64?.self).map(Timestamp.init(microseconds:)))
        } ?? AuditRetention()
    }

    /// Changes what is given (nil leaves it); a hold's reason is required when the hold is
    /// placed. Writes `audit.retention_changed` with before and after.
    public func updateAuditRetention(days: Int?, legalHold: Bool?, legalHoldReason: String?,
                                     by context: AuditContext) async throws -> AuditRetention {
        let before = try await auditRetention()
        var after = before
        if let days {
            guard AuditRetention.allowedDays.contains(days) else {
                throw RampartError.invalidField("retentionDays", """
                    must be between \(AuditRetention.allowedDays.lowerBound) and \(AuditRetention.allowedDays.upperBound) days
                    """)
            }
            after.retentionDays = days
        }
        let reason = legalHoldReason?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let reason, reason.count > AuditRetention.maximumReasonLength {
            throw RampartError.invalidField("legalHoldReason", "is at most \(AuditRetention.maximumReasonLength) characters")
        }
        if let legalHold, legalHold != before.legalHold {
            after.legalHold = legalHold
            after.legalHoldSince = legalHold ? clock() : nil
            after.legalHoldReason = legalHold ? reason : nil
        } else if after.legalHold, let reason {
            after.legalHoldReason = reason
        }
        if after.legalHold, (after.legalHoldReason ?? "").isEmpty {
            throw RampartError.invalidField("legalHoldReason", "is required for a legal hold: give a case or matter reference")
        }
        guard after != before else { return before }
        try await saveAuditRetention(after)
        var details = AuditDetails()
        if after.retentionDays != before.retentionDays {
            details.change("retentionDays", from: .int(Int64(before.retentionDays)), to: .int(Int64(after.retentionDays)))
        }
        if after.legalHold != before.legalHold { details.change("legalHold", from: .bool(before.legalHold), to: .bool(after.legalHold)) }
        if after.legalHoldReason != before.legalHoldReason {
            details.change("legalHoldReason", from: before.legalHoldReason.map(JSONValue.string) ?? .null,
                           to: after.legalHoldReason.map(JSONValue.string) ?? .null)
        }
        try await appendAudit([context.record(.auditRetentionChanged, [], details: details)])
        return after
    }

    /// Purges the events older than the retention, through the newest signed checkpoint that
    /// none of the kept events precede and that every log stream has sent; nil when there is
    /// nothing to purge, or a legal hold is in place.
    public func purgeExpiredAudit(by context: AuditContext) async throws -> AuditPurge? {
        var retention = try await auditRetention()
        guard !retention.legalHold else { return nil }
        let head = try await lockedHead()
        let purged = retention.purgedThrough.sequence
        let cutoff = retention.cutoff(now: clock())
        // The first event still within the retention bounds what may go: events are kept
        // from it on, even if an older one follows it (a product may send events late).
        var limit = head.sequence
        if let young = try await optionalInteger("""
            SELECT MIN(seq) AS v FROM audit_events WHERE org_id = \(bind: orgID) AND seq > \(bind: purged)
            AND occurred_at >= \(bind: cutoff.microseconds)
            """) { limit = min(limit, young - 1) }
        if let unsent = try await optionalInteger("SELECT MIN(cursor) AS v FROM log_streams WHERE org_id = \(bind: orgID)") {
            limit = min(limit, unsent)
        }
        // A dead letter is replayed from the log: its events stay until it is replayed or discarded.
        if let held = try await optionalInteger("""
            SELECT MIN(first_seq) AS v FROM log_stream_dead_letters WHERE org_id = \(bind: orgID)
            """) { limit = min(limit, held - 1) }
        let treeStarted = try await optionalInteger("""
            SELECT MAX(seq) AS v FROM audit_checkpoints WHERE org_id = \(bind: orgID) AND tree_frontier IS NOT NULL
            """) != nil
        var through = SQLQueryString("""
            SELECT seq, head_hash FROM audit_checkpoints WHERE org_id = \(bind: orgID) AND seq > \(bind: purged)
            AND seq <= \(bind: limit)
            """)
        if treeStarted { through = through + " AND tree_frontier IS NOT NULL" }
        guard limit > purged, let checkpoint = try await sql.raw(through + " ORDER BY seq DESC LIMIT 1").first()
            .map({ ChainHead(sequence: try $0.int("seq"), hash: try $0.string("head_hash")) })
        else { return nil }
        try await sql.raw("""
            DELETE FROM audit_event_targets WHERE org_id = \(bind: orgID)
            AND block <= \(bind: AuditBlocks.block(of: checkpoint.sequence)) AND seq <= \(bind: checkpoint.sequence)
            """).run()
        // A range ends where its batch did, and a checkpoint is signed at the head between
        // appends, so no range reaches across the checkpoint.
        try await sql.raw("""
            DELETE FROM audit_target_ranges WHERE org_id = \(bind: orgID)
            AND block <= \(bind: AuditBlocks.block(of: checkpoint.sequence)) AND last_seq <= \(bind: checkpoint.sequence)
            """).run()
        try await sql.raw("DELETE FROM audit_events WHERE org_id = \(bind: orgID) AND seq <= \(bind: checkpoint.sequence)").run()
        try await sql.raw("""
            DELETE FROM audit_tree_nodes WHERE org_id = \(bind: orgID) AND level = \(bind: MerkleProofBuilder.blockHeight)
            AND idx < \(bind: checkpoint.sequence / MerkleProofBuilder.blockSize)
            """).run()
        retention.purgedThrough = checkpoint
        retention.lastPurgeAt = clock()
        try await saveAuditRetention(retention)
        // Sequence numbers have no gaps (`appendAudit`), so the range is the count.
        let purge = AuditPurge(firstSequence: purged + 1, throughSequence: checkpoint.sequence,
                               events: checkpoint.sequence - purged, checkpoint: checkpoint)
        try await appendAudit([context.record(.auditPurged, [], details: AuditDetails([
            "firstSequence": .int(purge.firstSequence), "throughSequence": .int(purge.throughSequence),
            "events": .int(purge.events), "retentionDays": .int(Int64(retention.retentionDays)),
            "checkpointHash": .string(checkpoint.hash),
        ]))])
        return purge
    }

    private func saveAuditRetention(_ r: AuditRetention) async throws {
        try await sql.raw("""
            INSERT INTO audit_retention (org_id, retention_days, legal_hold, legal_hold_reason, legal_hold_since,
                purged_through_seq, purged_through_hash, last_purge_at, updated_at)
            VALUES (\(bind: orgID), \(bind: r.retentionDays), \(bind: r.legalHold ? 1 : 0), \(bind: r.legalHoldReason),
                \(bind: r.legalHoldSince?.microseconds), \(bind: r.purgedThrough.sequence), \(bind: r.purgedThrough.hash),
                \(bind: r.lastPurgeAt?.microseconds), \(bind: clock().microseconds))
            ON CONFLICT (org_id) DO UPDATE SET retention_days = excluded.retention_days, legal_hold = excluded.legal_hold,
                legal_hold_reason = excluded.legal_hold_reason, legal_hold_since = excluded.legal_hold_since,
                purged_through_seq = excluded.purged_through_seq, purged_through_hash = excluded.purged_through_hash,
                last_purge_at = excluded.last_purge_at, updated_at = excluded.updated_at
            """).run()
    }

    /// A single integer answer named `v`, nil when it is NULL.
    private func optionalInteger(_ query: SQLQueryString) async throws -> Int64? {
        guard let row = try await sql.raw(query).first(), try !row.decodeNil(column: "v") else { return nil }
        return try row.int("v")
    }
}

/// What an export of the whole log covers, read in one transaction: the events after `start`
/// (where a purge left the log) up to `head`, and for a bundle the signed checkpoints from
/// `start` on, oldest first, so that the bundle verifies on its own.
public struct AuditExportScope: Sendable {
    public let start: Int64
    public let head: Int64
    public let checkpoints: [AuditCheckpoint]
}

extension Tenant {
    public func auditExportScope(withCheckpoints: Bool) async throws -> AuditExportScope {
        let start = try await auditRetention().purgedThrough.sequence
        let head = try await auditHead().sequence
        guard withCheckpoints else { return AuditExportScope(start: start, head: head, checkpoints: []) }
        let checkpoints = try await auditCheckpoints(after: start - 1, through: head)
        return AuditExportScope(start: start, head: head, checkpoints: checkpoints)
    }
}
