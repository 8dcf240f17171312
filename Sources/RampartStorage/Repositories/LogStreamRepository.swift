import Crypto
import Foundation
import RampartCore
import SQLKit

extension Tenant {
    public func createLogStream(name rawName: String, kind: LogStreamKind, endpoint rawEndpoint: String,
                                caCertificate: String?, start: LogStreamStart, by context: AuditContext) async throws -> LogStream {
        let name = try Validate.name(rawName, field: "name")
        let endpoint = try Validate.endpoint(rawEndpoint)
        try await ensureLogStreamNameFree(name)
        let now = clock()
        let cursor: Int64
        switch start {
        // The head before this stream's own creation event, which is so the first it sends.
        case .now: cursor = try await auditHead().sequence
        case .beginning: cursor = 0
        case .since(let time):
            cursor = try await row("""
                SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE org_id = ?1 AND occurred_at < CAST(?2 AS BIGINT)
                """, [orgID, String(time.microseconds)]) { try $0.integer(0) } ?? 0
        }
        let stream = LogStream(id: Identifier.make(), name: name, kind: kind, endpoint: endpoint, caCertificate: caCertificate,
                               status: .active, cursor: cursor, createdAt: now)
        try await sql.raw("""
            INSERT INTO log_streams (org_id, id, name, name_key, kind, endpoint, ca_certificate, status, cursor, created_at, failures)
            VALUES (\(bind: orgID), \(bind: stream.id), \(bind: name), \(bind: name.lowercased()), \(bind: kind.rawValue),
                    \(bind: endpoint), \(bind: caCertificate), \(bind: stream.status.rawValue), \(bind: cursor),
                    \(bind: now.microseconds), 0)
            """).run()
        let details = AuditDetails(["kind": .string(kind.rawValue), "endpoint": .string(endpoint),
                                    "startsAfterSequence": .int(cursor)])
        try await appendAudit([context.record(.logStreamCreated, [.logStream(stream)], details: details, at: now)])
        return stream
    }

    public func logStreams() async throws -> [LogStream] {
        try await rows("SELECT \(Self.logStreamColumns) FROM log_streams WHERE org_id = ?1 ORDER BY name_key, id",
                       [orgID], Self.decodeLogStream)
    }

    public func requireLogStream(_ id: String) async throws -> LogStream {
        guard let id = Identifier.canonical(id),
              let stream = try await row("SELECT \(Self.logStreamColumns) FROM log_streams WHERE org_id = ?1 AND id = ?2",
                                         [orgID, id], Self.decodeLogStream)
        else { throw RampartError.notFound("Log stream") }
        return stream
    }

    /// Changes what was given; a new endpoint or CA takes effect at the next connection.
    public func updateLogStream(_ id: String, name rawName: String?, endpoint rawEndpoint: String?,
                                caCertificate trust: LogStreamTrust, status: LogStreamStatus?, by context: AuditContext) async throws -> LogStream {
        var stream = try await requireLogStream(id)
        var details = AuditDetails()
        if let rawName {
            let name = try Validate.name(rawName, field: "name")
            if name.lowercased() != stream.name.lowercased() { try await ensureLogStreamNameFree(name) }
            details.change("name", from: .string(stream.name), to: .string(name))
            stream.name = name
        }
        if let rawEndpoint {
            let endpoint = try Validate.endpoint(rawEndpoint)
            details.change("endpoint", from: .string(stream.endpoint), to: .string(endpoint))
            stream.endpoint = endpoint
        }
        if let caCertificate = trust.change, caCertificate != stream.caCertificate {
            details.change("caCertificate", from: .string(Self.trustLabel(stream.caCertificate)),
                           to: .string(Self.trustLabel(caCertificate)))
            stream.caCertificate = caCertificate
        }
        if let status {
            details.change("status", from: .string(stream.status.rawValue), to: .string(status.rawValue))
            stream.status = status
        }
        guard details.hasChanges else { return stream }
        try await sql.raw("""
            UPDATE log_streams SET name = \(bind: stream.name), name_key = \(bind: stream.name.lowercased()),
            endpoint = \(bind: stream.endpoint), ca_certificate = \(bind: stream.caCertificate), status = \(bind: stream.status.rawValue),
            failures = 0, next_attempt_at = NULL
            WHERE org_id = \(bind: orgID) AND id = \(bind: stream.id)
            """).run()
        try await appendAudit([context.record(.logStreamUpdated, [.logStream(stream)], details: details)])
        return stream
    }

