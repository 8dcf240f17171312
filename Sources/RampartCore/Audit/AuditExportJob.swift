/// An export of the audit log that runs on the server and can be followed: made by
/// `POST /api/v1/audit-exports`, the console's "Prepare export" buttons or
/// `rampart audit exports create`, run by whichever node holds its lease, its output kept in
/// the database in chunks (any node serves the download) until it expires.
public struct AuditExportJob: Sendable, Equatable {
    public enum Status: String, Sendable, Codable { case queued, running, done, failed }

    /// How long a job and its output are kept after it was requested.
    public static let lifetimeSeconds = 24.0 * 3600
    /// A job interrupted this many times (its node stopped mid-run) is given up as failed.
    public static let maximumAttempts: Int64 = 3

    public var id: String
    /// `jsonl`, `ocsf`, `cef`, `leef`, `csv` or `bundle` (`AuditExport.Format`).
    public var format: String
    public var filter: AuditExportFilter
    public var status: Status
    /// The log it covers: the events after `startSequence` up to `headSequence`, fixed when it
    /// was requested, so a restart writes the same output.
    public var startSequence: Int64
    public var headSequence: Int64
    /// How far through that range the run has read, and how many of those events it wrote
    /// (fewer when filtered).
    public var eventsRead: Int64
    public var eventsWritten: Int64
    public var byteCount: Int64
    public var chunks: Int64
    public var attempts: Int64
    public var error: String?
    public var createdAt: Timestamp
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    public var expiresAt: Timestamp

    public init(id: String, format: String, filter: AuditExportFilter, status: Status, startSequence: Int64, headSequence: Int64,
                eventsRead: Int64 = 0, eventsWritten: Int64 = 0, byteCount: Int64 = 0, chunks: Int64 = 0, attempts: Int64 = 0,
                error: String? = nil, createdAt: Timestamp, startedAt: Timestamp? = nil, finishedAt: Timestamp? = nil,
                expiresAt: Timestamp) {
        self.id = id; self.format = format; self.filter = filter; self.status = status; self.startSequence = startSequence
        self.headSequence = headSequence; self.eventsRead = eventsRead; self.eventsWritten = eventsWritten
        self.byteCount = byteCount; self.chunks = chunks; self.attempts = attempts; self.error = error
        self.createdAt = createdAt; self.startedAt = startedAt; self.finishedAt = finishedAt; self.expiresAt = expiresAt
    }

    /// The events of the range: what `eventsRead` counts towards.
    public var eventsTotal: Int64 { max(0, headSequence - startSequence) }

    /// Whole percent of the range read; 100 once done.
    public var percent: Int64 {
        if status == .done { return 100 }
        return eventsTotal > 0 ? min(100, eventsRead * 100 / eventsTotal) : 0
    }

    public var isFinished: Bool { status == .done || status == .failed }
}

/// Which events an export keeps, as the API's list filters them: an action (or actions starting
/// with it when it ends in '.'), an actor id, a target id, and a time range.
public struct AuditExportFilter: Sendable, Equatable, Encodable {
    public var action: String?
    public var actor: String?
    public var target: String?
    public var since: Timestamp?
    public var until: Timestamp?

    public init(action: String? = nil, actor: String? = nil, target: String? = nil, since: Timestamp? = nil,
                until: Timestamp? = nil) {
        self.action = action; self.actor = actor; self.target = target; self.since = since; self.until = until
    }

    public var isEmpty: Bool { self == AuditExportFilter() }
}
