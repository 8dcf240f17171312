import Foundation
import RampartCore
import SQLKit

/// The audit log: appended inside the transaction of the change it records, read by
/// sequence number, verified end to end.
extension Tenant {
    func startAuditChain() async throws {
        try await sql.raw("""
            INSERT INTO audit_heads (org_id, last_seq, last_hash) VALUES (\(bind: orgID), 0, \(bind: AuditChain.genesisHash))
            """).run()
    }

    /// Appends events in order. The head row is locked for the rest of the transaction, so
    /// concurrent writers of one organisation take turns and sequence numbers have no gaps.
    /// Personal data is sealed under its subjects' keys, loaded once per distinct subject.
    @discardableResult
    public func appendAudit(_ records: [AuditRecord]) async throws -> [AuditEvent] {
        try await appendAudit(PreparedAuditBatch(unsealed: records))
    }

    /// Seals `records` with the subject keys that exist, without the head: in a read
    /// transaction, before the writer's, so that writers hold the log only to link and store.
    /// A subject key found here and destroyed before the append commits leaves its values
    /// sealed under a key that is gone, as erasure intends.
    public func prepareAudit(_ records: [AuditRecord]) async throws -> PreparedAuditBatch {
        let found = try await existingSubjectKeys(for: Self.subjects(of: records))
        let sealer = AuditSealer(orgID: orgID, keys: found.keys)
        return PreparedAuditBatch(records: records, events: sealer.prepare(records, leavingOut: Set(found.unknown.keys)))
    }

    /// Appends a batch sealed by `prepareAudit`, in its order.
    @discardableResult
    public func appendAudit(_ batch: PreparedAuditBatch) async throws -> [AuditEvent] {
        guard !batch.records.isEmpty else { return [] }
        return try await append(batch, after: try await lockedHead())
    }

    /// Appends `batch` after `head`, whose row the caller has locked; the records that named a
    /// subject without a key are sealed now, under that lock, where keys are made.
    @discardableResult
    func append(_ batch: PreparedAuditBatch, after head: ChainHead) async throws -> [AuditEvent] {
        guard !batch.records.isEmpty else { return [] }
        var events = batch.events
        let pending = events.indices.filter { events[$0] == nil }
        if !pending.isEmpty {
            let records = pending.map { batch.records[$0] }
            let sealer = AuditSealer(orgID: orgID, keys: try await subjectKeys(for: Self.subjects(of: records)))
            for (index, event) in zip(pending, sealer.prepare(records)) { events[index] = event }
        }
        return try await store(events.compactMap { $0 }, after: head, rangeTarget: batch.rangeTarget)
    }

    /// Links prepared events after `start` and stores them. `rangeTarget`, which every event
    /// names, is indexed as one range per block instead of a row per event.
    private func store(_ prepared: [PreparedAuditEvent], after start: ChainHead, rangeTarget: String?) async throws
        -> [AuditEvent]
    {
        var head = start
        var events: [AuditEvent] = []
        var targetRows: [[ColumnValue]] = []
        events.reserveCapacity(prepared.count)
        for p in prepared {
            let event = AuditChain.link(p, orgID: orgID, after: head, at: clock())
            head = ChainHead(sequence: event.sequence, hash: event.hash)
            events.append(event)
            let block = ColumnValue(AuditBlocks.block(of: event.sequence))
            for id in p.targetIDs where id != rangeTarget {
                targetRows.append([ColumnValue(orgID), block, ColumnValue(id), ColumnValue(event.sequence)])
            }
        }
        try await insertRows(
            into: "audit_events",
            columns: ["org_id", "seq", "id", "occurred_at", "action", "outcome", "actor_type", "actor_id", "actor_name",
                      "actor_ip", "actor_user_agent", "targets", "request_id", "details", "prev_hash", "hash", "encoding",
                      "personal"],
            rows: events.map { e in
                [ColumnValue(e.orgID), ColumnValue(e.sequence), ColumnValue(e.id), ColumnValue(e.occurredAt.microseconds),
                 ColumnValue(e.action), ColumnValue(e.outcome), ColumnValue(e.actor.type.rawValue), ColumnValue(e.actor.id),
                 ColumnValue(e.actor.name), ColumnValue(e.actor.ip), ColumnValue(e.actor.userAgent), ColumnValue(e.targetsJSON),
                 ColumnValue(e.requestID), ColumnValue(e.detailsJSON), ColumnValue(e.previousHash), ColumnValue(e.hash),
                 ColumnValue(Int64(e.encoding)), ColumnValue(e.personal)]
            })
        try await insertRows(into: "audit_event_targets", columns: ["org_id", "block", "target_id", "seq"], rows: targetRows)
        if let rangeTarget, let first = events.first?.sequence {
            try await insertRows(
                into: "audit_target_ranges", columns: ["org_id", "block", "target_id", "first_seq", "last_seq"],
                rows: AuditBlocks.ranges(from: first, through: head.sequence).map {
                    [ColumnValue(orgID), ColumnValue($0.block), ColumnValue(rangeTarget), ColumnValue($0.first), ColumnValue($0.last)]
                })
        }
        try await sql.raw("""
            UPDATE audit_heads SET last_seq = \(bind: head.sequence), last_hash = \(bind: head.hash)
            WHERE org_id = \(bind: orgID)
            """).run()
        return events
    }

