import Foundation
import NIOConcurrencyHelpers
import NIOCore
import RampartCore
import RampartStreams

/// Microsoft Sentinel through the Azure Monitor Logs Ingestion API: each batch POSTed as a
/// JSON array to `{endpoint}/dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01`
/// with a bearer token from the client credentials grant at the token URL (Entra ID's, scope
/// `https://monitor.azure.com//.default`). The token is kept until a minute before it expires,
/// or until the ingestion endpoint answers 401.
final class SentinelTransport: LogStreamTransport {
    static let apiVersion = "2023-01-01"
    static let scope = "https://monitor.azure.com//.default"

    let stream: LogStream
    let clientSecret: String
    let http: HTTPDelivery
    private let token = NIOLockedValueBox<(value: String, expires: Date)?>(nil)

    init(stream: LogStream, clientSecret: String, http: HTTPDelivery) {
        self.stream = stream
        self.clientSecret = clientSecret
        self.http = http
    }

    var ingestionURL: String {
        let base = stream.endpoint.hasSuffix("/") ? String(stream.endpoint.dropLast()) : stream.endpoint
        return "\(base)/dataCollectionRules/\(stream.target.dcrImmutableId ?? "")/streams/\(stream.target.streamName ?? "")"
            + "?api-version=\(Self.apiVersion)"
    }

    var tokenURL: String { stream.target.tokenUrl ?? LogStreamTarget.entraTokenURL(tenant: stream.target.tenantId ?? "") }

    func send(_ events: [AuditEvent], orgID: String) async throws {
        let batch = HTTPBatch.sentinel(events, orgID: orgID, format: stream.format)
        let bearer = try await accessToken()
        do {
            try await http.post(ingestionURL, body: batch.body, contentType: batch.contentType,
                                headers: [("Authorization", "Bearer " + bearer)])
        } catch let error as LogStreamDeliveryError where error.status == 401 {
            token.withLockedValue { $0 = nil }
            throw error
        }
    }

    private func accessToken() async throws -> String {
        if let cached = token.withLockedValue({ $0 }), cached.expires > Date() { return cached.value }
        // Form encoding with everything but RFC 3986's unreserved characters escaped.
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let body = [("grant_type", "client_credentials"), ("client_id", stream.target.clientId ?? ""),
                    ("client_secret", clientSecret), ("scope", Self.scope)]
            .map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "")" }.joined(separator: "&")
        let answer: ByteBuffer
        do {
            answer = try await http.post(tokenURL, body: Array(body.utf8), contentType: "application/x-www-form-urlencoded",
                                         headers: [])
        } catch let error as LogStreamDeliveryError {
            throw LogStreamDeliveryError(description: "token request refused: \(error.description)", status: error.status,
                                         retryAfter: error.retryAfter)
        }
        struct TokenResponse: Decodable {
            let access_token: String
            let expires_in: Double?
        }
        guard let parsed = try? JSONDecoder().decode(TokenResponse.self, from: Data(answer.readableBytesView)) else {
            throw LogStreamDeliveryError(description: "the token endpoint's answer holds no access_token")
        }
        let expires = Date().addingTimeInterval(max(0, (parsed.expires_in ?? 3600) - 60))
        token.withLockedValue { $0 = (parsed.access_token, expires) }
        return parsed.access_token
    }

    func close() async {}
}
