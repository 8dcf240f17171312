import Foundation
import NIOConcurrencyHelpers
import RampartCore
import RampartStorage

/// Seeds the demo organisation "Acme": about fifty people, groups, products, an API token
/// and three days of believable activity, replayed through the same repositories (and so
/// the same audit log) as real changes. Credentials are kept in the data directory (0600)
/// so that each `--demo` start can print them again.
struct DemoSeeder: Sendable {
    let services: RampartServices
    static let slug = "acme"
    static let adminEmail = "admin@acme.test"

    struct Credentials: Codable, Sendable {
        let organization: String
        let adminEmail: String
        let adminPassword: String
        let apiToken: String
        /// The Wiki's OAuth client (absent in a demo seeded before the provider existed).
        var wikiClientID: String?
        var wikiClientSecret: String?

        func banner(publicURL: String) -> String {
            var text = """

            Rampart demo is ready.
              Console:       \(publicURL)/console
              Organization:  \(organization)
              Admin email:   \(adminEmail)
              Admin password: \(adminPassword)
              API token:     \(apiToken)
              Try:           curl -H 'Authorization: Bearer \(apiToken)' \(publicURL)/api/v1/users?limit=5

            """
            if let wikiClientID, let wikiClientSecret {
                text += """
                  Sign in to the Wiki through Rampart (the admin is in Engineering, which has the Wiki):
                    .venv/bin/python examples/oidc_sample_app.py --issuer \(OIDCIssuer.url(slug: organization, publicURL: publicURL)) \\
                      --client-id \(wikiClientID) --client-secret \(wikiClientSecret)
                    then open http://127.0.0.1:8090/

                """
            }
            return text
        }
    }

    private var credentialsPath: String {
        (services.configuration.dataDirectory as NSString).appendingPathComponent("demo-credentials.json")
    }

    func seed() async throws -> Credentials {
        if try await services.organizations.find(idOrSlug: Self.slug) != nil,
           let data = FileManager.default.contents(atPath: credentialsPath),
           let saved = try? JSONDecoder().decode(Credentials.self, from: data) {
            return saved
        }
        if try await services.organizations.find(idOrSlug: Self.slug) != nil {
            throw RampartError(.conflict, "An organization 'acme' exists but its demo credentials are gone; use another data directory.")
        }
        let clock = ReplayClock(start: Timestamp.now().adding(days: -3))
        let provisioner = OrganizationProvisioner(database: services.database, keys: services.keys)
        let created = try await provisioner.create(name: "Acme", slug: Self.slug, region: "eu", adminEmail: Self.adminEmail,
                                                   adminName: "Avery Admin", clock: clock.next)
        let password = SecretToken.generate(.setupLink, orgID: created.organization.id).text.suffix(20).description
        let hash = try await services.passwords.hash(password)
        let wiki = try await services.database.write(org: created.organization.id) { tenant in
            let tenant = tenant.with(clock: clock.next)
            try await tenant.setPasswordHash(hash, for: created.admin.id)
            return try await Self.populate(tenant, admin: created.admin, clock: clock)
        }
        let credentials = Credentials(organization: Self.slug, adminEmail: Self.adminEmail, adminPassword: password,
                                      apiToken: created.apiToken, wikiClientID: wiki.client.id, wikiClientSecret: wiki.secret)
        let data = try JSONEncoder().encode(credentials)
        guard FileManager.default.createFile(atPath: credentialsPath, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw RampartError(.configuration, "Could not write \(credentialsPath); check that the data directory is writable.") }
        return credentials
    }

