import Foundation
import Hummingbird
import RampartCore
import RampartStorage

/// Who is calling the token, revocation or introspection endpoint: a client by its secret
/// (HTTP Basic or the form, whichever it registered), or a public client by its id alone.
struct ClientAuthentication: Sendable {
    let services: RampartServices

    func authenticate(_ request: Request, form: [String: String], orgID: String) async throws -> OAuthClient {
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
