import RampartCore
import RampartStorage

/// Home-realm discovery: the identity provider an email's domain is routed to, found from
/// the organisation that verified the domain (at `/signin`) or within the organisation whose
/// sign-in page it is. Only enabled providers and verified domains route anyone.
struct HomeRealm: Sendable {
    let services: RampartServices

    /// The provider's sign-in URL for `email`, searching the organisation that verified its domain.
    func route(email: String) async throws -> String? {
        guard let domain = DomainName.ofEmail(email), let orgID = try await services.database.organizationVerifying(domain: domain),
              let organization = try await services.organizations.find(idOrSlug: orgID) else { return nil }
        return try await route(email: email, in: organization)
    }

    /// The provider's sign-in URL for `email` within `organization`, with the email as a hint for the provider.
    func route(email: String, in organization: Organization) async throws -> String? {
        guard email.contains("@"), email.count <= 320,
              let provider = try await services.database.read(org: organization.id, { try await $0.identityProvider(forEmail: email) })
        else { return nil }
        return SSOController.signInPath(slug: organization.slug, providerID: provider.id)
            + "?login_hint=" + FormURLEncoding.component(email)
    }

    /// "Sign in with …" buttons for the organisation's enabled providers.
    func buttons(_ organization: Organization) async throws -> [[String: String]] {
        try await services.database.read(org: organization.id) { try await $0.identityProviders() }
            .filter(\.enabled)
            .map { ["id": $0.id, "name": $0.name, "url": SSOController.signInPath(slug: organization.slug, providerID: $0.id)] }
    }
}
