import Foundation
import RampartCore
import SQLKit

/// Audit export jobs and their output (`AuditExportJob`, migrations 20 and 21). A job is claimed by one
/// node through its lease; every page it writes moves its progress and adds its output in the
/// same transaction, guarded by the lease, so a node that lost the job writes nothing more.
extension Tenant {
    /// Queues a job for the log as it is now, its own `audit.export_requested` event included,
    /// so an export streamed right after it holds the same events.
    public func createAuditExport(format: String, filter: AuditExportFilter,
                                  by context: AuditContext) async throws -> AuditExportJob {
        let now = clock()
        var job = AuditExportJob(id: Identifier.make(), format: format, filter: filter, status: .queued,
                                 startSequence: try await auditRetention().purgedThrough.sequence, headSequence: 0,
                                 createdAt: now, expiresAt: now.adding(seconds: AuditExportJob.lifetimeSeconds))
        try await appendAudit([context.record(.auditExportRequested, [.auditExport(job)], details: Self.details(job))])
        job.headSequence = try await auditHead().sequence
        try await sql.raw("""
            INSERT INTO audit_exports (org_id, id, format, filter_action, filter_actor, filter_target, filter_since,
                filter_until, filter_q, status, start_seq, head_seq, created_at, expires_at)
            VALUES (\(bind: orgID), \(bind: job.id), \(bind: format), \(bind: filter.action), \(bind: filter.actor),
                \(bind: filter.target), \(bind: filter.since?.microseconds), \(bind: filter.until?.microseconds),
                \(bind: filter.search?.text),
                \(bind: job.status.rawValue), \(bind: job.startSequence), \(bind: job.headSequence),
                \(bind: now.microseconds), \(bind: job.expiresAt.microseconds))
            """).run()
        return job
    }

    /// The jobs not yet expired, newest first.
    public func auditExports(limit: Int = 20) async throws -> [AuditExportJob] {
        try await rows("""
            SELECT \(unsafeRaw: Self.auditExportColumns) FROM audit_exports
            WHERE org_id = \(bind: orgID) AND expires_at > \(bind: clock().microseconds)
            ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
            """, Self.decodeAuditExport)
    }

    public func requireAuditExport(_ id: String) async throws -> AuditExportJob {
        guard let id = Identifier.canonical(id), let job = try await rows("""
            SELECT \(unsafeRaw: Self.auditExportColumns) FROM audit_exports
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND expires_at > \(bind: clock().microseconds)
            """, Self.decodeAuditExport).first
        else { throw RampartError.notFound("Audit export") }
        return job
    }

    /// One piece of a finished job's output, in order from 0 (`AuditExportJob.chunks` of them).
    public func auditExportChunk(_ id: String, index: Int64) async throws -> [UInt8] {
        guard let text = try await rows("""
            SELECT bytes FROM audit_export_chunks WHERE org_id = \(bind: orgID) AND export_id = \(bind: id) AND chunk = \(bind: index)
            """, { try $0.text(0) }).first, let bytes = Data(base64Encoded: text)
        else { throw RampartError.notFound("Audit export") }
        return Array(bytes)
    }

    /// Removes a job, running or not, with its output; a node still running it stops at its next page.
    public func deleteAuditExport(_ id: String, by context: AuditContext) async throws -> AuditExportJob {
        let job = try await requireAuditExport(id)
        try await removeAuditExports(where: "id = \(bind: job.id)")
        try await appendAudit([context.record(.auditExportDeleted, [.auditExport(job)],
                                              details: AuditDetails(["status": .string(job.status.rawValue)]))])
        return job
    }

    /// Removes the jobs past their 24 hours, with their output; returns how many. Housekeeping
    /// of copies, not a change to the log, so it writes no event.
    @discardableResult
    public func purgeExpiredAuditExports() async throws -> Int {
        let now = clock().microseconds
        let expired = try await rows("""
            SELECT id FROM audit_exports WHERE org_id = \(bind: orgID) AND expires_at <= \(bind: now)
            """, { try $0.text(0) })
        if !expired.isEmpty { try await removeAuditExports(where: "expires_at <= \(bind: now)") }
        return expired.count
    }

    private func removeAuditExports(where condition: SQLQueryString) async throws {
        let chunks: SQLQueryString = "DELETE FROM audit_export_chunks WHERE org_id = \(bind: orgID) AND export_id IN (SELECT id FROM audit_exports WHERE org_id = \(bind: orgID) AND "
        try await sql.raw(chunks + condition + ")").run()
        try await sql.raw("DELETE FROM audit_exports WHERE org_id = \(bind: orgID) AND " + condition).run()
    }

    // MARK: Running

    /// The jobs waiting for a node: queued, or running under a lease that ran out (its node stopped).
    public func dueAuditExports() async throws -> [String] {
        let now = clock().microseconds
        return try await rows("""
            SELECT id FROM audit_exports WHERE org_id = \(bind: orgID) AND expires_at > \(bind: now)
            AND (status = 'queued' OR (status = 'running' AND lease_until < \(bind: now)))
            ORDER BY created_at, id
            """, { try $0.text(0) })
    }

