import AsyncHTTPClient
import RampartCore
import RampartStreams

/// The "send test event" of a log stream: one record that is not part of the log (sequence 0,
/// action `log_stream.test`), sent through a transport of its own for the stream's kind, so an
/// admin sees at once whether the receiver takes it, and why not.
public enum LogStreamTestRecord {
    public static func send(to stream: LogStream, secret: String?, pseudonyms: ActorPseudonyms?, orgID: String, actor: AuditActor,
                            hostname: String) async throws {
        let event = AuditEvent(orgID: orgID, sequence: 0, id: Identifier.make(), occurredAt: .now(), action: "log_stream.test",
                               outcome: AuditOutcome.success.rawValue, actor: actor,
                               targetsJSON: #"[{"type":"log_stream","id":"\#(stream.id)","name":null}]"#, requestID: nil,
                               detailsJSON: "{}", previousHash: "", hash: "")
        try await sendOnce([event], to: stream, secret: secret, pseudonyms: pseudonyms, orgID: orgID, hostname: hostname,
                           what: "the test record")
    }

    /// Sends `events` through a transport of the stream's kind made for this one delivery, and
    /// closes it; throws `receiverUnreachable` with the reason when the receiver did not take them.
    static func sendOnce(_ events: [AuditEvent], to stream: LogStream, secret: String?, pseudonyms: ActorPseudonyms?, orgID: String,
                         hostname: String, what: String) async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton,
                              configuration: HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                                      timeout: .init(connect: .seconds(5))))
        var failure: (any Error)?
        do {
            let transport = try stream.transport(secret: secret, pseudonyms: pseudonyms,
                                                 context: LogStreamTransportContext(hostname: hostname, http: http))
            do { try await transport.send(events, orgID: orgID) } catch { failure = error }
            await transport.close()
        } catch {
            failure = error
        }
        try? await http.shutdown()
        if let failure {
            throw RampartError(.receiverUnreachable,
                               "The receiver at \(stream.endpoint) did not take \(what): \(LogStreamSender.describe(failure))")
        }
    }
}
