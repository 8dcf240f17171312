import Hummingbird
import RampartCore
import RampartStorage

/// The Domains page: the organisation's claims with what to publish for each, a form to
/// claim one, and per claim a Verify form (DNS or HTTPS) and Delete behind a confirmation.
struct ConsoleDomainsController: ConsolePageController {
    let services: RampartServices

    func addRoutes(to group: RouterGroup<RampartRequestContext>) {
        group.get("domains", use: list)
        group.post("domains", use: claim)
        group.post("domains/{id}/verify", use: verify)
        group.get("domains/{id}/delete", use: confirmDelete)
        group.post("domains/{id}/delete", use: delete)
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        try await listPage(request, context)
    }

    /// `verifyFailure` is shown beside the claim it is about; a claim form's error beside its field.
    private func listPage(_ request: Request, _ context: RampartRequestContext, form: [String: String] = [:],
                          error: RampartError? = nil, verifyFailure: (id: String, error: RampartError)? = nil,
                          status: HTTPResponse.Status = .ok) async throws -> Response {
        let claims = try await read(context, .readOrganization) { try await $0.domainClaims() }
        return ConsoleRenderer.page("domains", ConsolePage.values(context, title: "Domains", active: "domains", extra: [
            "domains": claims.map { claim in
                Self.values(claim).merging(["verifyError": verifyFailure?.id == claim.id ? verifyFailure!.error.message : "",
                                            "hasVerifyError": verifyFailure?.id == claim.id]) { $1 }
            },
            "hasDomains": !claims.isEmpty,
        ].merging(ConsoleFormField.values(ConsoleFormField.domain, typed: form, error: error)) { $1 }
         .merging(ConsoleNotice.values(request)) { $1 }), status: status)
    }

    static func values(_ claim: DomainClaim) -> [String: Any] {
        ["id": claim.id, "domain": claim.domain, "unicodeDomain": claim.unicodeDomain, "status": claim.status.rawValue,
         "verified": claim.status == .verified, "pending": claim.status == .pending,
         "createdAt": ConsolePage.time(claim.createdAt), "verifiedAt": ConsolePage.time(claim.verifiedAt),
         "verifiedMethod": claim.verifiedMethod?.rawValue ?? "", "lastCheckedAt": ConsolePage.time(claim.lastCheckedAt),
         "lastCheckError": claim.lastCheckError ?? "", "hasLastCheckError": claim.lastCheckError != nil,
         "dnsName": claim.dnsRecordName, "proof": claim.proof, "wellKnownURL": claim.wellKnownURL]
    }

    @Sendable func claim(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let form = try await self.form(request, context, requiring: .manageDomains)
        do {
            let name = try DomainName(parsing: form["domain"], publicSuffixes: .system)
            _ = try await write(request, context, .manageDomains) { try await $0.claimDomain(name, by: $1) }
            return ConsoleRenderer.redirect(ConsoleNotice.domainClaimed.after("/console/domains"))
        } catch let error as RampartError where isFormError(error) {
            return try await listPage(request, context, form: form.fields, error: error, status: error.httpStatus)
        }
    }

    @Sendable func verify(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let form = try await self.form(request, context, requiring: .manageDomains)
        guard let method = DomainVerificationMethod(rawValue: form["method"]) else {
            throw RampartError.invalidField("method", "must be dns or http")
        }
        let claim = try await read(context, .manageDomains) { try await $0.requireDomainClaim(id) }
        let result = claim.status == .pending ? await services.configuration.domainVerifier.check(claim, by: method) : .proven
        let (_, failure) = try await write(request, context, .manageDomains) {
            try await $0.recordDomainCheck(claim.id, method: method, result: result, by: $1)
        }
        if let failure {
            return try await listPage(request, context, verifyFailure: (claim.id, failure), status: failure.httpStatus)
        }
        return ConsoleRenderer.redirect(ConsoleNotice.domainVerified.after("/console/domains"))
    }

    @Sendable func confirmDelete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let claim = try await read(context, .manageDomains) { try await $0.requireDomainClaim(id) }
        let consequence = claim.status == .verified
            ? "Users with an email in it are no longer this organisation's managed accounts, and another organisation may verify it."
            : "Its verification token is discarded; claiming it again gives a new one."
        return ConsoleConfirmation(
            question: "Delete the claim on \(claim.unicodeDomain)?", consequence: consequence,
            action: "/console/domains/\(claim.id)/delete", button: "Delete claim", cancel: "/console/domains"
        ).page(context, active: "domains")
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        _ = try await form(request, context, requiring: .manageDomains)
        _ = try await write(request, context, .manageDomains) { try await $0.deleteDomainClaim(id, by: $1) }
        return ConsoleRenderer.redirect(ConsoleNotice.deleted.after("/console/domains"))
    }
}