    /// The distinct subjects whose personal data `records` hold.
    static func subjects(of records: [AuditRecord]) -> Set<AuditSubject> {
        var subjects = Set<AuditSubject>()
        for record in records { record.addSubjects(to: &subjects) }
        return subjects
    }

    /// Locks the organisation's head row for the rest of the transaction (PostgreSQL); on
    /// SQLite the single writer already serialises. Also used to serialise rare invariant checks.
    func lockedHead() async throws -> ChainHead {
        let lock = flavor == .postgres ? " FOR UPDATE" : ""
        guard let row = try await sql.raw(SQLQueryString(
            "SELECT last_seq, last_hash FROM audit_heads WHERE org_id = ") + "\(bind: orgID)" + SQLQueryString(lock)
        ).first() else {
            throw RampartError(.integrity, "The organisation's audit log has no head.")
        }
        return ChainHead(sequence: try row.int("last_seq"), hash: try row.string("last_hash"))
    }

    public func auditHead() async throws -> ChainHead {
        guard let row = try await sql.raw("SELECT last_seq, last_hash FROM audit_heads WHERE org_id = \(bind: orgID)")
            .first()
        else { return .genesis }
        return ChainHead(sequence: try row.int("last_seq"), hash: try row.string("last_hash"))
    }

    public func auditEvents(_ query: AuditQuery) async throws -> Page<AuditEvent> {
        let events = try await filteredEvents(query, before: query.beforeSequence, limit: query.limit + 1)
        if events.count > query.limit {
            let kept = Array(events.prefix(query.limit))
            return Page(items: kept, nextCursor: kept.last.map { String($0.sequence) })
        }
        return Page(items: events, nextCursor: nil)
    }

    /// The events the filters keep before sequence number `before`, newest first, opened. An
    /// actor or target filter reads its index window by window (`AuditBlocks`), newest first,
    /// until the page is full.
    func filteredEvents(_ query: AuditQuery, before: Int64?, limit: Int) async throws -> [AuditEvent] {
        guard query.actor != nil || query.target != nil else {
            return try await filteredEvents(query, before: before, limit: limit, window: nil)
        }
        let end: Int64
        if let before { end = before } else { end = try await auditHead().sequence + 1 }
        var found: [AuditEvent] = []
        for window in AuditBlocks.windows(below: end) where found.count < limit {
            found += try await filteredEvents(query, before: nil, limit: limit - found.count, window: window)
        }
        return found
    }

    /// `window`: the sequence numbers in which the actor and target filters read their indexes.
    private func filteredEvents(_ query: AuditQuery, before: Int64?, limit: Int, window: Range<Int64>?) async throws
        -> [AuditEvent]
    {
        var q = SQLQueryString("SELECT e.* FROM audit_events e WHERE e.org_id = ") + "\(bind: orgID)"
        if let action = query.action {
            if action.hasSuffix(".") {
                q = q + " AND e.action LIKE " + "\(bind: Self.escapeLike(action) + "%")" + SQLQueryString(" ESCAPE '\\'")
            } else {
                q = q + " AND e.action = " + "\(bind: action)"
            }
        }
        // The window bounds the sequence numbers inside the subqueries only: a range on `e.seq`
        // as well would have SQLite scan the window's events instead of seeking the few named.
        if let window, let actor = query.actor {
            q = q + " AND e.seq IN (" + AuditBlocks.sequences(org: orgID, actor: actor, in: window) + ")"
        }
        if let window, let target = query.target {
            q = q + " AND e.seq IN (" + AuditBlocks.sequences(org: orgID, target: target, in: window) + ")"
        }
        if let since = query.since { q = q + " AND e.occurred_at >= " + "\(bind: since.microseconds)" }
        if let until = query.until { q = q + " AND e.occurred_at < " + "\(bind: until.microseconds)" }
        if let before { q = q + " AND e.seq < " + "\(bind: before)" }
        q = q + " ORDER BY e.seq DESC LIMIT " + "\(bind: limit)"
        return try await readable(try await sql.raw(q).all().map(Self.decodeEvent))
    }

