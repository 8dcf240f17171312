import Crypto
import Foundation
import Logging
import RampartCore
import RampartStorage
import SQLKit

/// The backends every storage and API test runs on. PostgreSQL joins when `scripts/test`
/// (or a developer) provides a throwaway server through these variables:
/// `RAMPART_TEST_POSTGRES_OWNER_URL` (migrations) and `RAMPART_TEST_POSTGRES_APP_URL`
/// (the role the server uses: owns nothing, cannot bypass row-level security).
public enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    public static var all: [Backend] {
        ProcessInfo.processInfo.environment["RAMPART_TEST_POSTGRES_APP_URL"] == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    public static var postgresOwnerURL: String? { ProcessInfo.processInfo.environment["RAMPART_TEST_POSTGRES_OWNER_URL"] }
    public static var postgresAppURL: String? { ProcessInfo.processInfo.environment["RAMPART_TEST_POSTGRES_APP_URL"] }
}

public let testLogger: Logger = {
    var logger = Logger(label: "rampart-test")
    logger.logLevel = .critical
    return logger
}()

/// A throwaway store: a temporary data directory (SQLite file and key file) or the shared
/// test PostgreSQL database, where each test works in organisations of its own.
public struct TestStore: Sendable {
    public let backend: Backend
    public let dataDirectory: String
    public let configuration: DatabaseConfiguration
    public let database: Database
    public let keys: KeyService
    /// PostgreSQL: the owner's URL for this store's database (`asOwner`).
    public let ownerURL: String?

    public static func with<R: Sendable>(_ backend: Backend, _ body: @Sendable (TestStore) async throws -> R)
        async throws -> R
    {
        let directory: String
        let configuration: DatabaseConfiguration
        switch backend {
        case .sqlite:
            directory = try makeScratchDirectory("rampart-test")
            configuration = try .from(dataDirectory: directory, databaseURL: nil)
        case .postgres:
            guard let app = Backend.postgresAppURL else { throw RampartError(.configuration, "no test PostgreSQL") }
            try await PostgresMigration.once()
            // Like the nodes of one deployment, every test on the shared database uses one
            // key-encryption key: the server refuses a KEK that did not wrap the store's keys.
            directory = PostgresMigration.keyDirectory
            configuration = .postgres(url: app)
        }
        defer { if backend == .sqlite { try? FileManager.default.removeItem(atPath: directory) } }
        let keys = try KeyService(source: .resolve(dataDirectory: directory, environment: [:]))
        return try await Database.with(configuration, logger: testLogger) { database in
            database.attach(keys)
            if backend == .sqlite { try await Migrator(database: database).migrate() }
            let store = TestStore(backend: backend, dataDirectory: directory, configuration: configuration,
                                  database: database, keys: keys, ownerURL: Backend.postgresOwnerURL)
            return try await body(store)
        }
    }

    /// A PostgreSQL database of the test's own, made and migrated by the owner, granted to the
    /// app role and dropped afterwards: for tests that take the schema back to an older
    /// version, which the other tests on the shared database must not see.
    public static func withOwnPostgresDatabase<R: Sendable>(_ body: @Sendable (TestStore) async throws -> R) async throws -> R {
        guard let owner = Backend.postgresOwnerURL, let app = Backend.postgresAppURL else {
            throw RampartError(.configuration, "no test PostgreSQL")
        }
        let name = "rampart_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        func on(_ url: String) -> String {
            var components = URLComponents(string: url)!
            components.path = "/" + name
            return components.string!
        }
        let (ownOwner, ownApp) = (on(owner), on(app))
        try await runAsOwner("CREATE DATABASE \(name)", owner: owner)
        let drop = "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"
        let directory = try makeScratchDirectory("rampart-test-pg")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = try KeyService(source: .resolve(dataDirectory: directory, environment: [:]))
        do {
            let role = URLComponents(string: app)?.user ?? "rampart_app"
            try await Database.with(.postgres(url: ownOwner), logger: testLogger) { database in
                _ = try await Migrator(database: database).migrate(grantTo: role)
            }
            let result = try await Database.with(.postgres(url: ownApp), logger: testLogger) { database in
                database.attach(keys)
                return try await body(TestStore(backend: .postgres, dataDirectory: directory, configuration: .postgres(url: ownApp),
                                                database: database, keys: keys, ownerURL: ownOwner))
            }
            try await runAsOwner(drop, owner: owner)
            return result
        } catch {
            try? await runAsOwner(drop, owner: owner)
            throw error
        }
    }

    /// A statement that cannot run inside a transaction, on a connection of the owner's.
    private static func runAsOwner(_ statement: String, owner: String) async throws {
        try await Database.with(.postgres(url: owner), logger: testLogger) { database in
            try await database.withConnection { try await $0.raw(SQLQueryString(statement)).run() }
        }
    }

    /// A new organisation with a first admin, an org-admin token and a setup link.
    public func createOrganization(_ name: String = "Org \(UUID().uuidString.prefix(8))",
                                   adminEmail: String = "admin@example.com") async throws -> OrganizationProvisioner.Result {
        let slug = "t-" + UUID().uuidString.prefix(13).lowercased()
        return try await OrganizationProvisioner(database: database, keys: keys)
            .create(name: name, slug: slug, region: "eu", adminEmail: adminEmail, adminName: "Admin")
    }

    /// Runs SQL as the database owner (PostgreSQL) or on the file (SQLite): for tests that
    /// tamper with storage behind the application's back.
    public func asOwner<R: Sendable>(_ body: @Sendable (Database) async throws -> R) async throws -> R {
        switch backend {
        case .sqlite: return try await body(database)
        case .postgres:
            let keys = self.keys
            return try await Database.with(.postgres(url: ownerURL!), logger: testLogger) { owner in
                owner.attach(keys)
                return try await body(owner)
            }
        }
    }
}

/// Migrates the shared test database once per test process, as its owner, granting the app role.
enum PostgresMigration {
    private static let task = Task<Void, any Error> {
        guard let owner = Backend.postgresOwnerURL else { throw RampartError(.configuration, "no owner URL") }
        let role = URLComponents(string: Backend.postgresAppURL ?? "")?.user ?? "rampart_app"
        try await Database.with(.postgres(url: owner), logger: testLogger) { database in
            _ = try await Migrator(database: database).migrate(grantTo: role)
        }
    }

    static func once() async throws { try await task.value }

    /// The data directory (and so the key file) that all PostgreSQL tests share: one per test
    /// database, so that runs against a developer's long-lived database agree with each other.
    static let keyDirectory: String = {
        let url = Backend.postgresAppURL ?? ""
        let name = "rampart-test-pg-" + SHA256.hash(data: Data(url.utf8)).hexString.prefix(16)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()
}
