import RampartCore
import RampartStreams

/// Splunk HTTP Event Collector: each batch POSTed to the HEC URL (by default its
/// `/services/collector/event`) with `Authorization: Splunk <token>`. No channel and no
/// indexer acknowledgement: HEC's 200 is taken as the batch taken.
struct SplunkHECTransport: LogStreamTransport {
    let stream: LogStream
    let token: String
    let host: String
    let http: HTTPDelivery

    static let defaultPath = "/services/collector/event"

    /// The stream's endpoint, with HEC's event path when it names none.
    static func url(_ endpoint: String) -> String {
        let afterScheme = endpoint.dropFirst("https://".count)
        return afterScheme.contains("/") ? endpoint : endpoint + defaultPath
    }

    func send(_ events: [AuditEvent], orgID: String) async throws {
        let batch = HTTPBatch.splunkHEC(events, orgID: orgID, format: stream.format, host: host, index: stream.target.index)
        try await http.post(Self.url(stream.endpoint), body: batch.body, contentType: batch.contentType,
                            headers: [("Authorization", "Splunk " + token)])
    }

    func close() async {}
}
