import ArgumentParser
import Foundation
import RampartCore
import RampartServer
import RampartStorage

struct Org: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create and list organisations.",
                                                    subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an organisation with a first admin; prints its id, an admin API token and a setup link.")

        @OptionGroup var store: StoreOptions
        @Option(help: "Display name.") var name: String
        @Option(help: "The first org-admin's email.") var adminEmail: String
        @Option(help: "Stable short name (a-z, 0-9, '-'); derived from the name if left out.") var slug: String?
        @Option(help: "Data-residency label, e.g. eu or us.") var region: String?
        @Option(help: "The URL people reach Rampart at, for the setup link; defaults to the one `rampart serve` last ran with on this data directory.")
        var publicURL: String?
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            let organization: Organization
            let adminUserId: String
            let apiToken: String
            let setupLink: String
        }

        func run() async throws {
            try await runReportingErrors {
                let result = try await store.withStore(creating: true) { database in
                    let keys = try await KeyService.open(source: store.keySource(), database: database)
                    try await keys.checkMatches(database)
                    return try await OrganizationProvisioner(database: database, keys: keys)
                        .create(name: name, slug: slug, region: region, adminEmail: adminEmail, adminName: nil)
                }
                let (base, origin) = store.publicURL(publicURL)
                let link = PublicLink.to("/console/setup?token=\(result.setupToken)", at: base)
                let output = Output(organization: result.organization, adminUserId: result.admin.id,
                                    apiToken: result.apiToken, setupLink: link)
                try emit(json: json, output) {
                    """
                    Created organization \(result.organization.name) (\(result.organization.slug))
                      id:          \(result.organization.id)
                      admin:       \(result.admin.email)
                      API token:   \(result.apiToken)   (shown once; org-admin)
                      setup link:  \(link)   (one use, valid 7 days; address \(origin))
                    """
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organisations.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runReportingErrors {
                let orgs = try await store.withStore { try await OrganizationRepository(database: $0).all() }
                try emit(json: json, ["data": orgs]) {
                    orgs.isEmpty ? "No organizations yet; create one with `rampart org create`."
                        : orgs.map { "\($0.id)  \($0.slug)  \($0.region)  \($0.name)" }.joined(separator: "\n")
                }
            }
        }
    }
}

extension StoreOptions {
    /// Where links printed for people point, and why there: the flag, what the server
    /// recorded on this data directory, or a default the operator is told to replace.
    func publicURL(_ flag: String?) -> (String, String) {
        if let flag { return (flag, "from --public-url") }
        if let recorded = PublicURLRecord.load(dataDirectory: dataDir) {
            return (recorded, "that `rampart serve` last ran with")
        }
        return ("http://localhost:8080", "assumed: no server has run on this data directory; pass --public-url")
    }
}

/// Finds an organisation by id or slug, or stops with a clear message.
func resolveOrganization(_ idOrSlug: String, in database: Database) async throws -> Organization {
    guard let org = try await OrganizationRepository(database: database).find(idOrSlug: idOrSlug) else {
        throw RampartError(.notFound, "No organization '\(idOrSlug)'; `rampart org list` shows them.")
    }
    return org
}