    public func deleteLogStream(_ id: String, by context: AuditContext) async throws {
        let stream = try await requireLogStream(id)
        try await sql.raw("DELETE FROM log_streams WHERE org_id = \(bind: orgID) AND id = \(bind: stream.id)").run()
        try await appendAudit([context.record(.logStreamDeleted, [.logStream(stream)])])
    }

    // MARK: Sending

    /// Takes or renews the lease on an active stream that is due, for `owner` until `until`;
    /// nil when the stream is paused, not due, gone, or leased by another node.
    public func leaseLogStream(_ id: String, owner: String, until: Timestamp) async throws -> LogStream? {
        let now = clock().microseconds
        let leased = try await sql.raw("""
            UPDATE log_streams SET lease_owner = \(bind: owner), lease_until = \(bind: until.microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND status = 'active'
            AND (next_attempt_at IS NULL OR next_attempt_at <= \(bind: now))
            AND (lease_owner IS NULL OR lease_owner = \(bind: owner) OR lease_until < \(bind: now))
            RETURNING id
            """).first()
        return leased == nil ? nil : try await requireLogStream(id)
    }

    /// The receiver took every event up to `cursor`. A node that lost its lease moves nothing.
    public func logStreamDelivered(_ id: String, owner: String, cursor: Int64) async throws {
        try await sql.raw("""
            UPDATE log_streams SET cursor = \(bind: cursor), last_success_at = \(bind: clock().microseconds),
            failures = 0, next_attempt_at = NULL
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND lease_owner = \(bind: owner) AND cursor < \(bind: cursor)
            """).run()
    }

    /// A failed attempt: the cursor stays, and the stream waits until `retryAt`.
    public func logStreamFailed(_ id: String, owner: String, error: String, retryAt: Timestamp) async throws {
        try await sql.raw("""
            UPDATE log_streams SET last_error = \(bind: String(error.prefix(500))), last_error_at = \(bind: clock().microseconds),
            failures = failures + 1, next_attempt_at = \(bind: retryAt.microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND lease_owner = \(bind: owner)
            """).run()
    }

    /// What the audit event says of a stream's trusted certificates: the system's roots, or
    /// the SHA-256 of the PEM text (the certificates are public, but long).
    static func trustLabel(_ pem: String?) -> String {
        guard let pem else { return "system roots" }
        return "PEM sha256:" + SHA256.hash(data: Array(pem.utf8)).map { String(format: "%02x", $0) }.joined().prefix(16)
    }

    private func ensureLogStreamNameFree(_ name: String) async throws {
        if try await row("SELECT id FROM log_streams WHERE org_id = ?1 AND name_key = ?2", [orgID, name.lowercased()],
                         { try $0.text(0) }) != nil {
            throw RampartError(.conflict, "A log stream with this name already exists.", field: "name")
        }
    }

    static let logStreamColumns = """
        id, name, kind, endpoint, ca_certificate, status, cursor, created_at, last_success_at, last_error, last_error_at, \
        failures, next_attempt_at
        """

    static func decodeLogStream(_ row: any ColumnReader) throws -> LogStream {
        guard let kind = LogStreamKind(rawValue: try row.text(2)), let status = LogStreamStatus(rawValue: try row.text(5)) else {
            throw RampartError(.integrity, "A log stream has a kind or status this version does not know.")
        }
        return LogStream(id: try row.text(0), name: try row.text(1), kind: kind, endpoint: try row.text(3),
                         caCertificate: try row.optionalText(4), status: status, cursor: try row.integer(6),
                         createdAt: try row.timestamp(7), lastSuccessAt: try row.optionalTimestamp(8),
                         lastError: try row.optionalText(9), lastErrorAt: try row.optionalTimestamp(10),
                         failures: try row.integer(11), nextAttemptAt: try row.optionalTimestamp(12))
    }
}
