import Foundation
import RampartStorage

/// Everything `rampart serve` is told on its command line.
public struct AppConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: String
    public var database: DatabaseConfiguration
    /// The address people reach the console at; used in links Rampart prints or sends.
    public var publicURL: String
    public var demo: Bool
    /// Requests per second each SCIM token may make, with twice as many in a burst. Far above
    /// what Okta or Entra ID send (Entra ID plans 14–70 users a minute), and above the bulk
    /// import of the benchmark, so that only a runaway client meets it.
    public var scimRequestsPerSecond: Double = 2000
    /// Where `/metrics` is served instead of the main address (`--metrics-address host:port`),
    /// so that a public listener never shows it; nil serves it beside the API.
    public var metricsAddress: (host: String, port: Int)?
    /// One JSON line per request on stderr (`--access-log`): method, route pattern, status,
    /// duration and request id, never a query string or a body.
    public var accessLog = false
    /// Caps on connections and on how long a request may take to arrive (`ConnectionGuard`).
    public var connectionLimits = ConnectionLimits.standard
    /// How mail is sent (`--sendmail-command`, `--mail-from`); nil sends none, and
    /// self-service password reset then says to ask an administrator.
    public var mail: MailSettings?
    /// How often the audit log's head is signed, and where checkpoints are witnessed.
    public var auditCheckpoints = AuditCheckpointer.Settings()
    /// Where domain proofs are looked for (`--dns-server`, `--domain-verification-http-base`).
    public var domainVerifier = DomainVerifier.system

    public init(host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String = "./rampart-data",
                database: DatabaseConfiguration? = nil, publicURL: String? = nil, demo: Bool = false) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.database = database ?? .sqlite(path: URL(fileURLWithPath: dataDirectory).appendingPathComponent("rampart.sqlite").path)
        self.publicURL = publicURL ?? "http://localhost:\(port)"
        self.demo = demo
    }

    /// Secure cookies only when people reach Rampart over TLS.
    var secureCookies: Bool { publicURL.lowercased().hasPrefix("https://") }
}