    /// The events after `sequence`, oldest first: how the verifier, exports and log streams
    /// follow the log. Read by position (`ColumnReader`), which is most of the cost of a
    /// stream's batch. `.readable` opens personal data (erased subjects read as erased);
    /// `.stored` gives the bytes the chain hashes, for verification and bundles.
    public func auditEvents(after sequence: Int64, limit: Int, as form: AuditEventForm = .readable) async throws
        -> [AuditEvent]
    {
        let stored = try await rows("""
            SELECT org_id, seq, id, occurred_at, action, outcome, actor_type, actor_id, actor_name, actor_ip,
            actor_user_agent, targets, request_id, details, prev_hash, hash, encoding, personal
            FROM audit_events WHERE org_id = ?1 AND seq > CAST(?2 AS BIGINT) ORDER BY seq LIMIT CAST(?3 AS BIGINT)
            """, [orgID, String(sequence), String(limit)]) { row in
            AuditEvent(
                orgID: try row.text(0), sequence: try row.integer(1), id: try row.text(2), occurredAt: try row.timestamp(3),
                action: try row.text(4), outcome: try row.text(5),
                actor: AuditActor(type: AuditActor.Kind(rawValue: try row.text(6)) ?? .system, id: try row.optionalText(7),
                                  name: try row.optionalText(8), ip: try row.optionalText(9), userAgent: try row.optionalText(10)),
                targetsJSON: try row.text(11), requestID: try row.optionalText(12), detailsJSON: try row.text(13),
                previousHash: try row.text(14), hash: try row.text(15), encoding: Int(try row.integer(16)),
                personal: try row.optionalText(17))
        }
        return form == .stored ? stored : try await readable(stored)
    }

    /// `events` with their personal data opened, the subject keys of the whole batch read at once.
    public func readable(_ events: [AuditEvent]) async throws -> [AuditEvent] {
        guard events.contains(where: { AuditEncoding.isSealed($0.encoding) }) else { return events }
        return try await subjectKeys(opening: events).open(events)
    }

    public func auditEventCount() async throws -> Int64 {
        try await sql.raw("SELECT COUNT(*) AS n FROM audit_events WHERE org_id = \(bind: orgID)").first()!.int("n")
    }

    static func decodeEvent(_ row: any SQLRow) throws -> AuditEvent {
        AuditEvent(
            orgID: try row.string("org_id"), sequence: try row.int("seq"), id: try row.string("id"),
            occurredAt: try row.timestamp("occurred_at"), action: try row.string("action"),
            outcome: try row.string("outcome"),
            actor: AuditActor(type: AuditActor.Kind(rawValue: try row.string("actor_type")) ?? .system,
                              id: try row.optionalString("actor_id"), name: try row.optionalString("actor_name"),
                              ip: try row.optionalString("actor_ip"), userAgent: try row.optionalString("actor_user_agent")),
            targetsJSON: try row.string("targets"), requestID: try row.optionalString("request_id"),
            detailsJSON: try row.string("details"), previousHash: try row.string("prev_hash"), hash: try row.string("hash"),
            encoding: Int(try row.int("encoding")), personal: try row.optionalString("personal"))
    }

