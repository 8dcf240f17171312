import Hummingbird
import RampartCore
import RampartStorage

/// Domains the organisation claims (`/domains`) and their verification by DNS or HTTPS.
struct DomainsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/domains", list),
            APIRoute(.post, "/domains", create),
            APIRoute(.get, "/domains/{id}", show),
            APIRoute(.delete, "/domains/{id}", delete),
            APIRoute(.post, "/domains/{id}/verify", verify),
        ]
    }

    struct CreateRequest: StrictBody {
        let domain: String
        static let fields: Set<String> = ["domain"]
        static let required: Set<String> = ["domain"]
    }

    struct VerifyRequest: StrictBody {
        let method: DomainVerificationMethod
        static let fields: Set<String> = ["method"]
        static let required: Set<String> = ["method"]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try JSON.response(ListBody(data: try await read(context, .readOrganization) { try await $0.domainClaims() }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let name = try DomainName(parsing: body.domain, publicSuffixes: .system)
        let claim = try await write(request, context, .manageDomains) { try await $0.claimDomain(name, by: $1) }
        var response = try JSON.response(claim, status: .created)
        response.headers[.location] = "/api/v1/domains/\(claim.id)"
        return response
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(try await read(context, .readOrganization) { try await $0.requireDomainClaim(id) })
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await write(request, context, .manageDomains) { try await $0.deleteDomainClaim(id, by: $1) }
        return JSON.noContent()
    }

    /// 200 with the verified claim; a proof not found is 422 `domain_not_verified`, and a domain
    /// another organisation verified first 409: both are recorded on the claim and audited.
    @Sendable func verify(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(VerifyRequest.self, from: request)
        // Permission first, so that a token without it makes Rampart look nothing up.
        let claim = try await read(context, .manageDomains) { try await $0.requireDomainClaim(id) }
        let result = claim.status == .pending ? await services.configuration.domainVerifier.check(claim, by: body.method) : .proven
        let (recorded, failure) = try await write(request, context, .manageDomains) {
            try await $0.recordDomainCheck(claim.id, method: body.method, result: result, by: $1)
        }
        if let failure { throw failure }
        return try JSON.response(recorded)
    }
}
