import Foundation
import RampartCore

/// An `/authorize` request checked against its client (RFC 6749 section 4.1.1, RFC 7636,
/// OpenID Connect Core section 3.1.2.1). The client and redirect URI are checked first:
/// until both are known good, nothing is sent back to the redirect URI.
struct AuthorizationRequest: Sendable {
    let client: OAuthClient
    let redirectURI: String
    let state: String?
    let scope: [String]
    let nonce: String?
    let codeChallenge: String
    let prompt: Set<String>
    let maxAge: Int?
    let acrValues: [String]
    /// Set by Rampart when it sent the person to sign in again: a session older than this
    /// does not satisfy `prompt=login` or `max_age`.
    let authenticatedAfter: Int64?

    /// An error the client hears about at its redirect URI (section 4.1.2.1).
    struct Refusal: Error, Sendable {
        let error: String
        let description: String
    }

    /// The client and redirect URI of a request, or why no redirect may be made: an unknown
    /// client, or a redirect URI that is not, character for character, one it registered.
    static func redirectTarget(_ parameters: [String: String], client: OAuthClient?) -> Result<(OAuthClient, String), RampartError> {
        guard let client else {
            return .failure(RampartError(.notFound, "This application is not known to the organization. Ask the application's administrator to check its client id."))
        }
        guard let redirectURI = parameters["redirect_uri"], client.redirectURIs.contains(redirectURI) else {
            return .failure(RampartError(.invalidParameter, "This application sent a redirect address it has not registered, so you were not sent on. Ask the application's administrator to register it exactly."))
        }
        return .success((client, redirectURI))
    }

    static func parse(_ parameters: [String: String], client: OAuthClient, redirectURI: String) -> Result<AuthorizationRequest, Refusal> {
        func refuse(_ error: String, _ description: String) -> Result<AuthorizationRequest, Refusal> {
            .failure(Refusal(error: error, description: description))
        }
        if parameters["request"] != nil { return refuse("request_not_supported", "Request objects are not supported.") }
        if parameters["request_uri"] != nil { return refuse("request_uri_not_supported", "request_uri is not supported.") }
        guard parameters["response_type"] == "code" else {
            return refuse("unsupported_response_type", "Only the authorization code flow (response_type=code) is supported.")
        }
        if let mode = parameters["response_mode"], mode != "query" {
            return refuse("invalid_request", "Only response_mode=query is supported.")
        }
        guard let challenge = parameters["code_challenge"] else {
            return refuse("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256.")
        }
        guard parameters["code_challenge_method"] == "S256" else {
            return refuse("invalid_request", "code_challenge_method must be S256; plain is not accepted.")
        }
        guard (43...128).contains(challenge.utf8.count), challenge.utf8.allSatisfy(Self.isUnreserved) else {
            return refuse("invalid_request", "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~].")
        }
        let scope = (parameters["scope"] ?? "").split(separator: " ").map(String.init)
        guard !scope.isEmpty else { return refuse("invalid_scope", "scope is required and must include openid.") }
        guard scope.contains("openid") else { return refuse("invalid_scope", "scope must include openid.") }
        if let unknown = scope.first(where: { !client.scopes.contains($0) }) {
            return refuse("invalid_scope", "The scope \(unknown.prefix(100)) is not allowed for this application.")
        }
        let prompt = Set((parameters["prompt"] ?? "").split(separator: " ").map(String.init))
        if let unknown = prompt.first(where: { !["none", "login", "consent", "select_account"].contains($0) }) {
            return refuse("invalid_request", "Unknown prompt value \(unknown.prefix(40)).")
        }
        if prompt.contains("none"), prompt.count > 1 { return refuse("invalid_request", "prompt=none cannot be combined.") }
        var maxAge: Int?
        if let raw = parameters["max_age"] {
            guard let value = Int(raw), value >= 0 else { return refuse("invalid_request", "max_age must be a number of seconds.") }
            maxAge = value
        }
        let nonce = parameters["nonce"]
        if let nonce, nonce.utf8.count > 512 { return refuse("invalid_request", "nonce must be at most 512 characters.") }
        if let state = parameters["state"], state.utf8.count > 2048 {
            return refuse("invalid_request", "state must be at most 2048 characters.")
        }
        return .success(AuthorizationRequest(
            client: client, redirectURI: redirectURI, state: parameters["state"], scope: scope, nonce: nonce,
            codeChallenge: challenge, prompt: prompt, maxAge: maxAge,
            acrValues: (parameters["acr_values"] ?? "").split(separator: " ").map(String.init),
            authenticatedAfter: parameters["auth_after"].flatMap { Int64($0) }))
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// Whether the client asked for a second factor (`acr_values`), beyond what the policy says.
    var asksForMultiFactor: Bool { acrValues.contains(AuthenticationContext.multiFactor) }

    /// The redirect URI with `extra` added to its query, plus `state` and `iss` (RFC 9207).
    func redirect(_ extra: [(String, String)], issuer: String) -> String {
        var items = extra
        if let state { items.append(("state", state)) }
        items.append(("iss", issuer))
        return Self.append(items, to: redirectURI)
    }

    static func append(_ items: [(String, String)], to uri: String) -> String {
        let query = items.map { "\(formEncoded($0.0))=\(formEncoded($0.1))" }.joined(separator: "&")
        return uri + (uri.contains("?") ? "&" : "?") + query
    }

    static func formEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }
}
