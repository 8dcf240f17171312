import Foundation

/// That the log an older signed checkpoint covers is, unchanged, the start of the log a newer
/// one covers: the hashes that lead from the older tree root to the newer
/// (RFC 9162 §2.1.4), with the newer checkpoint (`GET /audit-proofs/consistency`,
/// `rampart audit consistency`).
///
/// A witness that kept an older checkpoint checks each newer one with a handful of hashes
/// instead of the whole log: once the past that checkpoint covers was rewritten and signed
/// anew (its checkpoints deleted, say, so that the tree was built again from event 1), no
/// proof leads from the root the witness kept to the new ones.
public struct AuditConsistencyProof: Codable, Sendable, Equatable {
    public let firstSize: Int64
    public let secondSize: Int64
    /// Hex hashes, in RFC 9162's order (SUBPROOF's); empty when the sizes are equal.
    public let consistencyPath: [String]
    /// The store's checkpoint of `firstSize` events, when it has one: a witness checks the
    /// proof against the checkpoint it kept itself (`verify(from:)`), which the store may no
    /// longer hold, or hold rewritten.
    public let first: AuditCheckpoint?
    /// The checkpoint of `secondSize` events.
    public let second: AuditCheckpoint

    public init(firstSize: Int64, consistencyPath: [String], first: AuditCheckpoint?, second: AuditCheckpoint) {
        self.firstSize = firstSize; secondSize = second.sequence
        self.consistencyPath = consistencyPath; self.first = first; self.second = second
    }

    /// Checks the proof from its own first checkpoint (see `verify(from:trustedKeys:)`).
    public func verify(trustedKeys: Set<String>? = nil) -> AuditProofVerdict {
        guard let first else {
            return .failed("the proof carries no checkpoint of \(firstSize) events: check it against the one you hold")
        }
        return verify(from: first, trustedKeys: trustedKeys)
    }

    /// Checks both checkpoints' signatures (and, given `trustedKeys`, that the keys are among
    /// them), that they are of one organisation and sign tree roots of `firstSize` and
    /// `secondSize` events, and the path from `held`'s root to the second's (RFC 9162 §2.1.4.2).
    public func verify(from held: AuditCheckpoint, trustedKeys: Set<String>? = nil) -> AuditProofVerdict {
        for (name, checkpoint) in [("first", held), ("second", second)] {
            guard checkpoint.signatureIsValid else { return .failed("the \(name) checkpoint's signature does not verify") }
            if let trustedKeys, !trustedKeys.contains(checkpoint.publicKey) {
                return .failed("the \(name) checkpoint is signed by a key not trusted")
            }
        }
        guard held.orgID == second.orgID else { return .failed("the checkpoints are of different organisations") }
        guard let firstRoot = held.treeRoot.flatMap(AuditInclusionProof.hash),
              let secondRoot = second.treeRoot.flatMap(AuditInclusionProof.hash) else {
            return .failed("a checkpoint signs no tree root (a version 1 checkpoint)")
        }
        guard held.sequence == firstSize, second.sequence == secondSize else {
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
