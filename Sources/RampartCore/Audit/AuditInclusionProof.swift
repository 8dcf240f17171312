import Foundation

/// That event `sequence`, with hash `eventHash`, is in the organisation's log: its audit path
/// in the Merkle tree of the first `treeSize` events, and the signed checkpoint of that size
/// whose `treeRoot` the path leads to (`GET /audit-proofs/inclusion`, `rampart audit prove`).
/// Whoever holds it can check it with nothing else, against the organisation's public key.
public struct AuditInclusionProof: Codable, Sendable, Equatable {
    public let sequence: Int64
    /// The event's hash (hex): the 32 bytes of leaf `leafIndex`.
    public let eventHash: String
    /// `sequence - 1`: leaves count from 0.
    public let leafIndex: Int64
    public let treeSize: Int64
    /// Hex hashes, nearest the leaf first (RFC 9162 §2.1.3.1).
    public let auditPath: [String]
    public let checkpoint: AuditCheckpoint

    public init(sequence: Int64, eventHash: String, treeSize: Int64, auditPath: [String], checkpoint: AuditCheckpoint) {
        self.sequence = sequence; self.eventHash = eventHash; leafIndex = sequence - 1; self.treeSize = treeSize
        self.auditPath = auditPath; self.checkpoint = checkpoint
    }

    public typealias Verdict = AuditProofVerdict

    /// Checks the checkpoint's signature (and, given `trustedKeys`, that one of them made it),
    /// that it signs a tree of `treeSize` events, and the audit path from the event's hash to
    /// its tree root (RFC 9162 §2.1.3.2).
    public func verify(trustedKeys: Set<String>? = nil) -> Verdict {
        guard checkpoint.signatureIsValid else { return .failed("the checkpoint's signature does not verify") }
        if let trustedKeys, !trustedKeys.contains(checkpoint.publicKey) {
            return .failed("the checkpoint is signed by a key not trusted")
        }
        guard let treeRoot = checkpoint.treeRoot.flatMap(Self.hash) else {
            return .failed("the checkpoint signs no tree root (a version 1 checkpoint)")
        }
        guard checkpoint.sequence == treeSize, leafIndex == sequence - 1 else {
            return .failed("the proof's tree size or leaf index does not match its checkpoint and event")
        }
        guard let leaf = Self.hash(eventHash) else { return .failed("the event hash is not 64 hex digits") }
        let path = auditPath.compactMap(Self.hash)
        guard path.count == auditPath.count else { return .failed("an audit path entry is not 64 hex digits") }
        guard MerkleTree.verifyInclusion(leafIndex: leafIndex, treeSize: treeSize, leafHash: MerkleTree.leafHash(leaf),
                                         path: path, root: treeRoot) else {
            return .failed("the audit path does not lead from the event's hash to the signed tree root")
        }
        return .proven
    }

    /// 32 bytes from 64 hex digits; nil for anything else.
    public static func hash(_ hex: String) -> [UInt8]? {
        var hex = hex
        return hex.withUTF8 { digits -> [UInt8]? in
            guard digits.count == 64 else { return nil }
            var bytes = [UInt8](repeating: 0, count: 32)
            for i in 0..<32 {
                guard let high = hexValue(digits[2 * i]), let low = hexValue(digits[2 * i + 1]) else { return nil }
                bytes[i] = high << 4 | low
            }
            return bytes
        }
    }

    /// Lowercase only, as the log writes hashes.
    private static func hexValue(_ digit: UInt8) -> UInt8? {
        let number = digit &- UInt8(ascii: "0")
        if number < 10 { return number }
        let letter = digit &- UInt8(ascii: "a")
        return letter < 6 ? letter + 10 : nil
    }
}

/// What checking a proof found: a verdict is data, so a failed proof is reported, not thrown.
public struct AuditProofVerdict: Sendable, Equatable {
    public let proven: Bool
    /// Why it is not proven; nil when it is.
    public let reason: String?

    static let proven = AuditProofVerdict(proven: true, reason: nil)
    static func failed(_ reason: String) -> AuditProofVerdict { AuditProofVerdict(proven: false, reason: reason) }
}
