import NIOConcurrencyHelpers
import RampartCore
import SQLKit

/// Organisations are the one table that belongs to no tenant: they are how a tenant is found.
public struct OrganizationRepository: Sendable {
    let database: Database
    /// Organisations found so far, by id and by slug. An organisation's row never changes
    /// once created (nothing updates or deletes it), so what was found stays true; every
    /// issuer endpoint looks its organisation up by slug, and on PostgreSQL that was a round
    /// trip of its own per token request.
    private let found = NIOLockedValueBox<[String: Organization]>([:])
    private static let foundLimit = 10_000
    public init(database: Database) { self.database = database }

    public func all() async throws -> [Organization] {
        try await database.global { sql in
            try await sql.raw("SELECT * FROM organizations ORDER BY created_at, id").all().map(Self.decode)
        }
    }

    public func find(idOrSlug: String) async throws -> Organization? {
        let key = Identifier.canonical(idOrSlug) ?? idOrSlug.lowercased()
        if let known = found.withLockedValue({ $0[key] }) { return known }
        let organization = try await database.global { sql in
            try await sql.raw("SELECT * FROM organizations WHERE id = \(bind: key) OR slug = \(bind: key)")
                .first().map(Self.decode)
        }
        if let organization {
            found.withLockedValue { found in
                if found.count >= Self.foundLimit { found.removeAll() }
                found[key] = organization
            }
        }
        return organization
    }

    static func decode(_ row: any SQLRow) throws -> Organization {
        Organization(id: try row.string("id"), name: try row.string("name"), slug: try row.string("slug"),
                     region: try row.string("region"), createdAt: try row.timestamp("created_at"))
    }
}

extension Tenant {
    public func organization() async throws -> Organization {
        guard let org = try await sql.raw("SELECT * FROM organizations WHERE id = \(bind: orgID)").first()
            .map(OrganizationRepository.decode)
        else { throw RampartError.notFound("Organization") }
        return org
    }
}

/// Creating an organisation: the row, its data key, its first admin and the first events,
/// all in one transaction.
public struct OrganizationProvisioner: Sendable {
    public struct Result: Sendable {
        public let organization: Organization
        public let admin: User
        public let apiToken: String
        public let setupToken: String
    }

    let database: Database
    let keys: KeyService
    public init(database: Database, keys: KeyService) { self.database = database; self.keys = keys }

    public func create(name rawName: String, slug rawSlug: String?, region rawRegion: String?, adminEmail: String,
                       adminName: String?, by context: AuditContext = .system,
                       clock: @escaping @Sendable () -> Timestamp = { .now() }) async throws -> Result {
        let name = try Validate.name(rawName, field: "name")
        let slug = try Validate.slug(rawSlug ?? Validate.slug(fromName: name))
        let region = try Validate.region(rawRegion ?? "default")
        let email = try Validate.email(adminEmail, field: "admin-email")
        let displayName = try Validate.name(adminName ?? String(email.split(separator: "@")[0]), field: "admin-name")
        let orgID = Identifier.make()
        let now = clock()
        let keys = self.keys
        return try await database.write(org: orgID) { tenant in
            // Its first events are sealed with the key service that makes its data key.
            let tenant = tenant.with(keys: keys).with(clock: clock)
            let taken = try await tenant.sql.raw("SELECT id FROM organizations WHERE slug = \(bind: slug)").first()
            if taken != nil { throw RampartError(.conflict, "The slug '\(slug)' is taken; choose another with --slug.") }
            try await tenant.sql.raw("""
                INSERT INTO organizations (id, name, slug, region, created_at)
                VALUES (\(bind: orgID), \(bind: name), \(bind: slug), \(bind: region), \(bind: now.microseconds))
                """).run()
            let organization = Organization(id: orgID, name: name, slug: slug, region: region, createdAt: now)
            try await tenant.startAuditChain()
            try await keys.createOrganizationKey(in: tenant, at: now)
            try await tenant.appendAudit([context.record(.organizationCreated, [.organization(organization)], at: now)])
            var admin = try await tenant.createUser(email: email, displayName: displayName, by: context)
            try await tenant.assignRole(.orgAdmin, to: admin.id, by: context)
            admin.roles = [.orgAdmin]
            let (_, secret) = try await tenant.createAPIToken(name: "Initial admin token", role: .orgAdmin,
                                                              expiresAt: nil, by: context)
            let setup = try await tenant.createSetupLink(for: admin.id, validFor: 7 * 24 * 3600)
            return Result(organization: organization, admin: admin, apiToken: secret, setupToken: setup)
        }
    }
}
