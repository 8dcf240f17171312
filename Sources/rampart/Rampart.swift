import ArgumentParser
import Foundation
import Logging
import RampartCore
import RampartServer
import RampartStorage

@main
struct Rampart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rampart",
        abstract: "Rampart: the organisation's security and compliance control plane.",
        version: "0.1.0",
        subcommands: [Serve.self, Migrate.self, Org.self, UserCommand.self, GroupCommand.self, ProductCommand.self,
                      TokenCommand.self, Audit.self, Keys.self, SCIMTokenCommand.self, IngestionKeyCommand.self, PolicyCommand.self, LogStreamCommand.self, OAuthClientCommand.self, DomainCommand.self, IdpCommand.self,
                      PluralOf<UserCommand>.self, PluralOf<GroupCommand>.self, PluralOf<ProductCommand>.self,
                      PluralOf<TokenCommand>.self, PluralOf<PolicyCommand>.self])
}

/// `rampart users list` would otherwise fail on its first option ("Unknown option '--org'");
/// a plural typed for a command's name gets pointed at the command instead.
struct PluralOf<Command: ParsableCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Command._commandName + "s", shouldDisplay: false)
    }

    @Argument(parsing: .allUnrecognized) var rest: [String] = []

    func run() throws {
        FileHandle.standardError.write(Data("""
            error: there is no command '\(Command._commandName)s'; did you mean `rampart \(Command._commandName)`? \
            (`rampart \(Command._commandName) --help` lists what it does)\n
            """.utf8))
        throw ExitCode(64)
    }
}

/// The store flags every command shares, so the CLI and the server always agree on the store.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"),
            help: "Directory for the SQLite file and the key file (default: $RAMPART_DATA_DIR, else ./rampart-data).")
    var dataDirOption: String?

    @Option(name: .customLong("database"),
            help: "A postgres:// URL to use PostgreSQL instead of SQLite (default: $RAMPART_DATABASE).")
    var databaseOption: String?

    /// The environment that `scripts/run` honours, so that a command run from anywhere
    /// opens the store the server uses rather than a new one in the current directory.
    var dataDir: String { dataDirOption ?? Self.environment("RAMPART_DATA_DIR") ?? "./rampart-data" }
    var database: String? { databaseOption ?? Self.environment("RAMPART_DATABASE") }

    static func environment(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    func configuration() throws -> DatabaseConfiguration {
        try DatabaseConfiguration.from(dataDirectory: dataDir, databaseURL: database)
    }

    func keySource() -> KeyEncryptionKeySource { .resolve(dataDirectory: dataDir) }

    /// Opens the store for one command; SQLite is migrated on the spot, PostgreSQL must be.
    /// Only a command that makes a store's first content (`org create`) may create a SQLite
    /// file: any other, run where no store is, would otherwise answer from a new empty one.
    /// A "not found" names the store it looked in, so a wrong directory shows at once.
    func withStore<R: Sendable>(creating: Bool = false, _ body: @Sendable (Database) async throws -> R) async throws -> R {
        let configuration = try configuration()
        if case .sqlite(let path) = configuration, !creating, !FileManager.default.fileExists(atPath: path) {
            throw RampartError(.notFound, """
                No Rampart store at \(path). Point --data-dir or RAMPART_DATA_DIR (or --database or \
                RAMPART_DATABASE) at the server's store; `rampart org create` or `rampart serve` creates a new one.
                """)
        }
        let store = Self.describe(configuration)
        let source = keySource()
        do {
            return try await Database.with(configuration, logger: cliLogger) { database in
                if database.flavor == .sqlite { try await Migrator(database: database).migrate() }
                // The audit log's personal data is sealed with the organisations' keys: any
                // command that appends an event or reads one in clear needs them. Without a
                // key file such commands say so (`Tenant.requireKeys`); verification needs none.
                if source.missingKeyFile == nil, let keys = try? KeyService(source: source) { database.attach(keys) }
                return try await body(database)
            }
        } catch let error as RampartError where error.code == .notFound {
            throw RampartError(.notFound, "\(error.message) (store: \(store))")
        }
    }

    /// Where the store is, without credentials: the SQLite file, or PostgreSQL's host and database.
    static func describe(_ configuration: DatabaseConfiguration) -> String {
        switch configuration {
        case .sqlite(let path): return path
        case .postgres(let url):
            guard let parts = URLComponents(string: url) else { return "PostgreSQL" }
            return "PostgreSQL \(parts.host ?? "localhost")\(parts.port.map { ":\($0)" } ?? "")\(parts.path)"
        }
    }
}

let cliLogger: Logger = {
    var logger = Logger(label: "rampart") { JSONLogHandler(label: $0) }
    logger.logLevel = .warning
    return logger
}()

/// Prints a value as JSON (for scripts) or as text (for people).
func emit(json: Bool, _ value: some Encodable, text: () -> String) throws {
    if json {
        // The API's encoder: the same fields, absent values as null.
        print(String(decoding: try JSONBodyEncoder.encode(value, pretty: true), as: UTF8.self))
    } else {
        print(text())
    }
}

/// Turns Rampart's errors into a message and a non-zero exit, never a stack trace.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as RampartError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode(error.code == .notFound ? 4 : 2)
    }
}
