import Logging
import RampartCore
import RampartStorage

/// The long-lived things every controller needs, built once per application.
public struct RampartServices: Sendable {
    public let configuration: AppConfiguration
    public let database: Database
    public let keys: KeyService
    public let organizations: OrganizationRepository
    public let passwords: PasswordHasher
    let tokenUsage: TokenUsageRecorder
    let mailWakeups = MailWakeups()
    let logStreamWatch = OrganizationWatch()
    let auditExportWatch = OrganizationWatch()
    let oidcKeyring: OIDCKeyring
    /// Upstream OpenID Connect providers' discovery documents and keys, shared by every sign-in.
    let upstreamOIDC = UpstreamOIDCCache()
    public let logger: Logger

    public init(configuration: AppConfiguration, database: Database, keys: KeyService, logger: Logger,
                passwords: PasswordHasher = PasswordHasher()) {
        self.configuration = configuration
        self.database = database
        self.keys = keys
        self.organizations = OrganizationRepository(database: database)
        self.passwords = passwords
        self.tokenUsage = TokenUsageRecorder()
        self.oidcKeyring = OIDCKeyring(database: database, keys: keys)
        self.logger = logger
    }
}

extension RampartServices {
    /// The organisation an `/o/{slug}/…` address names, by its slug alone: an id in its place
    /// names nothing, so that each organisation has one sign-in address and one issuer.
    func organization(at context: RampartRequestContext) async throws -> Organization? {
        guard let slug = context.parameters.get("slug")?.lowercased(), !slug.isEmpty,
              let organization = try await organizations.find(idOrSlug: slug), organization.slug == slug else { return nil }
        return organization
    }
}
