import Crypto
import Foundation

/// The hash chain over one organisation's events.
///
/// `hash(n) = SHA-256(canonical(event n))`, where the canonical encoding is every field in a
/// fixed order, each as a 4-byte big-endian length followed by its UTF-8 bytes, ending with
/// the previous event's hash. Length prefixes make the encoding unambiguous; JSON fields are
/// hashed exactly as stored, so the chain never depends on a JSON encoder's whims. Events of
/// encodings 2 and 3 (`AuditEncoding.sealed`, `.sealedActor`) start with `rampart.audit.v2` or
/// `rampart.audit.v3` and hash the sealed form of personal data plus the sealed personal
/// details: destroying a subject key changes no stored byte, so the chain still verifies
/// after an erasure.
public enum AuditChain {
    public static let genesisHash = String(repeating: "0", count: 64)

    public static func hash(orgID: String, sequence: Int64, id: String, occurredAt: Timestamp, action: String,
                            outcome: String, actor: AuditActor, targetsJSON: String, requestID: String?,
                            detailsJSON: String, previousHash: String, encoding: Int = AuditEncoding.legacy,
                            personal: String? = nil) -> String {
        hash(orgID: orgID, sequence: sequence, id: id, occurredAt: occurredAt, encoding: encoding,
             content: content(action: action, outcome: outcome, actor: actor, targetsJSON: targetsJSON,
                              requestID: requestID, detailsJSON: detailsJSON, encoding: encoding, personal: personal),
             previousHash: previousHash)
    }

    /// The canonical bytes of the fields between an event's time and the previous hash: what
    /// an event says, which does not depend on its place in the chain. The append path builds
    /// them before the writer takes the head (`PreparedAuditEvent.content`).
    static func content(action: String, outcome: String, actor: AuditActor, targetsJSON: String, requestID: String?,
                        detailsJSON: String, encoding: Int, personal: String?) -> [UInt8] {
        var bytes = CanonicalFields(capacity: 512 + detailsJSON.utf8.count + targetsJSON.utf8.count)
        bytes.append(action)
        bytes.append(outcome)
        bytes.append(actor.type.rawValue)
        bytes.append(actor.id)
        bytes.append(actor.name)
        bytes.append(actor.ip)
        bytes.append(actor.userAgent)
        bytes.append(targetsJSON)
        bytes.append(requestID)
        bytes.append(detailsJSON)
        if AuditEncoding.isSealed(encoding) { bytes.append(personal) }
        return bytes.bytes
    }

    /// The hash of an event whose `content` is already encoded: the fields before it and the
    /// previous hash after it are fed to the digest around it, never copied together.
    static func hash(orgID: String, sequence: Int64, id: String, occurredAt: Timestamp, encoding: Int,
                     content: [UInt8], previousHash: String) -> String {
        var head = CanonicalFields(capacity: 160)
        head.append(domain(of: encoding))
        head.append(orgID)
        head.append(String(sequence))
        head.append(id)
        head.append(String(occurredAt.microseconds))
        var tail = CanonicalFields(capacity: 72)
        tail.append(previousHash)
        var digest = SHA256()
        digest.update(data: head.bytes)
        digest.update(data: content)
        digest.update(data: tail.bytes)
        return digest.finalize().hexString
    }

    /// The first field of an event's encoding, which names it; an encoding this version does
    /// not know is hashed as legacy, and so does not verify.
    static func domain(of encoding: Int) -> String {
        switch encoding {
        case AuditEncoding.sealed: "rampart.audit.v2"
        case AuditEncoding.sealedActor: "rampart.audit.v3"
        default: "rampart.audit.v1"
        }
    }

    public static func hash(of e: AuditEvent) -> String {
        hash(orgID: e.orgID, sequence: e.sequence, id: e.id, occurredAt: e.occurredAt, action: e.action,
             outcome: e.outcome, actor: e.actor, targetsJSON: e.targetsJSON, requestID: e.requestID,
             detailsJSON: e.detailsJSON, previousHash: e.previousHash, encoding: e.encoding, personal: e.personal)
    }

    /// Builds the next event after `head` in the legacy encoding, every field in clear (kept
    /// for reading old logs and for the chain's own tests). The log appends sealed events:
    /// `AuditSealer.prepare`, then `link`.
    public static func seal(_ record: AuditRecord, orgID: String, after head: ChainHead, at now: Timestamp,
                            id: String = Identifier.make()) -> AuditEvent {
        link(PreparedAuditEvent(inClear: record, id: id), orgID: orgID, after: head, at: now)
    }

