import HTTPTypes
import Hummingbird
import RampartCore

/// Refuses a state-changing browser request to the console (`/console/...`, and the
/// organisation sign-in pages under `/o/...`) that another site started: browsers say so in
/// `Sec-Fetch-Site`, and in `Origin`. A form token alone does not stop a site that obtained a
/// valid token from posting it (login CSRF); these headers cannot be set by the page that
/// sends the request. Requests with neither header (command-line clients, very old browsers)
/// pass here and still need their form token.
struct CrossSiteRequestGuard: RouterMiddleware {
    typealias Context = RampartRequestContext
    /// The console's own origins besides the request's Host: the configured public URL.
    let publicOrigin: String?

    init(publicURL: String) {
        publicOrigin = (try? WebURL(parsing: publicURL)).map { url in
            url.scheme + "://" + url.host + (url.port.map { ":\($0)" } ?? "")
        }
    }

    static let refused = RampartError(.forbidden,
                                      "This form was sent from another site; open the console directly and try again.")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if Self.changesState(request.method), Self.guarded(request.uri.path), !isSameOrigin(request) {
            context.logger.warning("cross-site console request refused",
                                   metadata: ["source_ip": .string(context.remoteAddress?.ipAddress ?? "unknown")])
            throw Self.refused
        }
        return try await next(request, context)
    }

    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        ![.get, .head, .options].contains(method)
    }

    static func guarded(_ path: String) -> Bool {
        if path.hasPrefix("/o/"), backChannelSuffixes.contains(where: path.hasSuffix) { return false }
        // The IdP's page posts the SAML response here: the RelayState's attempt and the browser
        // cookie bind it to this browser, as the state does for an OpenID Connect callback.
        if SAMLServiceProvider.isAssertionConsumer(path) { return false }
        return path == "/console" || path.hasPrefix("/console/") || path.hasPrefix("/o/") || path == "/signin"
    }

    /// The OAuth endpoints products call from their servers, or from a browser app on
    /// another origin: they carry client credentials or tokens, never a session cookie.
    static let backChannelSuffixes = ["/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/userinfo"]

    func isSameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[.secFetchSite]?.lowercased() {
            // "same-site" is a sibling subdomain: another application, possibly another owner.
            return site == "same-origin" || site == "none"
        }
        guard let origin = request.headers[.origin] else { return true }
        let lowered = origin.lowercased()
        if let publicOrigin, lowered == publicOrigin { return true }
        guard let authority = request.head.authority?.lowercased() else { return false }
        return lowered == "http://" + authority || lowered == "https://" + authority
    }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
