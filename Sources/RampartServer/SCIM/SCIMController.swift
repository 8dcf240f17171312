import Foundation
import Hummingbird
import RampartCore
import RampartSCIM

/// The SCIM 2.0 service provider under `/scim/v2` (RFC 7644): discovery, Users and Groups.
struct SCIMController: Sendable {
    let services: RampartServices
    let limiter: TokenBucketLimiter

    func addRoutes(to router: Router<RampartRequestContext>) {
        let call = SCIMCall(services: services, limiter: limiter)
        let scim = router.group("scim/v2")
        SCIMDiscoveryController(services: services).addRoutes(to: scim)
        SCIMUsersController(services: services, call: call).addRoutes(to: scim)
        SCIMGroupsController(services: services, call: call).addRoutes(to: scim)
        scim.post(".search") { request, context in
            await call.handle(request, context, resourceType: "Search", resourceID: nil, write: false) { tenant, _ in
                let query = try SCIMQuery(searchRequest: try await SCIMHTTP.body(request))
                let base = SCIMHTTP.base(services)
                let users = try await tenant.allSCIMUsers().map { SCIMRenderer.user($0, base: base) }
                let groups = try await tenant.allSCIMGroups(members: true).map { SCIMRenderer.group($0, base: base) }
                return (SCIMHTTP.response(try query.page(across: [(users, .user), (groups, .group)])), nil)
            }
        }
        // Anything else under /scim/v2 answers in SCIM's error format too.
        for method: HTTPRequest.Method in [.get, .post, .put, .patch, .delete] {
            scim.on("**", method: method) { _, _ in SCIMHTTP.error(.notFound("No such SCIM endpoint.")) }
        }
    }
}

/// The query parameters of a request, last value winning. Read from the raw query, since
/// identity providers encode spaces in filters as '+' (form encoding) as often as '%20'.
extension Request {
    var scimParameters: [String: String] {
        var out: [String: String] = [:]
        for (name, value) in FormURLEncoding.pairs(uri.query ?? "") {
            guard let name else { continue }
            out[name] = value ?? ""
        }
        return out
    }
}
