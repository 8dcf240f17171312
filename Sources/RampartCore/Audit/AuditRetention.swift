/// How long an organisation keeps its audit events, and how far they have been purged.
public struct AuditRetention: Sendable, Equatable {
    public static let defaultDays = 400
    /// One day to a hundred years: a shorter retention would purge what streams are still
    /// sending, and nobody keeps events longer.
    public static let allowedDays = 1...36_500
    public static let maximumReasonLength = 500

    public var retentionDays: Int
    public var legalHold: Bool
    /// Why the hold was placed (a case or matter reference), shown with it.
    public var legalHoldReason: String?
    public var legalHoldSince: Timestamp?
    /// The signed checkpoint the remaining log starts from: genesis until a purge.
    public var purgedThrough: ChainHead
    public var lastPurgeAt: Timestamp?

    public init(retentionDays: Int = defaultDays, legalHold: Bool = false, legalHoldReason: String? = nil,
                legalHoldSince: Timestamp? = nil, purgedThrough: ChainHead = .genesis, lastPurgeAt: Timestamp? = nil) {
        self.retentionDays = retentionDays; self.legalHold = legalHold; self.legalHoldReason = legalHoldReason
        self.legalHoldSince = legalHoldSince; self.purgedThrough = purgedThrough; self.lastPurgeAt = lastPurgeAt
    }

    /// Events that occurred before this are due for purging.
    public func cutoff(now: Timestamp) -> Timestamp { now.adding(days: -retentionDays) }
}

/// What a purge removed.
public struct AuditPurge: Sendable, Equatable {
    /// The events purged, from the first to the last sequence number.
    public let firstSequence: Int64
    public let throughSequence: Int64
    public let events: Int64
    /// The checkpoint the log now verifies from.
    public let checkpoint: ChainHead
    public init(firstSequence: Int64, throughSequence: Int64, events: Int64, checkpoint: ChainHead) {
        self.firstSequence = firstSequence; self.throughSequence = throughSequence; self.events = events
        self.checkpoint = checkpoint
    }
}
