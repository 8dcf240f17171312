import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresKit
import RampartCore

/// The many-node backend. Every tenant transaction first sets `rampart.org_id`, which the
/// row-level-security policies on every tenant table compare against.
final class PostgresDriver: DatabaseDriver {
    let flavor = SQLFlavor.postgres
    private let client: PostgresClient
    private let logger: Logger
    private let maximumConnections: Int
    private let leased = NIOLockedValueBox(0)

    init(url: String, maximumConnections: Int = 16, logger: Logger) throws {
        let parsed: SQLPostgresConfiguration
        do { parsed = try SQLPostgresConfiguration(url: url) } catch {
            throw RampartError(.configuration, "--database is not a valid postgres:// URL.")
        }
        let core = parsed.coreConfiguration
        let tls: PostgresClient.Configuration.TLS =
            switch (core.tls.isEnforced, core.tls.isAllowed) {
            case (true, _): .require(core.tls.sslContext!.configuration)
            case (_, true): .prefer(core.tls.sslContext!.configuration)
            default: .disable
            }
        var configuration: PostgresClient.Configuration
        if let host = core.host, let port = core.port {
            configuration = .init(host: host, port: port, username: core.username, password: core.password,
                                  database: core.database, tls: tls)
        } else if let socket = core.unixSocketPath {
            configuration = .init(unixSocketPath: socket, username: core.username, password: core.password,
                                  database: core.database)
        } else {
            throw RampartError(.configuration, "--database must name a host or a socket.")
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        self.maximumConnections = maximumConnections
        var background = logger
        background.logLevel = .error
        self.client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.logger = logger
    }

    func transaction<R: Sendable>(tenant: String?, readOnly: Bool,
                                  _ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await lease { connection in
            _ = try await connection.simpleQuery(readOnly ? "BEGIN READ ONLY" : "BEGIN").get()
            if let tenant {
                // Transaction-local: the setting ends with the transaction, so a pooled
                // connection never carries one organisation into another's request.
                try await connection.query("SELECT set_config('rampart.org_id', \(tenant), true)", logger: self.logger)
            }
            do {
                let result = try await body(connection.sql(queryLogLevel: nil))
                _ = try await connection.simpleQuery("COMMIT").get()
                return result
            } catch {
                _ = try? await connection.simpleQuery("ROLLBACK").get()
                throw error
            }
        }
    }

    func withConnection<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await lease { try await body($0.sql(queryLogLevel: nil)) }
    }

    /// How long a request waits for a connection before it is told the database is
    /// unavailable. The pool itself would keep a request waiting for a minute while it
    /// retries a database that is down; a 503 now is more useful than a hung request.
    static let leaseTimeout: Duration = .seconds(5)

    private func lease<R: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> R) async throws -> R {
        leased.withLockedValue { $0 += 1 }
        defer { leased.withLockedValue { $0 -= 1 } }
        let started = NIOLockedValueBox(false)
        let client = self.client
        // The task group ends before this function returns, so `body` does not really escape.
        return try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: R?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        started.withLockedValue { $0 = true }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: Self.leaseTimeout)
                    if !started.withLockedValue({ $0 }) {
                        throw RampartError(.databaseUnavailable, "The database is unavailable; try again shortly.")
                    }
                    return nil
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let result = next { return result }
                }
                throw CancellationError()
            }
        }
    }

    func ping() async throws {
        try await lease { _ = try await $0.simpleQuery("SELECT 1").get() }
    }

    func run() async throws { await client.run() }
    func close() async {}

    var connectionsInUse: Int { leased.withLockedValue { $0 } }
    var connectionCapacity: Int { maximumConnections }
}
