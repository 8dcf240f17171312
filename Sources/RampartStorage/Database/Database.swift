import Foundation
import Logging
import PostgresKit
import _ConnectionPoolModule
import NIOConcurrencyHelpers
import RampartCore
import ServiceLifecycle

/// The store: transactions scoped to one organisation, or global ones for the few
/// tables that are not tenant-owned (organisations, migrations).
public final class Database: Service, Sendable {
    let driver: any DatabaseDriver
    public let configuration: DatabaseConfiguration
    public let logger: Logger
    /// The key service that seals and opens the audit log's personal data in every tenant
    /// transaction; attached once the key-encryption key is loaded (`KeyService.open` does it).
    private let keyService = NIOLockedValueBox<KeyService?>(nil)

    public func attach(_ keys: KeyService) { keyService.withLockedValue { $0 = keys } }

    public static func open(_ configuration: DatabaseConfiguration, logger: Logger) async throws -> Database {
        switch configuration {
        case .sqlite(let path):
            do {
                return Database(driver: try SQLiteDriver.open(path: path, logger: logger),
                                configuration: configuration, logger: logger)
            } catch let error as RampartError {
                throw error
            } catch {
                throw RampartError(.databaseUnavailable,
                                   "Cannot open the SQLite database at \(path): check the directory exists and is writable.")
            }
        case .postgres(let url):
            return Database(driver: try PostgresDriver(url: url, logger: logger), configuration: configuration,
                            logger: logger)
        }
    }

    private init(driver: any DatabaseDriver, configuration: DatabaseConfiguration, logger: Logger) {
        self.driver = driver
        self.configuration = configuration
        self.logger = logger
    }

    public var flavor: SQLFlavor { driver.flavor }

    /// Keeps the PostgreSQL pool alive until graceful shutdown; SQLite just waits for it.
    /// Either way the connections are closed on the way out.
    public func run() async throws {
        switch flavor {
        case .postgres: try? await cancelWhenGracefulShutdown { try await self.driver.run() }
        case .sqlite: try? await gracefulShutdown()
        }
        await driver.close()
    }

