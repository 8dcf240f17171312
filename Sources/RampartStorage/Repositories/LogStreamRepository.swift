import Crypto
import Foundation
import RampartCore
import SQLKit

extension Tenant {
    /// A new stream of `fields` (checked against the kind). A webhook given no secret gets one
    /// made here; `secret` in the answer is that generated secret, shown once, and nil otherwise.
    public func createLogStream(name rawName: String, kind: LogStreamKind, fields: LogStreamFields, caCertificate: String?,
                                start: LogStreamStart, keys: KeyService,
                                by context: AuditContext) async throws -> (stream: LogStream, secret: String?) {
        let name = try Validate.name(rawName, field: "name")
        let now = clock()
        let blank = LogStream(id: Identifier.make(), name: name, kind: kind, endpoint: "", format: kind.formats[0],
                              caCertificate: caCertificate, status: .active, cursor: 0, createdAt: now)
        let (checked, given) = try fields.checked(for: blank)
        var stream = checked
        let generated = kind == .webhook && given == nil ? LogStreamFields.generatedWebhookSecret() : nil
        let secret = given ?? generated
        try LogStreamFields.requireComplete(stream, hasSecret: secret != nil)
        stream.hasSecret = secret != nil
        try await ensureLogStreamNameFree(name)
        switch start {
        // The head before this stream's own creation event, which is so the first it sends.
        case .now: stream.cursor = try await auditHead().sequence
        case .beginning: stream.cursor = 0
        case .since(let time):
            stream.cursor = try await row("""
                SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE org_id = ?1 AND occurred_at < CAST(?2 AS BIGINT)
                """, [orgID, String(time.microseconds)]) { try $0.integer(0) } ?? 0
        }
        var sealed: String?
        if let secret { sealed = try await sealLogStreamSecret(secret, stream: stream.id, keys: keys) }
        try await sql.raw("""
            INSERT INTO log_streams (org_id, id, name, name_key, kind, endpoint, ca_certificate, status, cursor, created_at, failures,
                                     format, settings, sealed_secret, dead_letter_after, personal_data, checkpoint_cursor)
            VALUES (\(bind: orgID), \(bind: stream.id), \(bind: name), \(bind: name.lowercased()), \(bind: kind.rawValue),
                    \(bind: stream.endpoint), \(bind: caCertificate), \(bind: stream.status.rawValue), \(bind: stream.cursor),
                    \(bind: now.microseconds), 0, \(bind: stream.format.rawValue), \(bind: try Self.encodeTarget(stream.target)),
                    \(bind: sealed), \(bind: stream.deadLetterAfter), \(bind: stream.personalData.rawValue),
                    \(bind: stream.cursor))
            """).run()
        var details = AuditDetails(["kind": .string(kind.rawValue), "endpoint": .string(stream.endpoint),
                                    "format": .string(stream.format.rawValue), "startsAfterSequence": .int(stream.cursor),
                                    "deadLetterAfter": .int(stream.deadLetterAfter),
                                    "personalData": .string(stream.personalData.rawValue)])
        for (name, value) in stream.target.named { details[name] = .string(value) }
        try await appendAudit([context.record(.logStreamCreated, [.logStream(stream)], details: details, at: now)])
        return (stream, generated)
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

    /// Changes what was given; new settings take effect at the next batch. A new secret is
    /// sealed in place of the old one, and the event says only that it changed.
    public func updateLogStream(_ id: String, name rawName: String?, fields: LogStreamFields = LogStreamFields(),
                                caCertificate trust: LogStreamTrust, status: LogStreamStatus?, keys: KeyService,
                                by context: AuditContext) async throws -> LogStream {
        let before = try await requireLogStream(id)
        let (checked, secret) = try fields.checked(for: before)
        try LogStreamFields.requireComplete(checked, hasSecret: before.hasSecret || secret != nil)
        var stream = checked
        var details = AuditDetails()
        if let rawName {
            let name = try Validate.name(rawName, field: "name")
            if name.lowercased() != stream.name.lowercased() { try await ensureLogStreamNameFree(name) }
            details.change("name", from: .string(stream.name), to: .string(name))
            stream.name = name
        }
        if stream.endpoint != before.endpoint {
            details.change("endpoint", from: .string(before.endpoint), to: .string(stream.endpoint))
        }
        if stream.format != before.format {
            details.change("format", from: .string(before.format.rawValue), to: .string(stream.format.rawValue))
        }
        if stream.personalData != before.personalData {
            details.change("personalData", from: .string(before.personalData.rawValue), to: .string(stream.personalData.rawValue))
        }
        if stream.deadLetterAfter != before.deadLetterAfter {
            details.change("deadLetterAfter", from: .int(before.deadLetterAfter), to: .int(stream.deadLetterAfter))
        }
        let old = Dictionary(uniqueKeysWithValues: before.target.named)
        let new = Dictionary(uniqueKeysWithValues: stream.target.named)
        for key in Set(old.keys).union(new.keys).sorted() where old[key] != new[key] {
            details.change(key, from: JSONValue(old[key]), to: JSONValue(new[key]))
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
        if secret != nil, let field = stream.kind.secretField {
            details.change(field, from: .string("sealed"), to: .string("replaced"))
        }
        guard details.hasChanges else { return stream }
        var sealed: String?
        if let secret { sealed = try await sealLogStreamSecret(secret, stream: stream.id, keys: keys) }
        try await sql.raw("""
            UPDATE log_streams SET name = \(bind: stream.name), name_key = \(bind: stream.name.lowercased()),
            endpoint = \(bind: stream.endpoint), ca_certificate = \(bind: stream.caCertificate), status = \(bind: stream.status.rawValue),
            format = \(bind: stream.format.rawValue), settings = \(bind: try Self.encodeTarget(stream.target)),
            sealed_secret = COALESCE(\(bind: sealed), sealed_secret), dead_letter_after = \(bind: stream.deadLetterAfter),
            personal_data = \(bind: stream.personalData.rawValue),
            failures = 0, next_attempt_at = NULL
            WHERE org_id = \(bind: orgID) AND id = \(bind: stream.id)
            """).run()
        try await appendAudit([context.record(.logStreamUpdated, [.logStream(stream)], details: details)])
        return stream
    }

    /// The stream's secret, opened from its seal: for the sender and the test record only.
    public func logStreamSecret(_ stream: LogStream, keys: KeyService) async throws -> String? {
        guard let sealed = try await row("SELECT sealed_secret FROM log_streams WHERE org_id = ?1 AND id = ?2",
                                         [orgID, stream.id], { try $0.optionalText(0) }).flatMap({ $0 })
        else { return nil }
        let opened = try await keys.open(sealed, in: self, table: "log_streams", row: stream.id, column: "sealed_secret")
        return String(decoding: opened, as: UTF8.self)
    }

    /// The stream's pseudonyms for actors, nil when it sends them in full.
    public func logStreamPseudonyms(_ stream: LogStream, keys: KeyService) async throws -> ActorPseudonyms? {
        stream.personalData == .pseudonymous ? ActorPseudonyms(key: try await keys.pseudonymKey(in: self)) : nil
    }

    private func sealLogStreamSecret(_ secret: String, stream id: String, keys: KeyService) async throws -> String {
        try await keys.seal(Data(secret.utf8), in: self, table: "log_streams", row: id, column: "sealed_secret")
    }

    public func deleteLogStream(_ id: String, by context: AuditContext) async throws {
        let stream = try await requireLogStream(id)
        try await sql.raw("DELETE FROM log_streams WHERE org_id = \(bind: orgID) AND id = \(bind: stream.id)").run()
        try await sql.raw("DELETE FROM log_stream_dead_letters WHERE org_id = \(bind: orgID) AND stream_id = \(bind: stream.id)").run()
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

    /// The receiver took every event up to `cursor` and every checkpoint up to
    /// `checkpointCursor`. Neither ever moves back; a node that lost its lease moves nothing.
    public func logStreamDelivered(_ id: String, owner: String, cursor: Int64, checkpointCursor: Int64 = 0) async throws {
        try await sql.raw("""
            UPDATE log_streams SET cursor = CASE WHEN cursor < \(bind: cursor) THEN \(bind: cursor) ELSE cursor END,
            checkpoint_cursor = CASE WHEN checkpoint_cursor < \(bind: checkpointCursor) THEN \(bind: checkpointCursor)
                                ELSE checkpoint_cursor END,
            last_success_at = \(bind: clock().microseconds), failures = 0, next_attempt_at = NULL
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND lease_owner = \(bind: owner)
            AND (cursor < \(bind: cursor) OR checkpoint_cursor < \(bind: checkpointCursor))
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

    static func encodeTarget(_ target: LogStreamTarget) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(target), as: UTF8.self)
    }

    private func ensureLogStreamNameFree(_ name: String) async throws {
        if try await row("SELECT id FROM log_streams WHERE org_id = ?1 AND name_key = ?2", [orgID, name.lowercased()],
                         { try $0.text(0) }) != nil {
            throw RampartError(.conflict, "A log stream with this name already exists.", field: "name")
        }
    }

    static let logStreamColumns = """
        id, name, kind, endpoint, ca_certificate, status, cursor, created_at, last_success_at, last_error, last_error_at, \
        failures, next_attempt_at, format, settings, CASE WHEN sealed_secret IS NULL THEN 0 ELSE 1 END, dead_letter_after, personal_data, checkpoint_cursor, \
        (SELECT COUNT(*) FROM log_stream_dead_letters d WHERE d.org_id = log_streams.org_id AND d.stream_id = log_streams.id)
        """

    static func decodeLogStream(_ row: any ColumnReader) throws -> LogStream {
        guard let kind = LogStreamKind(rawValue: try row.text(2)), let status = LogStreamStatus(rawValue: try row.text(5)),
              let format = LogStreamFormat(rawValue: try row.text(13)),
              let personalData = LogStreamPersonalData(rawValue: try row.text(17)),
              let target = try? JSONDecoder().decode(LogStreamTarget.self, from: Data(try row.text(14).utf8))
        else {
            throw RampartError(.integrity, "A log stream has a kind, format or setting this version does not know.")
        }
        return LogStream(id: try row.text(0), name: try row.text(1), kind: kind, endpoint: try row.text(3), format: format,
                         target: target, hasSecret: try row.integer(15) != 0, caCertificate: try row.optionalText(4),
                         status: status, cursor: try row.integer(6),
                         createdAt: try row.timestamp(7), lastSuccessAt: try row.optionalTimestamp(8),
                         lastError: try row.optionalText(9), lastErrorAt: try row.optionalTimestamp(10),
                         failures: try row.integer(11), nextAttemptAt: try row.optionalTimestamp(12),
                         deadLetterAfter: try row.integer(16), deadLetters: try row.integer(19),
                         personalData: personalData, checkpointCursor: try row.integer(18))
    }
}