    /// Takes a due job for `owner` until `until` and starts it over: the output of an
    /// interrupted run is dropped. Nil when it is not due (another node holds it, or it ended);
    /// a job interrupted `maximumAttempts` times is failed instead.
    public func claimAuditExport(_ id: String, owner: String, until: Timestamp) async throws -> AuditExportJob? {
        let now = clock().microseconds
        guard try await sql.raw("""
            UPDATE audit_exports SET status = 'running', lease_owner = \(bind: owner), lease_until = \(bind: until.microseconds),
            attempts = attempts + 1, events_read = 0, events_written = 0, byte_count = 0, chunks = 0, error = NULL,
            started_at = \(bind: now)
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND expires_at > \(bind: now)
            AND (status = 'queued' OR (status = 'running' AND lease_until < \(bind: now)))
            RETURNING id
            """).first() != nil else { return nil }
        try await sql.raw("DELETE FROM audit_export_chunks WHERE org_id = \(bind: orgID) AND export_id = \(bind: id)").run()
        let job = try await requireAuditExport(id)
        guard job.attempts <= AuditExportJob.maximumAttempts else {
            try await failAuditExport(id, owner: owner, error: "The export was interrupted \(job.attempts - 1) times; request it again.")
            return nil
        }
        return job
    }

    /// Adds a page's output and progress, and renews the lease; `done` ends the job. False when
    /// `owner` no longer holds it (deleted, or taken over after its lease ran out): stop.
    public func recordAuditExportProgress(_ id: String, owner: String, until: Timestamp, eventsRead: Int64,
                                          eventsWritten: Int64, output: [[UInt8]], done: Bool) async throws -> Bool {
        let bytes = Int64(output.reduce(0) { $0 + $1.count })
        let finished: Int64? = done ? clock().microseconds : nil
        guard let row = try await sql.raw("""
            UPDATE audit_exports SET events_read = \(bind: eventsRead), events_written = \(bind: eventsWritten),
            byte_count = byte_count + \(bind: bytes), chunks = chunks + \(bind: Int64(output.count)),
            lease_until = \(bind: until.microseconds), status = \(bind: done ? "done" : "running"),
            finished_at = \(bind: finished)
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND status = 'running' AND lease_owner = \(bind: owner)
            RETURNING chunks
            """).first() else { return false }
        let first = try row.decode(column: "chunks", as: Int64.self) - Int64(output.count)
        for (offset, piece) in output.enumerated() {
            try await sql.raw("""
                INSERT INTO audit_export_chunks (org_id, export_id, chunk, bytes)
                VALUES (\(bind: orgID), \(bind: id), \(bind: first + Int64(offset)), \(bind: Data(piece).base64EncodedString()))
                """).run()
        }
        return true
    }

    /// A node that stops hands its run back: the job is due again at once, for any node to start over.
    public func releaseAuditExport(_ id: String, owner: String) async throws {
        try await sql.raw("""
            UPDATE audit_exports SET lease_until = 0
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND status = 'running' AND lease_owner = \(bind: owner)
            """).run()
    }

    /// The run failed; the reason is shown with the job (never with personal data: it is the
    /// runner's own message).
    public func failAuditExport(_ id: String, owner: String, error: String) async throws {
        try await sql.raw("""
            UPDATE audit_exports SET status = 'failed', error = \(bind: String(error.prefix(500))),
            finished_at = \(bind: clock().microseconds), lease_until = NULL
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND lease_owner = \(bind: owner)
            """).run()
    }

    private static func details(_ job: AuditExportJob) -> AuditDetails {
        var details = AuditDetails(["format": .string(job.format)])
        let filter = job.filter
        let fields: [(String, String?)] = [("action", filter.action), ("actor", filter.actor), ("target", filter.target),
                                           ("since", filter.since?.rfc3339), ("until", filter.until?.rfc3339)]
        for (name, value) in fields { if let value { details[name] = .string(value) } }
        // How many words, not which: they may name a person, and an event's details are never erased.
        if let search = filter.search { details["searchWords"] = .int(Int64(search.words.count)) }
        return details
    }

    static let auditExportColumns = """
        id, format, filter_action, filter_actor, filter_target, filter_since, filter_until, status, start_seq, head_seq, \
        events_read, events_written, byte_count, chunks, attempts, error, created_at, started_at, finished_at, expires_at, \
        filter_q
        """

    static func decodeAuditExport(_ row: any ColumnReader) throws -> AuditExportJob {
        guard let status = AuditExportJob.Status(rawValue: try row.text(7)) else {
            throw RampartError(.internalError, "Unknown audit export status.")
        }
        let filter = AuditExportFilter(action: try row.optionalText(2), actor: try row.optionalText(3),
                                           target: try row.optionalText(4), since: try row.optionalTimestamp(5),
                                           until: try row.optionalTimestamp(6),
                                           search: try row.optionalText(20).flatMap { try AuditSearchText($0) })
        return AuditExportJob(id: try row.text(0), format: try row.text(1), filter: filter, status: status,
                              startSequence: try row.integer(8), headSequence: try row.integer(9), eventsRead: try row.integer(10),
                              eventsWritten: try row.integer(11), byteCount: try row.integer(12), chunks: try row.integer(13),
                              attempts: try row.integer(14), error: try row.optionalText(15), createdAt: try row.timestamp(16),
                              startedAt: try row.optionalTimestamp(17), finishedAt: try row.optionalTimestamp(18),
                              expiresAt: try row.timestamp(19))
    }
}
