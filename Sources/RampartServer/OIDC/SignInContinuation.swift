import Foundation
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

    /// Where a person lands after signing in: the product's authorize request that sent them,
    /// or their own landing page. The cookies clear the continuation once it is used.
    static func landing(_ request: Request, slug: String, otherwise: String, secure: Bool) -> (String, [String]) {
        guard let target = target(in: request, slug: slug) else { return (otherwise, []) }
        return (target, [clear(secure: secure)])
    }
}
