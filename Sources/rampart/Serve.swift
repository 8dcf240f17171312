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
    @Option(help: "Argon2id memory for new password hashes, in KiB (default 19456, OWASP's minimum). Hashes made with less are re-computed at the next sign-in.")
    var argon2MemoryKib: UInt32 = PasswordHasher.Parameters.standard.memoryKiB
    @Option(help: "Argon2id passes for new password hashes (default 2).")
    var argon2Iterations: UInt32 = PasswordHasher.Parameters.standard.iterations
    @Option(help: "Argon2id lanes for new password hashes (default 1).")
    var argon2Parallelism: UInt32 = PasswordHasher.Parameters.standard.parallelism
    @Option(help: "Serve /metrics only on this address (host:port), e.g. 127.0.0.1:9090, instead of beside the API.")
    var metricsAddress: String?
    @Flag(help: "Log one JSON line per request (method, route pattern, status, duration, request id) on stderr.")
    var accessLog = false
    @Option(help: "Connections open at once, from everyone (default: $RAMPART_MAX_CONNECTIONS, else 10000); more get 503.")
    var maxConnections: Int?
    @Option(help: "Connections open at once from one client address (default: $RAMPART_MAX_CONNECTIONS_PER_ADDRESS, else 512).")
    var maxConnectionsPerAddress: Int?
    @Option(help: "Seconds a client has to send a request's head (default: $RAMPART_HEADER_TIMEOUT, else 10); then 408.")
    var headerTimeout: Double?
    @Option(help: "Seconds a client has to send a request's body once its head arrived (default: $RAMPART_BODY_TIMEOUT, else 30); then 408.")
    var bodyTimeout: Double?
    @Option(help: "Seconds a kept-alive connection may wait for its next request (default: $RAMPART_IDLE_TIMEOUT, else 60).")
    var idleTimeout: Double?
    @Option(help: "A sendmail-compatible program and its arguments, e.g. '/usr/bin/msmtp --host=smtp.example.com' (default: $RAMPART_SENDMAIL_COMMAND); without it no mail is sent and self-service password reset is off.")
    var sendmailCommand: String?
    @Option(help: "The From: address of mail Rampart sends (default: $RAMPART_MAIL_FROM).")
    var mailFrom: String?
    @Option(help: "Where signed audit checkpoints are appended outside the database: a file (one JSON line each) or an https URL (a JSON POST each) (default: $RAMPART_AUDIT_WITNESS); check them with `audit verify --checkpoints`.")
    var auditWitness: String?
    @Option(help: "Sign an organisation's audit head after this many new events (1…1000000).")
    var auditCheckpointEvents: Int64 = 1000
    @Option(help: "…or after this many seconds with any new event (1…86400).")
    var auditCheckpointSeconds: Double = 300
    @OptionGroup var domainVerification: DomainVerificationOptions

    func validate() throws {
        guard (8 * argon2Parallelism...4_194_304).contains(argon2MemoryKib), (1...64).contains(argon2Iterations),
              (1...16).contains(argon2Parallelism) else {
            throw ValidationError("Argon2id parameters out of range: --argon2-memory-kib 8×lanes…4194304, --argon2-iterations 1…64, --argon2-parallelism 1…16.")
        }
        if let ioThreads, !IOThreads.allowed.contains(ioThreads) {
            throw ValidationError("--io-threads must be between \(IOThreads.allowed.lowerBound) and \(IOThreads.allowed.upperBound).")
        }
        if let metricsAddress, Self.hostAndPort(metricsAddress) == nil {
            throw ValidationError("--metrics-address must be host:port, e.g. 127.0.0.1:9090.")
        }
        if let problem = try connectionLimits().problems.first { throw ValidationError(problem + ".") }
        guard (1...1_000_000).contains(auditCheckpointEvents), (1...86_400).contains(auditCheckpointSeconds) else {
            throw ValidationError("--audit-checkpoint-events must be 1…1000000 and --audit-checkpoint-seconds 1…86400.")
        }
    }

    /// The flags, else the environment, else `ConnectionLimits.standard`.
    func connectionLimits() throws -> ConnectionLimits {
        func number<T: LosslessStringConvertible>(_ flag: T?, _ variable: String, _ fallback: T) throws -> T {
            if let flag { return flag }
            guard let text = StoreOptions.environment(variable) else { return fallback }
            guard let value = T(text) else { throw ValidationError("\(variable) must be a number.") }
            return value
        }
        let standard = ConnectionLimits.standard
        return ConnectionLimits(
            maximumConnections: try number(maxConnections, "RAMPART_MAX_CONNECTIONS", standard.maximumConnections),
            maximumConnectionsPerAddress: try number(maxConnectionsPerAddress, "RAMPART_MAX_CONNECTIONS_PER_ADDRESS",
                                                     standard.maximumConnectionsPerAddress),
            headerTimeout: try number(headerTimeout, "RAMPART_HEADER_TIMEOUT", standard.headerTimeout),
            bodyTimeout: try number(bodyTimeout, "RAMPART_BODY_TIMEOUT", standard.bodyTimeout),
            idleTimeout: try number(idleTimeout, "RAMPART_IDLE_TIMEOUT", standard.idleTimeout))
    }

    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port), colon > text.startIndex else { return nil }
        return (String(text[..<colon]), port)
    }

    /// The same environment `scripts/run` reads, so either way of starting listens where asked.
    var listenHost: String { host ?? StoreOptions.environment("RAMPART_HOST") ?? "127.0.0.1" }
    var listenPort: Int { port ?? StoreOptions.environment("RAMPART_PORT").flatMap { Int($0) } ?? 8080 }

    func run() async throws {
        let (host, port) = (listenHost, listenPort)
        var configuration = AppConfiguration(host: host, port: port, dataDirectory: store.dataDir,
                                             database: try store.configuration(), publicURL: publicURL, demo: demo)
        configuration.metricsAddress = metricsAddress.flatMap(Self.hostAndPort)
        configuration.accessLog = accessLog
        configuration.connectionLimits = try connectionLimits()
        if let command = sendmailCommand ?? StoreOptions.environment("RAMPART_SENDMAIL_COMMAND") {
            guard let from = mailFrom ?? StoreOptions.environment("RAMPART_MAIL_FROM") else {
                throw ValidationError("--sendmail-command needs --mail-from, the address mail is sent from.")
            }
            do {
                configuration.mail = try MailSettings.parse(command: command, from: from)
            } catch let error as RampartError {
                throw ValidationError(error.message)
            }
        }
        do {
            configuration.auditCheckpoints = AuditCheckpointer.Settings(
                witness: try (auditWitness ?? StoreOptions.environment("RAMPART_AUDIT_WITNESS")).map(CheckpointWitness.parse),
                everyEvents: auditCheckpointEvents, intervalSeconds: auditCheckpointSeconds)
        } catch let error as RampartError {
            throw ValidationError(error.message)
        }
        configuration.domainVerifier = try domainVerification.verifier()
        if PublicSuffixList.system.isEmpty {
            FileHandle.standardError.write(Data("""
                Note: \(PublicSuffixList.systemPath) is missing (Debian package publicsuffix); domain claims then refuse \
                top-level domains only, not other public suffixes such as co.uk.\n
                """.utf8))
        }
        FileDescriptorLimit.raise()
        IOThreads.configure(ioThreads ?? IOThreads.default(for: configuration.database))
        LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        var logger = Logger(label: "rampart")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        try await runReportingErrors {
            let parameters = PasswordHasher.Parameters(iterations: argon2Iterations, memoryKiB: argon2MemoryKib,
                                                       parallelism: argon2Parallelism)
            let app = try await buildApplication(configuration, logger: logger, passwords: PasswordHasher(parameters: parameters))
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
