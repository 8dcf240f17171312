import Foundation

/// That the log an older signed checkpoint covers is, unchanged, the start of the log a newer
/// one covers: the hashes that lead from the older tree root to the newer
/// (RFC 9162 §2.1.4), with both checkpoints (`GET /audit-proofs/consistency`,
/// `rampart audit consistency`).
///
/// A witness that kept an older checkpoint checks each newer one with a handful of hashes
/// instead of the whole log: a log whose past was cut or rewritten after the older
/// checkpoint cannot produce this proof for any newer root, however its head was rewritten.
public struct AuditConsistencyProof: Codable, Sendable, Equatable {
    public let firstSize: Int64
    public let secondSize: Int64
    /// Hex hashes, in RFC 9162's order (SUBPROOF's); empty when the sizes are equal.
    public let consistencyPath: [String]
    /// The older checkpoint, of `firstSize` events, and the newer, of `secondSize`.
    public let first: AuditCheckpoint
    public let second: AuditCheckpoint

    public init(consistencyPath: [String], first: AuditCheckpoint, second: AuditCheckpoint) {
        firstSize = first.sequence; secondSize = second.sequence
        self.consistencyPath = consistencyPath; self.first = first; self.second = second
    }

    /// Checks both checkpoints' signatures (and, given `trustedKeys`, that the keys are among
    /// them), that they are of one organisation and sign tree roots of `firstSize` and
    /// `secondSize` events, and the path between those roots (RFC 9162 §2.1.4.2).
    public func verify(trustedKeys: Set<String>? = nil) -> AuditProofVerdict {
        for (name, checkpoint) in [("first", first), ("second", second)] {
            guard checkpoint.signatureIsValid else { return .failed("the \(name) checkpoint's signature does not verify") }
            if let trustedKeys, !trustedKeys.contains(checkpoint.publicKey) {
                return .failed("the \(name) checkpoint is signed by a key not trusted")
            }
        }
        guard first.orgID == second.orgID else { return .failed("the checkpoints are of different organisations") }
        guard let firstRoot = first.treeRoot.flatMap(AuditInclusionProof.hash),
              let secondRoot = second.treeRoot.flatMap(AuditInclusionProof.hash) else {
            return .failed("a checkpoint signs no tree root (a version 1 checkpoint)")
        }
        guard first.sequence == firstSize, second.sequence == secondSize else {
            return .failed("the proof's tree sizes do not match its checkpoints")
        }
        guard firstSize <= secondSize else { return .failed("the first tree is larger than the second") }
        let path = consistencyPath.compactMap(AuditInclusionProof.hash)
        guard path.count == consistencyPath.count else { return .failed("a consistency path entry is not 64 hex digits") }
        guard MerkleTree.verifyConsistency(first: firstSize, second: secondSize, firstRoot: firstRoot, secondRoot: secondRoot,
                                           proof: path) else {
            return .failed("the consistency path does not lead from the first tree root to the second")
        }
        return .proven
    }
}