    static func escapeLike(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}

/// Which form of stored events a read returns.
public enum AuditEventForm: Sendable {
    /// Personal data opened with the subject keys; what people, exports and streams get.
    case readable
    /// Exactly as stored and hashed: sealed personal data.
    case stored
}

public struct AuditQuery: Sendable {
    public var actor: String?
    public var action: String?
    public var target: String?
    public var since: Timestamp?
    public var until: Timestamp?
    public var beforeSequence: Int64?
    public var limit: Int
    public init(actor: String? = nil, action: String? = nil, target: String? = nil, since: Timestamp? = nil,
                until: Timestamp? = nil, beforeSequence: Int64? = nil, limit: Int = 50) {
        self.actor = actor; self.action = action; self.target = target; self.since = since; self.until = until
        self.beforeSequence = beforeSequence; self.limit = limit
    }
}

/// Walks every organisation's chain (or one) and reports the first break.
public struct AuditVerifier: Sendable {
    public struct Report: Sendable {
        public let organization: Organization
        public let events: Int64
        public let failure: AuditChainVerifier.Break?
        /// The head the chain was verified up to (nil when it broke).
        public var head: ChainHead? = nil
        /// The events before this one were purged under retention (0: none).
        public var purgedThrough: Int64 = 0
    }

    let database: Database
    public init(database: Database) { self.database = database }

    /// `progress` hears, after each batch, how many events have been checked and how many the
    /// head says there are. `savedHeads` are heads kept outside the database (`--expect-head`);
    /// `checkpoints` are this organisation's signed checkpoints from a witness: each must carry
    /// a valid signature by one of the organisation's checkpoint keys, and then counts as a
    /// saved head. Every saved head must still be in the chain, with the same hash (see
    /// `AuditChainVerifier`).
    public func verify(_ organization: Organization, savedHeads: [ChainHead] = [], checkpoints: [AuditCheckpoint] = [],
                       progress: (@Sendable (_ checked: Int64, _ total: Int64) -> Void)? = nil) async throws -> Report {
        try await database.read(org: organization.id) { tenant in
            let publicKeys = checkpoints.isEmpty ? [:] : try await tenant.auditCheckpointPublicKeys()
            for checkpoint in checkpoints where !checkpoint.signatureIsValid || publicKeys[checkpoint.keyID] != checkpoint.publicKey {
                return Report(organization: organization, events: 0, failure: AuditChainVerifier.Break(
                    sequence: checkpoint.sequence,
                    reason: checkpoint.signatureIsValid
                        ? "the checkpoint is signed by a key this organisation does not have (key \(checkpoint.keyID.prefix(40)))"
                        : "the checkpoint's signature does not verify (the witness was altered)"))
            }
            let head = try await tenant.auditHead()
            let start: ChainHead
            var verifier: AuditChainVerifier
            do {
                start = try await Self.start(in: tenant)
                verifier = try AuditChainVerifier(start: start, witnesses: savedHeads + checkpoints.map(\.head))
            } catch let failure as AuditChainVerifier.Break {
                return Report(organization: organization, events: 0, failure: failure)
            }
            do {
                var last = start.sequence
                var indexed = TargetIndexCount()
                while true {
                    let batch = try await tenant.auditEvents(after: last, limit: 2000, as: .stored)
                    for event in batch { try verifier.check(event) }
                    guard let end = batch.last else { break }
                    try await Self.checkTargetIndex(of: batch, after: last, in: tenant, counted: &indexed)
                    last = end.sequence
                    progress?(verifier.count, head.sequence - start.sequence)
                }
                try verifier.finish(head: head)
                try await Self.checkTargetIndexHoldsNoOtherRows(counted: indexed, after: start.sequence, in: tenant)
                return Report(organization: organization, events: verifier.count, failure: nil, head: head,
                              purgedThrough: start.sequence)
            } catch let failure as AuditChainVerifier.Break {
                return Report(organization: organization, events: verifier.count, failure: failure)
            }
        }
    }

    /// Where the stored log begins: the genesis, or the signed checkpoint a purge went through,
    /// whose signature and key must check out (a head written into the table alone proves nothing).
    static func start(in tenant: Tenant) async throws -> ChainHead {
        let purged = try await tenant.auditRetention().purgedThrough
        guard purged.sequence > 0 else { return .genesis }
        let keys = try await tenant.auditCheckpointPublicKeys()
        guard let checkpoint = try await tenant.auditCheckpoint(at: purged.sequence), checkpoint.signatureIsValid,
              keys[checkpoint.keyID] == checkpoint.publicKey, checkpoint.head == purged else {
            throw AuditChainVerifier.Break(sequence: purged.sequence, reason: """
                the log was purged through event \(purged.sequence), but no checkpoint signed by this organisation vouches \
                for that head
                """)
        }
        return purged
    }

