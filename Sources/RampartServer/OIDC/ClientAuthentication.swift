import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// Who is calling the token, revocation or introspection endpoint: a client by its secret
/// (HTTP Basic or the form, whichever it registered), by a JWT signed with its registered
/// key (`private_key_jwt`), or a public client by its id alone.
struct ClientAuthentication: Sendable {
    let services: RampartServices

    func authenticate(_ request: Request, form: [String: String], orgID: String, issuer: String) async throws -> OAuthClient {
        if form["client_assertion"] != nil || form["client_assertion_type"] != nil {
            return try await assertion(request, form: form, orgID: orgID, issuer: issuer)
        }
        let basic = Self.basicCredentials(request)
        if request.headers[.authorization] != nil && basic == nil {
            throw OAuthError.invalidClient(basic: true)
        }
        if basic != nil && (form["client_secret"] != nil) {
            throw OAuthError.invalidRequest("Send the client secret one way only: HTTP Basic or the form.")
        }
        guard let clientID = basic?.id ?? form["client_id"], !clientID.isEmpty else {
            throw OAuthError.invalidClient(basic: false)
        }
        if let basic, let formID = form["client_id"], formID != basic.id {
            throw OAuthError.invalidRequest("client_id differs from the one in the Authorization header.")
        }
        let presented = basic?.secret ?? form["client_secret"]
        let method: OAuthClientAuthMethod = basic != nil ? .clientSecretBasic : presented != nil ? .clientSecretPost : .none
        let accepted = try await services.database.read(org: orgID) { tenant -> OAuthClient? in
            guard let client = try await tenant.oauthClient(clientID), client.authMethod == method else { return nil }
            if method == .none { return client }
            return try await tenant.verifyOAuthClientSecret(client.id, presented ?? "") ? client : nil
        }
        guard let accepted else { throw OAuthError.invalidClient(basic: basic != nil) }
        return accepted
    }

    private func assertion(_ request: Request, form: [String: String], orgID: String, issuer: String) async throws -> OAuthClient {
        guard request.headers[.authorization] == nil, form["client_secret"] == nil else {
            throw OAuthError.invalidRequest("Authenticate one way only: a client assertion or a client secret.")
        }
        guard form["client_assertion_type"] == ClientAssertion.type, let token = form["client_assertion"], !token.isEmpty else {
            throw OAuthError.invalidRequest("client_assertion_type must be \(ClientAssertion.type), with a client_assertion.")
        }
        // The issuer, the token endpoint, or the endpoint being called: clients such as authlib
        // name the revocation or introspection URL they post to (RFC 7523 section 3 allows it).
        var audiences: Set<String> = [issuer, issuer + "/oauth/token"]
        if let endpoint = request.uri.path.split(separator: "/").last, ["revoke", "introspect"].contains(endpoint) {
            audiences.insert(issuer + "/oauth/" + endpoint)
        }
        guard let client = try await ClientAssertion(services: services, orgID: orgID, audiences: audiences)
            .authenticate(token, formClientID: form["client_id"]) else { throw OAuthError.invalidClientAssertion }
        return client
    }

    /// `Basic base64(urlencode(id):urlencode(secret))`, as RFC 6749 section 2.3.1 says.
    static func basicCredentials(_ request: Request) -> (id: String, secret: String)? {
        guard let header = request.headers[.authorization], header.count <= 4096,
              header.lowercased().hasPrefix("basic "),
              let data = Data(base64Encoded: String(header.dropFirst(6)).trimming(.whitespaces)),
              let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":"),
              let id = FormURLEncoding.decode(text[..<colon]),
              let secret = FormURLEncoding.decode(text[text.index(after: colon)...])
        else { return nil }
        return (id, secret)
    }
}
