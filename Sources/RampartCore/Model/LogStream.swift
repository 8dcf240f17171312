import Foundation

/// Where a log stream sends the organisation's audit log. Only syslog today; Splunk HEC,
/// Sentinel and webhooks are further kinds of the same stream.
public enum LogStreamKind: String, Codable, Sendable, CaseIterable {
    /// RFC 5424 messages over TLS with octet-counting framing (RFC 5425).
    case syslog
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
    /// `host:port` of the receiver; the host is also the name its certificate must carry.
    public var endpoint: String
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

    public init(id: String, name: String, kind: LogStreamKind, endpoint: String, caCertificate: String?,
                status: LogStreamStatus, cursor: Int64, createdAt: Timestamp, lastSuccessAt: Timestamp? = nil,
                lastError: String? = nil, lastErrorAt: Timestamp? = nil, failures: Int64 = 0, nextAttemptAt: Timestamp? = nil) {
        self.id = id; self.name = name; self.kind = kind; self.endpoint = endpoint; self.caCertificate = caCertificate
        self.status = status; self.cursor = cursor; self.createdAt = createdAt; self.lastSuccessAt = lastSuccessAt
        self.lastError = lastError; self.lastErrorAt = lastErrorAt; self.failures = failures; self.nextAttemptAt = nextAttemptAt
    }

    /// The receiver's host and port, from an endpoint `Validate.endpoint` accepted.
    public var hostAndPort: (host: String, port: Int) {
        let colon = endpoint.lastIndex(of: ":")!
        var host = String(endpoint[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, Int(endpoint[endpoint.index(after: colon)...])!)
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