    /// Gives a prepared event its place after `head`: its sequence number, the previous
    /// event's hash and its own; an event without a time of its own takes `now`.
    public static func link(_ p: PreparedAuditEvent, orgID: String, after head: ChainHead, at now: Timestamp) -> AuditEvent {
        let sequence = head.sequence + 1, occurredAt = p.occurredAt ?? now
        return AuditEvent(
            orgID: orgID, sequence: sequence, id: p.id, occurredAt: occurredAt, action: p.action,
            outcome: p.outcome, actor: p.actor, targetsJSON: p.targetsJSON, requestID: p.requestID,
            detailsJSON: p.detailsJSON, previousHash: head.hash,
            hash: hash(orgID: orgID, sequence: sequence, id: p.id, occurredAt: occurredAt, encoding: p.encoding,
                       content: p.content, previousHash: head.hash),
            encoding: p.encoding, personal: p.personal)
    }
}

/// An event as it will be stored, before it has a place in the chain: personal data sealed,
/// targets and details in their canonical text. Sealing is most of an append's work, and
/// needs no place in the chain, so it can be done before the writer takes the head.
///
/// A class: a batch's thousand events are handed from sealing to the writer and filtered on
/// the way, and copying a struct of ten strings retained and released each of them every time.
public final class PreparedAuditEvent: Sendable {
    public let id: String
    public let occurredAt: Timestamp?
    public let action: String
    public let outcome: String
    public let actor: AuditActor
    public let targetsJSON: String
    public let requestID: String?
    public let detailsJSON: String
    public let encoding: Int
    public let personal: String?
    /// The distinct ids of the event's targets, for the log's target index.
    public let targetIDs: [String]
    /// Its canonical content for the chain (`AuditChain.content`), encoded here so that the
    /// writer, which must link events one after another, only hashes.
    let content: [UInt8]

    init(_ record: AuditRecord, id: String, actor: AuditActor, targetsJSON: String, detailsJSON: String, encoding: Int,
         personal: String?) {
        self.id = id; occurredAt = record.occurredAt; action = record.action.rawValue; outcome = record.outcome.rawValue
        self.actor = actor; self.targetsJSON = targetsJSON; requestID = record.requestID; self.detailsJSON = detailsJSON
        self.encoding = encoding; self.personal = personal
        targetIDs = Self.distinctSorted(record.targets.map(\.id))
        content = AuditChain.content(action: action, outcome: outcome, actor: actor, targetsJSON: targetsJSON,
                                     requestID: requestID, detailsJSON: detailsJSON, encoding: encoding, personal: personal)
    }

    /// Sorted, without repeats; by sorting, not a `Set`: an event names one or two targets.
    static func distinctSorted(_ ids: [String]) -> [String] {
        guard ids.count > 1 else { return ids }
        var distinct: [String] = []
        distinct.reserveCapacity(ids.count)
        for id in ids.sorted() where id != distinct.last { distinct.append(id) }
        return distinct
    }

    /// The legacy encoding: nothing sealed.
    convenience init(inClear record: AuditRecord, id: String) {
        self.init(record, id: id, actor: record.actor,
                  targetsJSON: JSONValue.canonicalArray(ofSortedObjects: record.targets.map { $0.canonicalFields(name: $0.name) }),
                  detailsJSON: record.renderedDetails ?? record.details.json.canonical, encoding: AuditEncoding.legacy,
                  personal: nil)
    }
}

/// Fields each as a 4-byte big-endian length and its UTF-8 bytes, a missing value (length
/// 0xFFFFFFFF) differing from an empty one: the chain's canonical encoding, and the bytes that
/// personal data's seals authenticate (`SealBinding`).
struct CanonicalFields {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func append(_ s: String?) {
        guard let s else {
            for _ in 0..<4 { bytes.append(0xFF) }
            return
        }
        let n = UInt32(s.utf8.count)
        // Four single appends: an array literal here would allocate for every field.
        bytes.append(UInt8(n >> 24))
        bytes.append(UInt8((n >> 16) & 0xFF))
        bytes.append(UInt8((n >> 8) & 0xFF))
        bytes.append(UInt8(n & 0xFF))
        bytes.append(contentsOf: s.utf8)
    }
}

/// The last sequence number and hash of an organisation's chain.
public struct ChainHead: Sendable, Equatable {
    public var sequence: Int64
    public var hash: String
    public init(sequence: Int64, hash: String) { self.sequence = sequence; self.hash = hash }
    public static let genesis = ChainHead(sequence: 0, hash: AuditChain.genesisHash)
}