    /// Opens the store, runs `body` while the pool runs, then closes it. For the CLI.
    public static func with<R: Sendable>(_ configuration: DatabaseConfiguration, logger: Logger,
                                         _ body: @Sendable (Database) async throws -> R) async throws -> R {
        let database = try await open(configuration, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.driver.run() }
            defer { group.cancelAll() }
            do {
                let result = try await body(database)
                await database.driver.close()
                return result
            } catch {
                await database.driver.close()
                throw error
            }
        }
    }

    public func read<R: Sendable>(org: String, _ body: @Sendable (Tenant) async throws -> R) async throws -> R {
        try await transaction(org: org, readOnly: true, body)
    }

    public func write<R: Sendable>(org: String, _ body: @Sendable (Tenant) async throws -> R) async throws -> R {
        try await transaction(org: org, readOnly: false, body)
    }

    private func transaction<R: Sendable>(org: String, readOnly: Bool,
                                          _ body: @Sendable (Tenant) async throws -> R) async throws -> R {
        let flavor = self.flavor
        let keys = keyService.withLockedValue { $0 }
        return try await mapErrors {
            try await driver.transaction(tenant: org, readOnly: readOnly) { sql in
                try await body(Tenant(orgID: org, sql: sql, flavor: flavor, keys: keys))
            }
        }
    }

    /// A transaction over the tables that belong to no organisation.
    public func global<R: Sendable>(readOnly: Bool = true, _ body: @Sendable (any SQLDatabase) async throws -> R)
        async throws -> R
    {
        try await mapErrors { try await driver.transaction(tenant: nil, readOnly: readOnly, body) }
    }

    /// After an erasure has committed: on SQLite, copies the WAL into the database file and
    /// truncates it, so the erased key's earlier page images leave the WAL; on PostgreSQL,
    /// asks VACUUM to remove the dead row versions (which only the tables' owner may run:
    /// for the server's role it is skipped, and autovacuum or the operator does it, see
    /// docs/security-model.md). Best effort: the erasure itself has already happened.
    public func scrubAfterErasure() async {
        guard flavor == .sqlite else {
            _ = try? await withConnection { sql in try await sql.raw("VACUUM audit_subject_keys, users").run() }
            return
        }
        // The checkpoint answers busy at once, without waiting, while the background
        // checkpointer is copying (`SQLiteCheckpointer`); the erased page images would then
        // stay in the WAL. So it is tried again until it reports it went through, starting no
        // new try after 5 s (one try can wait out the busy timeout for a reader).
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let busy = try? await withConnection { sql in
                try await sql.raw("PRAGMA wal_checkpoint(TRUNCATE)").first()?.decode(column: "busy", as: Int.self)
            }
            guard busy != 0, ContinuousClock.now < deadline else { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Whether any organisation exists: a store not yet migrated holds none.
    public func holdsOrganizations() async throws -> Bool {
        guard try await Migrator(database: self).currentVersion() != nil else { return false }
        return try await global { sql in try await sql.raw("SELECT 1 AS one FROM organizations LIMIT 1").first() != nil }
    }

    /// One connection outside any transaction, for the statements that cannot run inside one:
    /// migrations' own transactions, VACUUM, and a test's CREATE DATABASE.
    public func withConnection<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await mapErrors { try await driver.withConnection(body) }
    }

    public func ping() async throws {
        try await mapErrors { try await driver.ping() }
    }

    public var connectionsInUse: Int { driver.connectionsInUse }
    public var connectionCapacity: Int { driver.connectionCapacity }

    /// A unique index refused a row: on PostgreSQL the transaction is then aborted.
    static func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
        if let error = error as? SQLiteError { return error.isUniqueViolation }
        return false
    }

    /// Driver errors become Rampart's: a lost database is "unavailable" (503), a unique
    /// violation that slipped past a check is a conflict; anything else stays as it is.
    private func mapErrors<R>(_ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let error as RampartError {
            throw error
        } catch let error as PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                if state == "23505" { throw RampartError(.conflict, "A record with the same unique value already exists.") }
                if state.hasPrefix("08") || state.hasPrefix("57P") {
                    throw RampartError(.databaseUnavailable, "The database is unavailable; try again shortly.")
                }
                throw error
            }
            throw RampartError(.databaseUnavailable, "The database is unavailable; try again shortly.")
        } catch let error as SQLiteError {
            if error.isUniqueViolation {
                throw RampartError(.conflict, "A record with the same unique value already exists.")
            }
            if error.isUnavailable {
                throw RampartError(.databaseUnavailable, "The database is unavailable; try again shortly.")
            }
            throw error
        } catch let error as PostgresError {
            throw RampartError(.databaseUnavailable, "The database is unavailable: \(error.code).")
        } catch is _ConnectionPoolModule.ConnectionPoolError {
            throw RampartError(.databaseUnavailable, "The database is unavailable; try again shortly.")
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as ChannelError {
            _ = error
            throw RampartError(.databaseUnavailable, "The database is unavailable; try again shortly.")
        }
    }
}

/// One organisation's view of the store inside one transaction.
public struct Tenant: Sendable {
    public let orgID: String
    public let sql: any SQLDatabase
    public let flavor: SQLFlavor
    /// Nil only in a store opened without its key-encryption key: the audit log then cannot
    /// be appended to or read in clear (`requireKeys`).
    public private(set) var keys: KeyService?
    /// The time of changes made through this view; the demo seeder replays history with its own.
    public var clock: @Sendable () -> Timestamp = { .now() }

    public func with(keys: KeyService) -> Tenant {
        var copy = self
        copy.keys = keys
        return copy
    }

    public func with(clock: @escaping @Sendable () -> Timestamp) -> Tenant {
        var copy = self
        copy.clock = clock
        return copy
    }
}