    private static let firstNames = ["Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Dennis", "Frances", "Ken",
                                     "Radia", "Tim", "Hedy", "Edsger", "Katherine", "Donald", "Sophie", "Yukihiro",
                                     "Guido", "Anita", "Bjarne", "Shafi", "Leslie", "Whitfield", "Lynn", "Vint"]
    private static let lastNames = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Ritchie", "Allen",
                                    "Thompson", "Perlman", "Berners-Lee", "Lamarr", "Dijkstra", "Johnson", "Knuth",
                                    "Wilson", "Matsumoto", "van Rossum", "Borg", "Stroustrup", "Goldwasser", "Lamport",
                                    "Diffie", "Conway", "Cerf"]

    /// The Wiki's redirect URI is the sample app's (`examples/oidc_sample_app.py`) on its default port.
    static let sampleAppRedirectURI = "http://127.0.0.1:8090/callback"

    private static func populate(_ tenant: Tenant, admin: User, clock: ReplayClock) async throws
        -> (client: OAuthClient, secret: String?)
    {
        let adminActor = AuditContext(actor: AuditActor(type: .user, id: admin.id, name: admin.email, ip: "203.0.113.10",
                                                        userAgent: "Mozilla/5.0 (X11; Linux x86_64)"))
        var users: [User] = []
        for i in 0..<49 {
            let first = firstNames[i % firstNames.count]
            let last = lastNames[(i * 7 + i / firstNames.count) % lastNames.count]
            let email = "\(first).\(last)".lowercased().replacingOccurrences(of: " ", with: "") + "@acme.test"
            users.append(try await tenant.createUser(email: email, displayName: "\(first) \(last)", by: adminActor))
        }
        let groups = [
            ("Engineering", "Builds the products"), ("Support", "Answers customers"), ("Sales", "Finds customers"),
            ("Finance", "Keeps the books"), ("Security", "Keeps everyone safe"), ("Contractors", "External staff"),
        ]
        var created: [Group] = []
        for (name, description) in groups {
            created.append(try await tenant.createGroup(name: name, description: description, by: adminActor))
        }
        for (i, user) in users.enumerated() {
            try await tenant.addMember(user.id, to: created[i % created.count].id, by: adminActor)
            if i % 9 == 0 { try await tenant.addMember(user.id, to: created[4].id, by: adminActor) }
        }
        let products: [(String, ProductKind, String, [Int])] = [
            ("Tracker", .issueTracker, "https://tracker.acme.test", [0, 1, 5]),
            ("Wiki", .wiki, "https://wiki.acme.test", [0, 1, 2, 3, 4, 5]),
            ("Service Desk", .serviceDesk, "https://desk.acme.test", [1]),
            ("Chat", .chat, "https://chat.acme.test", [0, 1, 2, 3, 4]),
            ("Code", .sourceControl, "https://code.acme.test", [0, 4]),
        ]
        var wiki: Product?
        for (name, kind, url, access) in products {
            let product = try await tenant.createProduct(name: name, kind: kind, url: url, by: adminActor)
            for index in access { try await tenant.grantProductAccess(product.id, to: created[index].id, by: adminActor) }
            if kind == .wiki { wiki = product }
        }
        try await tenant.addMember(admin.id, to: created[0].id, by: adminActor)
        let client = try await tenant.createOAuthClient(
            productID: wiki!.id, name: "Wiki", type: .confidential, authMethod: nil, firstParty: true,
            redirectURIs: [sampleAppRedirectURI], postLogoutRedirectURIs: [], scopes: nil, by: adminActor)
        try await tenant.assignRole(.userAdmin, to: users[1].id, by: adminActor)
        try await tenant.assignRole(.auditor, to: users[4].id, by: adminActor)
        _ = try await tenant.createAPIToken(name: "HR sync", role: .userAdmin, expiresAt: nil, by: adminActor)

        // Three days of sign-ins (a few failures among them) and the odd directory change.
        for day in 0..<3 {
            for (i, user) in users.enumerated() where (i + day) % 4 == 0 {
                let actor = AuditContext(actor: AuditActor(type: .user, id: user.id, name: user.email,
                                                           ip: "198.51.100.\(10 + i)", userAgent: "Mozilla/5.0"))
                if (i + day) % 12 == 0 {
                    try await tenant.appendAudit([actor.record(.signinFailed, [.user(user)],
                                                               details: AuditDetails(["reason": .string("bad_password")]),
                                                               outcome: .failure)])
                }
                try await tenant.appendAudit([actor.record(.signinSucceeded, [.user(user)])])
                try await tenant.touchLastActive(user.id, at: clock.next())
            }
            clock.advance(hours: 18)
        }
        _ = try await tenant.updateUser(users[7].id, email: nil, displayName: "\(users[7].displayName) (on leave)",
                                        by: adminActor)
        _ = try await tenant.setUserStatus(users[12].id, .deactivated, by: adminActor)
        return client
    }
}

/// A clock that replays history: every reading is a little later than the last, ending
/// before the present.
final class ReplayClock: Sendable {
    private let current: NIOLockedValueBox<Timestamp>

    init(start: Timestamp) { current = NIOLockedValueBox(start) }

    @Sendable func next() -> Timestamp {
        current.withLockedValue { t in
            t = t.adding(seconds: Double.random(in: 20...240))
            return min(t, Timestamp.now())
        }
    }

    func advance(hours: Double) {
        current.withLockedValue { $0 = min($0.adding(seconds: hours * 3600), Timestamp.now()) }
    }
}
