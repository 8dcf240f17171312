import Foundation
import HTTPTypes
import Hummingbird
import RampartCore

/// Where a person goes once signed in when a product sent them: back to the `/authorize`
/// request that found them signed out. It rides in a cookie, so the sign-in, second-factor
/// and enrolment forms stay as they are; only an authorize address of the same organisation
/// is ever followed, so the cookie cannot become an open redirect.
enum SignInContinuation {
    static let cookieName = "rampart_continue"
    /// As long as a pending sign-in lives: a continuation older than that is stale.
    static let lifetimeSeconds = 10 * 60

    static func cookie(_ target: String, secure: Bool) -> String {
        ConsoleCookie.make(cookieName, Data(target.utf8).base64URLEncoded, secure: secure, maxAge: lifetimeSeconds)
    }

    static func clear(secure: Bool) -> String { ConsoleCookie.clear(cookieName, secure: secure) }

    /// The authorize address to go back to, if the cookie holds one of this organisation.
    static func target(in request: Request, slug: String) -> String? {
        guard let value = ConsoleCookie.value(cookieName, in: request), value.utf8.count <= 8192,
              let data = Data(base64URLEncoded: value), let target = String(data: data, encoding: .utf8),
              target.hasPrefix(authorizePath(slug: slug) + "?"),
              !target.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F })
        else { return nil }
        return target
    }

    static func authorizePath(slug: String) -> String { "/o/\(slug)/oauth/authorize" }

    /// Where a person goes after signing in: back to the product's authorize request that
    /// sent them, or to their own landing page. Back to a product is a page that moves on by
    /// itself rather than a redirect: the console's `form-action 'self'` policy also covers
    /// the redirects after a form is sent, and the authorize request ends at the product.
    static func afterSignIn(_ request: Request, slug: String, otherwise: String, cookies: [String], secure: Bool) -> Response {
        guard let target = target(in: request, slug: slug) else { return ConsoleRenderer.redirect(otherwise, cookies: cookies) }
        return onward(to: target, cookies: cookies + [clear(secure: secure)])
    }

    /// A page that takes the browser on to `target` at once (a meta refresh, with a link).
    static func onward(to target: String, cookies: [String] = []) -> Response {
        var response = ConsoleRenderer.page("continue", ["title": "Continue", "target": target])
        for cookie in cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }
}
