import Foundation

/// A verifiable export of one organisation's audit log (`rampart audit export --format bundle`):
/// JSON lines, first a header, then every event exactly as stored (what its hash covers), then
/// the signed checkpoints. `rampart audit verify --bundle` checks it with nothing else: every
/// event's hash and link, that the events run from the first on without a gap, and every
/// checkpoint's signature and that the events it names are in the bundle with its hash. A
/// bundle of the whole log (from event 1) also has each version 2 checkpoint's tree root
/// recomputed from its events; one that starts after a purge lacks the leaves for that.
public enum AuditBundle {
    public static let format = "rampart-audit-bundle/1"

    public struct Header: Codable, Sendable, Equatable {
        public let format: String
        public let orgId: String
        public let exportedAt: Timestamp
        public let events: Int64
        public let checkpoints: Int

        public init(orgId: String, exportedAt: Timestamp, events: Int64, checkpoints: Int) {
            format = AuditBundle.format; self.orgId = orgId; self.exportedAt = exportedAt
            self.events = events; self.checkpoints = checkpoints
        }
    }

    /// An event with every field its hash covers, the time in microseconds as hashed.
    public struct Event: Codable, Sendable, Equatable {
        public let sequence: Int64
        public let id: String
        public let occurredAtMicroseconds: Int64
        public let action: String
        public let outcome: String
        public let actor: AuditActor
        public let targetsJSON: String
        public let requestId: String?
        public let detailsJSON: String
        public let previousHash: String
        public let hash: String
        /// Absent for encoding 1; 2 when personal data is sealed (then `actor`'s name, IP
        /// address and user agent, person targets' names and `personal` are the sealed bytes).
        public let encoding: Int?
        public let personal: String?

        public init(_ e: AuditEvent) {
            sequence = e.sequence; id = e.id; occurredAtMicroseconds = e.occurredAt.microseconds; action = e.action
            outcome = e.outcome; actor = e.actor; targetsJSON = e.targetsJSON; requestId = e.requestID
            detailsJSON = e.detailsJSON; previousHash = e.previousHash; hash = e.hash
            encoding = e.encoding == AuditEncoding.legacy ? nil : e.encoding; personal = e.personal
        }

        public func event(orgID: String) -> AuditEvent {
            AuditEvent(orgID: orgID, sequence: sequence, id: id, occurredAt: Timestamp(microseconds: occurredAtMicroseconds),
                       action: action, outcome: outcome, actor: actor, targetsJSON: targetsJSON, requestID: requestId,
                       detailsJSON: detailsJSON, previousHash: previousHash, hash: hash,
                       encoding: encoding ?? AuditEncoding.legacy, personal: personal)
        }
    }

    /// One line of the bundle: exactly one of the three.
    public struct Line: Codable, Sendable {
        public var header: Header?
        public var event: Event?
        public var checkpoint: AuditCheckpoint?

        public init(header: Header? = nil, event: Event? = nil, checkpoint: AuditCheckpoint? = nil) {
            self.header = header; self.event = event; self.checkpoint = checkpoint
        }
    }

    public struct Report: Sendable, Equatable {
        public var orgID: String
        public var events: Int64
        public var checkpoints: Int
        /// The newest checkpoint's sequence: events up to it are vouched for by its signature.
        public var signedThrough: Int64?
        /// Distinct signing keys, as their public keys: compare them with the organisation's.
        public var publicKeys: [String]
        /// How many checkpoints' tree roots were recomputed from the events and matched.
        public var treeRootsChecked: Int = 0
        public var failure: AuditChainVerifier.Break?
    }

    /// Checks a bundle's lines. `trustedKeys`, when given, are the only public keys a checkpoint
    /// may be signed with (the organisation's, as kept elsewhere).
    public static func verify(_ lines: [Line], trustedKeys: Set<String>? = nil) throws(AuditChainVerifier.Break) -> Report {
        guard let header = lines.first?.header, header.format == format else {
            throw AuditChainVerifier.Break(sequence: 0, reason: "the first line is not a \(format) header")
        }
        let events = lines.compactMap(\.event)
        let checkpoints = lines.compactMap(\.checkpoint)
        guard Int64(events.count) == header.events, checkpoints.count == header.checkpoints,
              lines.count == 1 + events.count + checkpoints.count else {
            throw AuditChainVerifier.Break(sequence: 0, reason: "the bundle does not hold what its header counts")
        }
        for checkpoint in checkpoints {
            guard checkpoint.orgID == header.orgId, checkpoint.signatureIsValid else {
                throw AuditChainVerifier.Break(sequence: checkpoint.sequence, reason: "a checkpoint's signature does not verify")
            }
            if let trustedKeys, !trustedKeys.contains(checkpoint.publicKey) {
                throw AuditChainVerifier.Break(sequence: checkpoint.sequence, reason: "a checkpoint is signed by a key not trusted")
            }
        }
        // A log whose oldest events were purged under retention starts after the signed
        // checkpoint they were purged through; the bundle carries that checkpoint.
        var start = ChainHead.genesis
        if let first = events.first, first.sequence > 1 {
            guard let from = checkpoints.first(where: { $0.sequence == first.sequence - 1 }) else {
                throw AuditChainVerifier.Break(sequence: first.sequence - 1, reason: """
                    the bundle starts at event \(first.sequence) but holds no signed checkpoint of event \(first.sequence - 1) \
                    to start from
                    """)
            }
            start = from.head
        }
        var verifier = try AuditChainVerifier(start: start, witnesses: checkpoints.map(\.head))
        var tree: MerkleCompactRange? = start.sequence == 0 ? MerkleCompactRange() : nil
        let roots = Dictionary(checkpoints.compactMap { c in c.treeRoot.map { (c.sequence, $0) } }, uniquingKeysWith: { a, _ in a })
        var treeRootsChecked = 0
        for event in events {
            try verifier.check(event.event(orgID: header.orgId))
            guard tree != nil, let leaf = AuditInclusionProof.hash(event.hash) else { continue }
            tree?.append(MerkleTree.leafHash(leaf))
            if let signed = roots[event.sequence] {
                guard tree?.root.hexString == signed else {
                    throw AuditChainVerifier.Break(sequence: event.sequence, reason: "a checkpoint's tree root does not match the events")
                }
                treeRootsChecked += 1
            }
        }
        let last = events.last.map { ChainHead(sequence: $0.sequence, hash: $0.hash) } ?? .genesis
        try verifier.finish(head: last)
        return Report(orgID: header.orgId, events: verifier.count, checkpoints: checkpoints.count,
                      signedThrough: checkpoints.map(\.sequence).max(),
                      publicKeys: Array(Set(checkpoints.map(\.publicKey))).sorted(), treeRootsChecked: treeRootsChecked,
                      failure: nil)
    }
}
