import ArgumentParser
import Foundation
import Hummingbird
import Logging
import RampartCore
import RampartServer
import RampartStorage

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server: console, admin API and background services.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on (default: $RAMPART_HOST, else 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (default: $RAMPART_PORT, else 8080).") var port: Int?
    @Option(help: "The URL people reach Rampart at (for links); defaults to http://localhost:<port>.")
    var publicURL: String?
    @Flag(help: "Seed the demo organisation 'acme' and print its credentials.") var demo = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"
    @Option(help: "Threads for network I/O; handlers run on a pool of one thread per core. Default: half the cores (at least 1) on SQLite, one per core on PostgreSQL.")
    var ioThreads: Int?

    func validate() throws {
        if let ioThreads, !IOThreads.allowed.contains(ioThreads) {
            throw ValidationError("--io-threads must be between \(IOThreads.allowed.lowerBound) and \(IOThreads.allowed.upperBound).")
        }
    }

    /// The same environment `scripts/run` reads, so either way of starting listens where asked.
    var listenHost: String { host ?? StoreOptions.environment("RAMPART_HOST") ?? "127.0.0.1" }
    var listenPort: Int { port ?? StoreOptions.environment("RAMPART_PORT").flatMap { Int($0) } ?? 8080 }

    func run() async throws {
        let (host, port) = (listenHost, listenPort)
        let configuration = AppConfiguration(host: host, port: port, dataDirectory: store.dataDir,
                                             database: try store.configuration(), publicURL: publicURL, demo: demo)
        IOThreads.configure(ioThreads ?? IOThreads.default(for: configuration.database))
        LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        var logger = Logger(label: "rampart")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        try await runReportingErrors {
            let app = try await buildApplication(configuration, logger: logger)
            do {
                try await app.runService()
            } catch {
                throw RampartError.listenFailure(error, host: host, port: port) ?? error
            }
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring the store's schema up to date (on PostgreSQL, run it as the owner role).")

    @OptionGroup var store: StoreOptions
    @Option(help: "PostgreSQL: the role the server connects as; it gets row access and nothing more.")
    var grantTo: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            let applied = try await Database.with(try store.configuration(), logger: cliLogger) { database in
                try await Migrator(database: database).migrate(grantTo: grantTo)
            }
            try emit(json: json, ["applied": applied]) {
                applied.isEmpty ? "The schema is up to date." : "Applied migrations: \(applied.map(String.init).joined(separator: ", "))."
            }
        }
    }
}