    /// `?target=` searches read `audit_event_targets` and `audit_target_ranges`, which the hash
    /// chain does not cover: together they must list exactly the distinct target ids each
    /// (verified) event names, or a deleted row would hide an event from searches unnoticed.
    /// Adds what the batch accounts for to `counted`.
    ///
    /// Read target by target within the batch's blocks (the table's key is org, block, target,
    /// sequence), never by the blocks alone, which would read every row of a block for each
    /// batch; ranges are one row per batch and block, so they are read by block. Rows naming a
    /// target no event of the batch names are left to `checkTargetIndexHoldsNoOtherRows`.
    static func checkTargetIndex(of batch: [AuditEvent], after last: Int64, in tenant: Tenant,
                                 counted: inout TargetIndexCount) async throws {
        guard let end = batch.last?.sequence else { return }
        let expected = batch.map(namedTargets)
        var indexed: [Int64: Set<String>] = [:]
        for ids in Array(Set(expected.joined())).chunked(500) {
            try collect(try await tenant.sql.select().column("seq").column("target_id").from("audit_event_targets")
                .where("org_id", .equal, tenant.orgID).where(AuditBlocks.blocks("block", spanning: (last + 1)..<(end + 1)))
                .where("target_id", .in, Array(ids)).where("seq", .greaterThan, last).where("seq", .lessThanOrEqual, end).all(),
                into: &indexed)
        }
        counted.rows += Int64(indexed.values.reduce(0) { $0 + $1.count })
        counted.rangeEvents += try await collectRanges(after: last, through: end, in: tenant, into: &indexed)
        try compare(batch, expected, indexed)
    }

    /// What the target index holds for the events checked: rows of `audit_event_targets`, and
    /// events covered by ranges of `audit_target_ranges`.
    struct TargetIndexCount {
        var rows: Int64 = 0
        var rangeEvents: Int64 = 0
    }

    private static func namedTargets(_ event: AuditEvent) -> Set<String> {
        Set(((try? JSONDecoder().decode([AuditTarget].self, from: Data(event.targetsJSON.utf8))) ?? []).map(\.id))
    }

    /// Index rows (`seq`, `target_id`) as the target ids each sequence number has.
    private static func collect(_ rows: [any SQLRow], into indexed: inout [Int64: Set<String>]) throws {
        for row in rows { indexed[try row.int("seq"), default: []].insert(try row.string("target_id")) }
    }

    /// The ranges' targets of the events after `last` through `end`, as `collect` gives rows;
    /// returns how many events the ranges cover there.
    private static func collectRanges(after last: Int64, through end: Int64, in tenant: Tenant,
                                      into indexed: inout [Int64: Set<String>]) async throws -> Int64 {
        var covered: Int64 = 0
        let query = SQLQueryString("SELECT target_id, first_seq, last_seq FROM audit_target_ranges WHERE org_id = ")
            + "\(bind: tenant.orgID)" + " AND " + AuditBlocks.blocks("block", spanning: (last + 1)..<(end + 1))
            + " AND first_seq <= " + "\(bind: end)" + " AND last_seq > " + "\(bind: last)"
        for row in try await tenant.sql.raw(query).all() {
            let target = try row.string("target_id")
            let first = max(try row.int("first_seq"), last + 1), through = min(try row.int("last_seq"), end)
            guard first <= through else { continue }
            for sequence in first...through { indexed[sequence, default: []].insert(target) }
            covered += through - first + 1
        }
        return covered
    }

    private static func compare(_ batch: [AuditEvent], _ expected: [Set<String>], _ indexed: [Int64: Set<String>]) throws {
        for (event, expected) in zip(batch, expected) {
            let found = indexed[event.sequence] ?? []
            if found != expected {
                let missing = expected.subtracting(found).count, extra = found.subtracting(expected).count
                throw AuditChainVerifier.Break(sequence: event.sequence, reason: """
                    the target index does not match the event (\(missing) target(s) missing, \(extra) not named by it)
                    """)
            }
        }
    }

