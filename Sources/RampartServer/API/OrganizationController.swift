import Hummingbird
import RampartCore

struct OrganizationController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [APIRoute(.get, "/organization", show)]
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try JSON.response(try await read(context, .readOrganization) { try await $0.organization() })
    }
}
