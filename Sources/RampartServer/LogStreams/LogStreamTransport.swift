import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import RampartCore
import RampartStreams

/// One stream's receiver as the sender talks to it: a batch is taken when `send` returns.
/// The sender keeps one per stream and makes a new one when the stream's settings change.
protocol LogStreamTransport: Sendable {
    func send(_ events: [AuditEvent], orgID: String) async throws
    func close() async
}

/// What a stream needs to reach its receiver, beside the stream itself.
struct LogStreamTransportContext: Sendable {
    /// The host of Rampart's public URL: syslog's HOSTNAME and Splunk's `host`.
    let hostname: String
    let http: HTTPClient
}

extension LogStream {
    /// The transport for this stream's kind, with its opened secret; with `pseudonyms` (a
    /// pseudonymous stream), every event it sends has its actor replaced first.
    func transport(secret: String?, pseudonyms: ActorPseudonyms?, context: LogStreamTransportContext) throws -> any LogStreamTransport {
        let http = { try HTTPDelivery(stream: self, secret: secret, client: context.http) }
        let transport: any LogStreamTransport = switch kind {
        case .syslog: SyslogTransport(stream: self, record: SyslogRecord(hostname: context.hostname, format: format))
        case .splunkHEC: SplunkHECTransport(stream: self, token: secret ?? "", host: context.hostname, http: try http())
        case .webhook: WebhookTransport(stream: self, secret: secret ?? "", http: try http())
        case .sentinel: SentinelTransport(stream: self, clientSecret: secret ?? "", http: try http())
        }
        return pseudonyms.map { PseudonymousTransport(inner: transport, pseudonyms: $0) } ?? transport
    }

    /// What tells one transport of this stream from the next: a change to any of it needs a new one.
    func transportSettings(secret: String?) -> String {
        [kind.rawValue, endpoint, format.rawValue, caCertificate ?? "", String(describing: target), personalData.rawValue,
         secret ?? ""].joined(separator: "\n")
    }
}

/// A pseudonymous stream's transport: the events' actors are replaced before any format
/// writes them, so no record of any kind or format carries the person.
struct PseudonymousTransport: LogStreamTransport {
    let inner: any LogStreamTransport
    let pseudonyms: ActorPseudonyms

    func send(_ events: [AuditEvent], orgID: String) async throws {
        try await inner.send(events.map(pseudonyms.apply), orgID: orgID)
    }

    func close() async { await inner.close() }
}

/// A receiver that did not take a batch: the reason (never a secret) for the stream's health,
/// the HTTP status when it answered, and the wait it asked for (429 with `Retry-After`).
struct LogStreamDeliveryError: Error, CustomStringConvertible {
    let description: String
    var status: Int?
    var retryAfter: Double?
}

/// POSTs of the HTTP kinds: certificates always verified (against the stream's CA certificates
/// when it has them), no redirects followed, `LogStreamSender.sendTimeout` for an answer, any
/// 2xx is taken. A 429 carries its `Retry-After`; anything else fails with its status and
/// the start of the answer, with the stream's secret cut out.
struct HTTPDelivery: Sendable {
    let client: HTTPClient
    let tls: TLSConfiguration
    let secret: String?

    init(stream: LogStream, secret: String?, client: HTTPClient) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let pem = stream.caCertificate { tls.trustRoots = .certificates(try TLSConnection.trustedCertificates(pem)) }
        self.client = client
        self.tls = tls
        self.secret = secret
    }

    /// The answer's body when it is a 2xx.
    @discardableResult
    func post(_ url: String, body: [UInt8], contentType: String, headers: [(String, String)]) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.tlsConfiguration = tls
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "User-Agent", value: "Rampart")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        let answer: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(LogStreamSender.sendTimeout.components.seconds))
            answer = try await response.body.collect(upTo: 1 << 20)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw TimeLimitExceeded(after: LogStreamSender.sendTimeout)
        } catch let error as HTTPClientError where error == .remoteConnectionClosed {
            throw LogStreamDeliveryError(description: "connection closed by the receiver before it answered")
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) { return answer }
        var reason = "HTTP \(status)"
        let text = String(decoding: answer.readableBytesView.prefix(200), as: UTF8.self)
            .unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(String.init).joined()
        let shown = secret.map { text.replacingOccurrences(of: $0, with: "[secret]") } ?? text
        if !shown.isEmpty { reason += ": " + shown }
        let wait = status == 429 ? Self.retryAfter(response.headers.first(name: "Retry-After")) : nil
        throw LogStreamDeliveryError(description: reason, status: status, retryAfter: wait)
    }

    /// `Retry-After` in seconds (RFC 9110 §10.2.3: a number of seconds or an HTTP date), at
    /// most an hour; nil when absent or unreadable, and the stream backs off as for any failure.
    static func retryAfter(_ value: String?, now: Date = Date()) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return Double(min(max(seconds, 0), 3600)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: value) else { return nil }
        return min(max(date.timeIntervalSince(now), 0), 3600)
    }
}
