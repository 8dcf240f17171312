import Foundation

/// Where a log stream sends the organisation's audit log.
public enum LogStreamKind: String, Codable, Sendable, CaseIterable {
    /// RFC 5424 messages over TLS with octet-counting framing (RFC 5425).
    case syslog
    /// Splunk's HTTP Event Collector: HEC event objects POSTed with a token.
    case splunkHEC = "splunk-hec"
    /// An HTTPS POST of each batch, signed with HMAC-SHA256 (`Rampart-Signature`).
    case webhook
    /// Microsoft Sentinel through the Azure Monitor Logs Ingestion API, with an Entra ID token.
    case sentinel

    /// The record formats this kind's receiver takes; the first is the default.
    public var formats: [LogStreamFormat] {
        switch self {
        case .syslog, .webhook: [.json, .cef, .leef, .ocsf]
        case .splunkHEC, .sentinel: [.json, .ocsf]
        }
    }

    /// The API name of the kind's secret, nil for syslog, which has none.
    public var secretField: String? {
        switch self {
        case .syslog: nil
        case .splunkHEC: "token"
        case .webhook: "secret"
        case .sentinel: "clientSecret"
        }
    }

    /// The receiver is an https URL (not syslog's host:port).
    public var isHTTP: Bool { self != .syslog }
}

/// How each event is written for the receiver (docs/events.md).
public enum LogStreamFormat: String, Codable, Sendable, CaseIterable {
    /// The event as `GET /api/v1/audit-events` shows it.
    case json
    /// ArcSight Common Event Format.
    case cef
    /// IBM QRadar Log Event Extended Format 2.0.
    case leef
    /// An Open Cybersecurity Schema Framework event of the action's class.
    case ocsf
}

/// The settings only some kinds have (nil elsewhere). Secrets are not here: they are sealed apart.
public struct LogStreamTarget: Codable, Sendable, Equatable {
    /// Splunk: the index events go to (nil: the token's default index).
    public var index: String?
    /// Sentinel: the Entra ID tenant, the app registration's client id, the data collection
    /// rule's immutable id, its stream, and the token endpoint (by default Entra's, from the tenant).
    public var tenantId: String?
    public var clientId: String?
    public var dcrImmutableId: String?
    public var streamName: String?
    public var tokenUrl: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case index, tenantId, clientId, dcrImmutableId, streamName, tokenUrl }

    public init(index: String? = nil, tenantId: String? = nil, clientId: String? = nil, dcrImmutableId: String? = nil,
                streamName: String? = nil, tokenUrl: String? = nil) {
        self.index = index; self.tenantId = tenantId; self.clientId = clientId
        self.dcrImmutableId = dcrImmutableId; self.streamName = streamName; self.tokenUrl = tokenUrl
    }

    /// The settings that are set, by their API names: what the API, the CLI and audit events show.
    public var named: [(name: String, value: String)] {
        [("index", index), ("tenantId", tenantId), ("clientId", clientId), ("dcrImmutableId", dcrImmutableId),
         ("streamName", streamName), ("tokenUrl", tokenUrl)].compactMap { name, value in value.map { (name, $0) } }
    }

    /// Entra ID's token endpoint of a tenant.
    public static func entraTokenURL(tenant: String) -> String {
        "https://login.microsoftonline.com/\(tenant)/oauth2/v2.0/token"
    }
}

/// What a stream sends of the people in events (`ActorPseudonyms`).
public enum LogStreamPersonalData: String, Codable, Sendable, CaseIterable {
    /// Actors as the log holds them: id, name or email, IP address, user agent.
    case full
    /// Each actor's id and name replaced by the organisation's pseudonym for them, without IP
    /// address or user agent.
    case pseudonymous
}

public enum LogStreamStatus: String, Codable, Sendable, CaseIterable {
    case active
    /// Kept with its cursor, sending nothing until resumed.
    case paused
}

/// Which certificates a stream trusts for its receiver, as a change asks: leave it, go back to
/// the system's roots, or trust these PEM CA certificates.
public enum LogStreamTrust: Sendable, Equatable {
    case unchanged
    case systemRoots
    case pem(String)

    /// The stored value it leads to: nil for the system's roots; nil when it changes nothing.
    public var change: String?? {
        switch self {
        case .unchanged: nil
        case .systemRoots: .some(nil)
        case .pem(let pem): .some(pem)
        }
    }

    /// For a new stream, which has nothing to leave unchanged.
    public var pem: String? { if case .pem(let pem) = self { pem } else { nil } }
}

