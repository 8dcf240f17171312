import Foundation
import RampartCore
import RampartStreams

/// A generic HTTPS webhook: each batch POSTed to the URL, signed at each attempt
/// (`Rampart-Signature`, `WebhookSignature`) so its timestamp is that of the attempt.
struct WebhookTransport: LogStreamTransport {
    let stream: LogStream
    let secret: String
    let http: HTTPDelivery

    func send(_ events: [AuditEvent], orgID: String) async throws {
        let batch = HTTPBatch.webhook(events, orgID: orgID, format: stream.format)
        let signature = WebhookSignature(secret: secret, timestamp: Int64(Date().timeIntervalSince1970), body: batch.body)
        try await http.post(stream.endpoint, body: batch.body, contentType: batch.contentType,
                            headers: [(WebhookSignature.headerName, signature.header)])
    }

    func close() async {}
}
