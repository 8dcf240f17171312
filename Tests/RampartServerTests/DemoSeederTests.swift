import Foundation
import RampartCore
@testable import RampartServer
import RampartStorage
import RampartTestSupport
import Testing

/// `rampart serve --demo`: the organisation `scripts/run` shows a first-time user.
@Suite("Demo data")
struct DemoSeederTests {
    // SQLite only: the demo is what `scripts/run` starts, on SQLite, and its fixed slug would
    // collide across runs on the shared PostgreSQL test database.
    @Test func seedsAUsableOrganizationOnceAndPrintsTheSameCredentialsAfterwards() async throws {
        try await withApp(.sqlite) { client, store in
            let services = RampartServices(
                configuration: AppConfiguration(dataDirectory: store.dataDirectory, database: store.configuration),
                database: store.database, keys: store.keys, logger: testLogger, passwords: testPasswords)
            let credentials = try await DemoSeeder(services: services).seed()
            let api = API(client: client, token: credentials.apiToken)

            let users = try await api.object(.get, "/users?limit=200", expect: .ok)["data"] as? [[String: Any]] ?? []
            #expect(users.count == 50)
            #expect(users.contains { $0["status"] as? String == "deactivated" })
            let groups = try await api.object(.get, "/groups?limit=200", expect: .ok)["data"] as? [[String: Any]] ?? []
            #expect(groups.count == 6)
            let products = try await api.object(.get, "/products?limit=200", expect: .ok)["data"] as? [[String: Any]] ?? []
            #expect(products.count == 5)
            let tokens = try await api.object(.get, "/api-tokens?limit=200", expect: .ok)["data"] as? [[String: Any]] ?? []
            #expect(tokens.count == 2)
            let clients = try await api.object(.get, "/oauth-clients", expect: .ok)["data"] as? [[String: Any]] ?? []
            #expect(clients.count == 1 && clients.first?["clientId"] as? String == credentials.wikiClientID)
            #expect(credentials.wikiClientSecret?.hasPrefix("rcs_") == true)
            #expect(credentials.banner(publicURL: "http://localhost:8080").contains("--issuer http://localhost:8080/o/acme"))

            // A few days of history, in the log a real change would write, and intact.
            let org = try #require(try await services.organizations.find(idOrSlug: DemoSeeder.slug))
            let events = try await store.database.read(org: org.id) {
                try await $0.auditEvents(after: 0, limit: 10_000)
            }
            let span = try #require(events.last).occurredAt.microseconds - (try #require(events.first)).occurredAt.microseconds
            #expect(span > 2 * 86_400 * 1_000_000)
            #expect(Set(events.map(\.action)).isSuperset(of: ["user.created", "group.member_added", "auth.signin_succeeded",
                                                             "auth.signin_failed", "product.access_granted"]))
            #expect(try await AuditVerifier(database: store.database).verify(org).failure == nil)

            // The printed password is the admin's console password.
            let admin = try #require(try await store.database.read(org: org.id) { try await $0.user(email: DemoSeeder.adminEmail) })
            let hash = try await store.database.read(org: org.id) { try await $0.passwordHash(for: admin.id) }
            #expect(try await testPasswords.verify(credentials.adminPassword, against: hash))

            // Credentials stay readable by their owner only, and a second start seeds nothing.
            let path = store.dataDirectory + "/demo-credentials.json"
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let again = try await DemoSeeder(services: services).seed()
            #expect(again.apiToken == credentials.apiToken && again.adminPassword == credentials.adminPassword)
            #expect(try await auditCount(store, org.id) == Int64(events.count))

            // Without its credentials file the demo cannot show a password: it says so, and
            // seeds nothing over the existing organisation.
            try FileManager.default.removeItem(atPath: path)
            await #expect(throws: RampartError.self) { try await DemoSeeder(services: services).seed() }
            #expect(try await auditCount(store, org.id) == Int64(events.count))
        }
    }
}
