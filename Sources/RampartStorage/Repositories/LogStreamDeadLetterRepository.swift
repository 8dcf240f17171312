import RampartCore
import SQLKit

extension Tenant {
    /// The sender gives up on a batch its receiver refused `deadLetterAfter` times: the range it
    /// held becomes a dead letter, the cursor moves past it and the stream's failures start
    /// again from zero, all with the event in one transaction. A node that lost its lease, or
    /// whose cursor another node already moved past the batch, changes nothing (nil).
    public func deadLetterLogStreamBatch(_ id: String, owner: String, first: Int64, last: Int64, events: Int64,
                                         error: String, attempts: Int64) async throws -> LogStreamDeadLetter? {
        let now = clock()
        let moved = try await sql.raw("""
            UPDATE log_streams SET cursor = \(bind: last), failures = 0, next_attempt_at = NULL,
            checkpoint_cursor = CASE WHEN checkpoint_cursor < \(bind: last) THEN \(bind: last) ELSE checkpoint_cursor END,
            last_error = \(bind: String(error.prefix(500))), last_error_at = \(bind: now.microseconds)
            WHERE org_id = \(bind: orgID) AND id = \(bind: id) AND lease_owner = \(bind: owner) AND cursor < \(bind: first)
            RETURNING id
            """).first()
        guard moved != nil else { return nil }
        let stream = try await requireLogStream(id)
        let letter = LogStreamDeadLetter(id: Identifier.make(), streamID: id, firstSequence: first, lastSequence: last,
                                         events: events, error: String(error.prefix(500)), attempts: attempts, createdAt: now)
        try await sql.raw("""
            INSERT INTO log_stream_dead_letters (org_id, id, stream_id, first_seq, last_seq, events, error, attempts, created_at)
            VALUES (\(bind: orgID), \(bind: letter.id), \(bind: id), \(bind: first), \(bind: last), \(bind: events),
                    \(bind: letter.error), \(bind: attempts), \(bind: now.microseconds))
            """).run()
        try await appendAudit([AuditContext.system.record(.logStreamDeadLettered, [.logStream(stream)], details: Self.details(letter),
                                                          at: now)])
        return letter
    }

    /// The stream's dead letters, oldest batch first: the order a replay of all of them keeps.
    public func logStreamDeadLetters(_ streamID: String) async throws -> [LogStreamDeadLetter] {
        let stream = try await requireLogStream(streamID)
        return try await rows("""
            SELECT \(Self.deadLetterColumns) FROM log_stream_dead_letters WHERE org_id = ?1 AND stream_id = ?2 ORDER BY first_seq, id
            """, [orgID, stream.id], Self.decodeDeadLetter)
    }

    public func requireLogStreamDeadLetter(_ streamID: String, _ id: String) async throws -> LogStreamDeadLetter {
        let stream = try await requireLogStream(streamID)
        guard let id = Identifier.canonical(id),
              let letter = try await row("""
                SELECT \(Self.deadLetterColumns) FROM log_stream_dead_letters WHERE org_id = ?1 AND stream_id = ?2 AND id = ?3
                """, [orgID, stream.id, id], Self.decodeDeadLetter)
        else { throw RampartError.notFound("Dead letter") }
        return letter
    }

    /// A dead letter is gone once replayed (its events were taken) or discarded (an admin chose
    /// not to send them); the event says which.
    public func removeLogStreamDeadLetter(_ streamID: String, _ id: String, replayed: Bool,
                                          by context: AuditContext) async throws -> LogStreamDeadLetter {
        let letter = try await requireLogStreamDeadLetter(streamID, id)
        let stream = try await requireLogStream(streamID)
        try await sql.raw("DELETE FROM log_stream_dead_letters WHERE org_id = \(bind: orgID) AND id = \(bind: letter.id)").run()
        try await appendAudit([context.record(replayed ? .logStreamDeadLetterReplayed : .logStreamDeadLetterDiscarded,
                                              [.logStream(stream)], details: Self.details(letter))])
        return letter
    }

    private static func details(_ letter: LogStreamDeadLetter) -> AuditDetails {
        AuditDetails(["deadLetterId": .string(letter.id), "firstSequence": .int(letter.firstSequence),
                      "lastSequence": .int(letter.lastSequence), "events": .int(letter.events)])
    }

    static let deadLetterColumns = "id, stream_id, first_seq, last_seq, events, error, attempts, created_at"

    static func decodeDeadLetter(_ row: any ColumnReader) throws -> LogStreamDeadLetter {
        LogStreamDeadLetter(id: try row.text(0), streamID: try row.text(1), firstSequence: try row.integer(2),
                            lastSequence: try row.integer(3), events: try row.integer(4), error: try row.text(5),
                            attempts: try row.integer(6), createdAt: try row.timestamp(7))
    }
}
