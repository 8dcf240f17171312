import NIOConcurrencyHelpers
import RampartCore
import RampartStreams

/// Syslog over TLS: the stream's records, octet-counted, on one kept-open connection, made
/// again when the receiver closed it. "Taken" is written to the socket: syslog has no answer.
final class SyslogTransport: LogStreamTransport {
    let stream: LogStream
    let record: SyslogRecord
    private let connection = NIOLockedValueBox<TLSConnection?>(nil)

    init(stream: LogStream, record: SyslogRecord) {
        self.stream = stream
        self.record = record
    }

    func send(_ events: [AuditEvent], orgID: String) async throws {
        var framed: [UInt8] = []
        framed.reserveCapacity(events.count * 1024)
        for event in events { record.frame(event, orgID: orgID, to: &framed) }
        let bytes = framed
        let open = try await openConnection()
        do {
            try await withTimeLimit(LogStreamSender.sendTimeout) { try await open.send(bytes) }
        } catch {
            await close()
            throw error
        }
    }

    private func openConnection() async throws -> TLSConnection {
        if let open = connection.withLockedValue({ $0 }), open.isActive { return open }
        await close()
        let (host, port) = stream.hostAndPort
        let caCertificate = stream.caCertificate
        let opened = try await withTimeLimit(LogStreamSender.sendTimeout) {
            try await TLSConnection.connect(host: host, port: port, trustedCertificates: caCertificate)
        }
        connection.withLockedValue { $0 = opened }
        return opened
    }

    func close() async {
        if let open = connection.withLockedValue({ value in defer { value = nil }; return value }) { await open.close() }
    }
}
