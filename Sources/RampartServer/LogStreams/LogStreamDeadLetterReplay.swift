import RampartCore
import RampartStorage
import RampartStreams

/// Replays a dead letter: its events, read again from the log, sent in order through a
/// transport of the stream's kind with the stream's present settings (an admin usually fixed
/// the receiver or the stream first). Only once the receiver took every one of them is the
/// dead letter removed, with its event; a refusal keeps it, so nothing is lost either way.
/// The API, the console and the CLI replay through here.
public enum LogStreamDeadLetterReplay {
    public static func replay(_ streamID: String, _ letterID: String, database: Database, keys: KeyService, orgID: String,
                              hostname: String, by context: AuditContext) async throws -> LogStreamDeadLetter {
        let (stream, letter, secret, pseudonyms, records) = try await database.read(org: orgID) { tenant in
            let letter = try await tenant.requireLogStreamDeadLetter(streamID, letterID)
            let stream = try await tenant.requireLogStream(letter.streamID)
            let events = try await tenant.auditEvents(after: letter.firstSequence - 1,
                                                      limit: Int(letter.lastSequence - letter.firstSequence + 1))
                .filter { $0.sequence <= letter.lastSequence }
            let checkpoints = try await tenant.auditCheckpoints(after: letter.firstSequence - 1, through: letter.lastSequence)
            return (stream, letter, try await tenant.logStreamSecret(stream, keys: keys),
                    try await tenant.logStreamPseudonyms(stream, keys: keys), CheckpointRecord.merge(events, checkpoints))
        }
        // The checkpoints signed in its range go with its events; events purged by retention since are not in the log to send.
        for start in stride(from: 0, to: records.count, by: LogStreamSender.batchSize) {
            let part = Array(records[start..<min(start + LogStreamSender.batchSize, records.count)])
            try await LogStreamTestRecord.sendOnce(part, to: stream, secret: secret, pseudonyms: pseudonyms, orgID: orgID,
                                                   hostname: hostname,
                                                   what: "the dead letter's events")
        }
        return try await database.write(org: orgID) {
            try await $0.removeLogStreamDeadLetter(stream.id, letter.id, replayed: true, by: context)
        }
    }
}