/// Checks a chain event by event, in order; feed it every stored event, then `finish`.
public struct AuditChainVerifier: Sendable {
    public struct Break: Error, Sendable, Equatable, CustomStringConvertible {
        public let sequence: Int64
        public let reason: String
        public var description: String { "at sequence \(sequence): \(reason)" }
        public init(sequence: Int64, reason: String) { self.sequence = sequence; self.reason = reason }
    }

    private var expected = ChainHead.genesis
    private var start = ChainHead.genesis
    /// What the newest `audit.purged` event checked so far says it purged through.
    private var lastPurgeThrough: Int64?
    public private(set) var count: Int64 = 0
    /// Heads saved outside the database earlier (`audit verify --expect-head SEQ:HASH`, or the
    /// checkpoints of a witness file), by sequence number. Whoever can write the database can
    /// cut the chain's tail and rewrite the head to match; only a head kept elsewhere shows
    /// that event SEQ, with that hash, is gone.
    private let witnesses: [Int64: String]
    private let lastWitness: Int64?

    public init(witness: ChainHead? = nil) { self.init(witnesses: witness.map { [$0] } ?? []) }

    /// `start` is where the stored log begins: the genesis, or, once retention purged the
    /// oldest events, the head of the signed checkpoint they were purged through (which the
    /// caller has checked). Witnesses before it name events that are gone; one at it must agree.
    public init(start: ChainHead = .genesis, witnesses: [ChainHead]) throws(Break) {
        if let saved = witnesses.first(where: { $0.sequence == start.sequence }), start.sequence > 0,
           !constantTimeEquals(saved.hash, start.hash) {
            throw Break(sequence: start.sequence, reason: "the log starts from a head that differs from one saved earlier")
        }
        let kept = witnesses.filter { $0.sequence > start.sequence }
        self.witnesses = Dictionary(kept.map { ($0.sequence, $0.hash) }, uniquingKeysWith: { first, _ in first })
        lastWitness = witnesses.map(\.sequence).max()
        expected = start
        self.start = start
    }

    public init(witnesses: [ChainHead]) {
        self.witnesses = Dictionary(witnesses.map { ($0.sequence, $0.hash) }, uniquingKeysWith: { first, _ in first })
        lastWitness = witnesses.map(\.sequence).max()
    }

    public mutating func check(_ event: AuditEvent) throws(Break) {
        let next = expected.sequence + 1
        guard event.sequence == next else {
            throw Break(sequence: next, reason: event.sequence > next
                ? "event \(next) is missing (next stored event is \(event.sequence))"
                : "sequence \(event.sequence) is out of order or duplicated")
        }
        guard event.previousHash == expected.hash else {
            throw Break(sequence: next, reason: "previous-hash link does not match event \(expected.sequence)")
        }
        guard constantTimeEquals(AuditChain.hash(of: event), event.hash) else {
            throw Break(sequence: next, reason: "content does not match its hash (edited)")
        }
        if let saved = witnesses[event.sequence], !constantTimeEquals(saved, event.hash) {
            throw Break(sequence: next, reason: "the event's hash differs from the head saved earlier (rewritten)")
        }
        if event.action == AuditAction.auditPurged.rawValue { lastPurgeThrough = Self.purgedThrough(event.detailsJSON) }
        expected = ChainHead(sequence: event.sequence, hash: event.hash)
        count += 1
    }

    private static func purgedThrough(_ detailsJSON: String) -> Int64? {
        struct Details: Decodable { let throughSequence: Int64 }
        return (try? JSONDecoder().decode(Details.self, from: Data(detailsJSON.utf8)))?.throughSequence
    }

    /// The stored head must match the last event, so truncating the tail is detected too. A
    /// log that starts after the genesis must record the purge that removed what came before:
    /// the newest `audit.purged` event names the start, so events removed any other way (even
    /// up to a genuine checkpoint) show.
    public func finish(head: ChainHead) throws(Break) {
        if start.sequence > 0, lastPurgeThrough != start.sequence {
            throw Break(sequence: start.sequence, reason: """
                the log starts after event \(start.sequence), but no audit.purged event records a purge through it
                """)
        }
        if head.sequence != expected.sequence {
            throw Break(sequence: expected.sequence + 1,
                        reason: "the log ends at \(expected.sequence) but its head records \(head.sequence)")
        }
        if head.hash != expected.hash {
            throw Break(sequence: expected.sequence, reason: "the head's hash does not match the last event")
        }
        if let lastWitness, lastWitness > expected.sequence {
            throw Break(sequence: expected.sequence + 1, reason: """
                the log ends at \(expected.sequence) but a head saved earlier records \(lastWitness): the tail was cut
                """)
        }
    }
}
