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
/// with it when it ends in '.'), an actor id, a target id, a time range, and search words
/// (`q`, matched as the list's search matches them, over the events as people read them).
public struct AuditExportFilter: Sendable, Equatable, Encodable {
    public var action: String?
    public var actor: String?
    public var target: String?
    public var since: Timestamp?
    public var until: Timestamp?
    public var search: AuditSearchText?

    public init(action: String? = nil, actor: String? = nil, target: String? = nil, since: Timestamp? = nil,
                until: Timestamp? = nil, search: AuditSearchText? = nil) {
        self.action = action; self.actor = actor; self.target = target; self.since = since; self.until = until
        self.search = search
    }

    public var isEmpty: Bool { self == AuditExportFilter() }

    /// `name value` for each filter that is set, for a job's page, list and the CLI's text.
    public var summary: [String] {
        [("action", action), ("actor", actor), ("target", target), ("since", since?.rfc3339), ("until", until?.rfc3339),
         ("search", search?.text)].compactMap { name, value in value.map { "\(name) \($0)" } }
    }

    private enum CodingKeys: String, CodingKey { case action, actor, target, since, until, q }

    /// The search words as `q`, the name the list's query and a job's request give them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(action, forKey: .action)
        try container.encodeIfPresent(actor, forKey: .actor)
        try container.encodeIfPresent(target, forKey: .target)
        try container.encodeIfPresent(since, forKey: .since)
        try container.encodeIfPresent(until, forKey: .until)
        try container.encodeIfPresent(search?.text, forKey: .q)
    }
}