/// A follower of one organisation's audit log: it sends every event after `cursor`, in order,
/// and moves the cursor only past what the receiver took (at-least-once).
public struct LogStream: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var kind: LogStreamKind
    /// Syslog: `host:port` of the receiver, whose certificate must carry the host. The HTTP
    /// kinds: the https URL (Splunk: the HEC URL; Sentinel: the data collection endpoint).
    public var endpoint: String
    public var format: LogStreamFormat
    public var target: LogStreamTarget
    /// Whether a secret (token, signing secret, client secret) is sealed for the stream; never the secret.
    public var hasSecret: Bool
    /// PEM certificates trusted for the receiver instead of the system's, for private CAs.
    public var caCertificate: String?
    public var status: LogStreamStatus
    /// The sequence number of the last event the receiver took (0: none yet).
    public var cursor: Int64
    public var createdAt: Timestamp
    public var lastSuccessAt: Timestamp?
    public var lastError: String?
    public var lastErrorAt: Timestamp?
    /// Failed attempts since the last success; the wait before the next one grows with it.
    public var failures: Int64
    public var nextAttemptAt: Timestamp?
    /// After this many failed attempts at one batch, its events go to the dead letters and the
    /// stream moves on, so one batch the receiver keeps refusing does not stop it for good.
    public var deadLetterAfter: Int64
    /// How many dead letters wait for a replay or a discard.
    public var deadLetters: Int64
    public var personalData: LogStreamPersonalData
    /// The sequence number of the last signed checkpoint the receiver took (0: none yet).
    public var checkpointCursor: Int64

    /// Ten attempts: with the back-off doubling from 1 s up to 60 s, about five minutes of a
    /// receiver refusing one batch before the stream moves on.
    public static let defaultDeadLetterAfter: Int64 = 10
    public static let deadLetterAfterRange: ClosedRange<Int64> = 1...1000

    public init(id: String, name: String, kind: LogStreamKind, endpoint: String, format: LogStreamFormat = .json,
                target: LogStreamTarget = LogStreamTarget(), hasSecret: Bool = false, caCertificate: String?,
                status: LogStreamStatus, cursor: Int64, createdAt: Timestamp, lastSuccessAt: Timestamp? = nil,
                lastError: String? = nil, lastErrorAt: Timestamp? = nil, failures: Int64 = 0, nextAttemptAt: Timestamp? = nil,
                deadLetterAfter: Int64 = LogStream.defaultDeadLetterAfter, deadLetters: Int64 = 0,
                personalData: LogStreamPersonalData = .full, checkpointCursor: Int64 = 0) {
        self.id = id; self.name = name; self.kind = kind; self.endpoint = endpoint; self.format = format
        self.target = target; self.hasSecret = hasSecret; self.caCertificate = caCertificate
        self.status = status; self.cursor = cursor; self.createdAt = createdAt; self.lastSuccessAt = lastSuccessAt
        self.lastError = lastError; self.lastErrorAt = lastErrorAt; self.failures = failures; self.nextAttemptAt = nextAttemptAt
        self.deadLetterAfter = deadLetterAfter; self.deadLetters = deadLetters; self.personalData = personalData
        self.checkpointCursor = checkpointCursor
    }

    /// The syslog receiver's host and port, from an endpoint `Validate.endpoint` accepted.
    public var hostAndPort: (host: String, port: Int) {
        let colon = endpoint.lastIndex(of: ":")!
        var host = String(endpoint[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, Int(endpoint[endpoint.index(after: colon)...])!)
    }
}

/// A batch a stream's receiver refused `deadLetterAfter` times in a row: the events from
/// `firstSequence` to `lastSequence` (they stay in the log), kept until an admin replays them
/// to the receiver or discards them.
public struct LogStreamDeadLetter: Codable, Sendable, Equatable {
    public var id: String
    public var streamID: String
    public var firstSequence: Int64
    public var lastSequence: Int64
    public var events: Int64
    /// The receiver's last refusal, as the stream's health showed it.
    public var error: String
    public var attempts: Int64
    public var createdAt: Timestamp

    enum CodingKeys: String, CodingKey {
        case id, streamID = "streamId", firstSequence, lastSequence, events, error, attempts, createdAt
    }

    public init(id: String, streamID: String, firstSequence: Int64, lastSequence: Int64, events: Int64, error: String,
                attempts: Int64, createdAt: Timestamp) {
        self.id = id; self.streamID = streamID; self.firstSequence = firstSequence; self.lastSequence = lastSequence
        self.events = events; self.error = error; self.attempts = attempts; self.createdAt = createdAt
    }
}

/// Where a new stream starts reading the log.
public enum LogStreamStart: Sendable, Equatable {
    /// Only events written from now on.
    case now
    /// Every event the log holds.
    case beginning
    /// Backfill: every event that occurred at or after this time.
    case since(Timestamp)
}

extension Validate {
    /// `host:port` (an IPv6 host in brackets), port 1–65535, no scheme or path.
    public static func endpoint(_ raw: String, field: String = "endpoint") throws -> String {
        let value = raw.trimming(.whitespaces)
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw RampartError.invalidField(field, "must be host:port, for example siem.example.com:6514")
        }
        let host = value[..<colon]
        let bracketed = host.hasPrefix("[") && host.hasSuffix("]")
        let allowed = bracketed ? "0123456789abcdefABCDEF:.[]" : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
        guard !host.isEmpty, host.count <= 255, host.allSatisfy({ allowed.contains($0) }) else {
            throw RampartError.invalidField(field, "must be host:port, for example siem.example.com:6514")
        }
        return value
    }
}

extension LogStreamStart {
    /// `now`, `beginning`, or an RFC 3339 time to backfill from.
    public init(parsing text: String, field: String = "start") throws {
        switch text {
        case "now": self = .now
        case "beginning": self = .beginning
        default:
            guard let time = Timestamp(rfc3339: text) else {
                throw RampartError.invalidField(field, "must be now, beginning, or an RFC 3339 time such as 2026-12-01T00:00:00Z")
            }
            self = .since(time)
        }
    }
}
