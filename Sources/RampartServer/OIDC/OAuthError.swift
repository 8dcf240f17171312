import Foundation
import HTTPTypes
import Hummingbird
import RampartCore

/// An error of the token, revocation and introspection endpoints (RFC 6749 section 5.2):
/// `{"error": ..., "error_description": ...}`, never cached.
struct OAuthError: Error, Sendable {
    let error: String
    let description: String
    var status: HTTPResponse.Status = .badRequest
    /// For `invalid_client` after HTTP Basic: the challenge RFC 6749 requires with the 401.
    var challenge: String?

    static func invalidClient(basic: Bool) -> OAuthError {
        OAuthError(error: "invalid_client", description: "Client authentication failed: check the client id and secret, and the authentication method registered for the client.",
                   status: .unauthorized, challenge: basic ? "Basic realm=\"rampart\"" : nil)
    }

    /// The same answer for every way a client assertion can fail, so it reveals nothing.
    static let invalidClientAssertion = OAuthError(
        error: "invalid_client", description: "Client authentication failed: the client assertion is not valid for this client.",
        status: .unauthorized, challenge: nil)

    static func invalidGrant(_ description: String) -> OAuthError { OAuthError(error: "invalid_grant", description: description) }
    static func invalidRequest(_ description: String) -> OAuthError { OAuthError(error: "invalid_request", description: description) }

    var response: Response {
        struct Body: Encodable {
            let error: String
            let error_description: String
        }
        var response = OAuthJSON.response(Body(error: error, error_description: description), status: status)
        if let challenge { response.headers[.wwwAuthenticate] = challenge }
        return response
    }
}

/// JSON answers of the OAuth endpoints, never stored by a cache (RFC 6749 section 5.1). Unlike
/// the admin API, which writes `null` for an empty field, these leave it out: OAuth clients
/// read a present `refresh_token` or `id_token` as one being issued.
enum OAuthJSON {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Pragma")!] = "no-cache"
        guard let body = try? encoder.encode(value) else { return Response(status: .internalServerError, headers: headers) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