    /// After every batch matched: the index must hold no more than the events name. Two counts;
    /// only when one is off does a second, slower pass read each batch's range of the index to
    /// say which event has a row too many, or that rows name events that do not exist.
    static func checkTargetIndexHoldsNoOtherRows(counted: TargetIndexCount, after start: Int64, in tenant: Tenant) async throws {
        let rows = try await tenant.sql.raw("""
            SELECT COUNT(*) AS n FROM audit_event_targets WHERE org_id = \(bind: tenant.orgID)
            AND block >= \(bind: AuditBlocks.block(of: start + 1)) AND seq > \(bind: start)
            """).first()!.int("n")
        let rangeEvents = try await tenant.sql.raw("""
            SELECT CAST(COALESCE(SUM(last_seq - first_seq + 1), 0) AS BIGINT) AS n FROM audit_target_ranges
            WHERE org_id = \(bind: tenant.orgID) AND block >= \(bind: AuditBlocks.block(of: start + 1)) AND last_seq > \(bind: start)
            """).first()!.int("n")
        guard rows != counted.rows || rangeEvents != counted.rangeEvents else { return }
        var last = start
        while true {
            // Target ids are stored in clear: the events' stored form serves, nothing to open.
            let batch = try await tenant.auditEvents(after: last, limit: 2000, as: .stored)
            guard let end = batch.last?.sequence else { break }
            var indexed: [Int64: Set<String>] = [:]
            try collect(try await tenant.sql.raw("""
                SELECT seq, target_id FROM audit_event_targets
                WHERE org_id = \(bind: tenant.orgID) AND block >= \(bind: AuditBlocks.block(of: last + 1))
                AND block <= \(bind: AuditBlocks.block(of: end)) AND seq > \(bind: last) AND seq <= \(bind: end)
                """).all(), into: &indexed)
            _ = try await collectRanges(after: last, through: end, in: tenant, into: &indexed)
            try compare(batch, batch.map(namedTargets), indexed)
            last = end
        }
        try await checkNoTargetsBeyond(last, in: tenant)
        // Every event matched and nothing lies beyond the log: what is left is a range that
        // reaches back before the log's first event (a purge trims them to it).
        throw AuditChainVerifier.Break(sequence: start + 1, reason: "the target index has a range that reaches before the log")
    }

    private static func checkNoTargetsBeyond(_ last: Int64, in tenant: Tenant) async throws {
        if let row = try await tenant.sql.raw("""
            SELECT MIN(s) AS s FROM (
                SELECT MIN(seq) AS s FROM audit_event_targets WHERE org_id = \(bind: tenant.orgID)
                AND block >= \(bind: AuditBlocks.block(of: last + 1)) AND seq > \(bind: last)
                UNION ALL
                SELECT MIN(CASE WHEN first_seq > \(bind: last) THEN first_seq ELSE \(bind: last + 1) END) AS s
                FROM audit_target_ranges WHERE org_id = \(bind: tenant.orgID)
                AND block >= \(bind: AuditBlocks.block(of: last + 1)) AND last_seq > \(bind: last)
            ) beyond
            """).first(), try !row.decodeNil(column: "s") {
            throw AuditChainVerifier.Break(sequence: try row.int("s"),
                                           reason: "the target index lists an event the log does not hold")
        }
    }
}

/// Records sealed before the append (`Tenant.prepareAudit`): an event for each, or nil for a
/// record that names a subject without a key yet.
public struct PreparedAuditBatch: Sendable {
    let records: [AuditRecord]
    let events: [PreparedAuditEvent?]
    /// A target every record names (the product that sent a batch of ingested events), indexed
    /// as ranges of sequence numbers (`audit_target_ranges`) rather than a row per event: one
    /// B-tree insert fewer per ingested event in the writer's transaction (docs/design.md).
    var rangeTarget: String?

    init(records: [AuditRecord], events: [PreparedAuditEvent?], rangeTarget: String? = nil) {
        self.records = records; self.events = events; self.rangeTarget = rangeTarget
    }

    /// Records not sealed yet: all of them are sealed at the append, under the head lock.
    init(unsealed records: [AuditRecord]) { self.init(records: records, events: Array(repeating: nil, count: records.count)) }

    /// The records at `indexes`, which ascend: the batch itself when they are all of it (a
    /// batch without duplicates), without copying a thousand events.
    public func keeping(_ indexes: [Int]) -> PreparedAuditBatch {
        if indexes.count == records.count { return self }
        return PreparedAuditBatch(records: indexes.map { records[$0] }, events: indexes.map { events[$0] },
                                  rangeTarget: rangeTarget)
    }
}
