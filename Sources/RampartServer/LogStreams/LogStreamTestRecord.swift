import RampartCore
import RampartStreams

/// The "send test event" of a log stream: one record that is not part of the log (sequence 0,
/// action `log_stream.test`), sent over a connection of its own, so an admin sees at once
/// whether the receiver takes it, and why not.
public enum LogStreamTestRecord {
    public static func send(to stream: LogStream, orgID: String, actor: AuditActor, hostname: String) async throws {
        let event = AuditEvent(orgID: orgID, sequence: 0, id: Identifier.make(), occurredAt: .now(), action: "log_stream.test",
                               outcome: AuditOutcome.success.rawValue, actor: actor,
                               targetsJSON: #"[{"type":"log_stream","id":"\#(stream.id)","name":null}]"#, requestID: nil,
                               detailsJSON: "{}", previousHash: "", hash: "")
        var framed: [UInt8] = []
        SyslogRecord(hostname: hostname).frame(event, orgID: orgID, to: &framed)
        let bytes = framed
        do {
            let connection = try await LogStreamSender.connect(to: stream)
            do {
                try await LogStreamSender.withTimeout(LogStreamSender.sendTimeout) { try await connection.send(bytes) }
                await connection.close()
            } catch {
                await connection.close()
                throw error
            }
        } catch {
            throw RampartError(.receiverUnreachable,
                               "The receiver at \(stream.endpoint) did not take the test record: \(LogStreamSender.describe(error))")
        }
    }
}
