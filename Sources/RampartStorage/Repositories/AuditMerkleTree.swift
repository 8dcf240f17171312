import Foundation
import RampartCore
import SQLKit

/// The Merkle tree extended to a head (`Tenant.auditTreeExtension`), computed from the log
/// alone, to be stored with the checkpoint that signs its root (`Tenant.signAuditCheckpoint`).
public struct AuditTreeExtension: Sendable {
    public let tree: MerkleCompactRange
    /// The roots of the blocks of 2^10 leaves the extension completed, for proofs to read.
    let blockRoots: [(index: Int64, root: String)]
    /// The first time the tree is built, the frontier at each checkpoint signed before it, so
    /// that a purge through one of them still leaves what proofs need.
    let earlierFrontiers: [(sequence: Int64, frontier: String)]
}

/// The Merkle tree over the organisation's audit log (`MerkleTree`), kept without keeping it
/// whole: each checkpoint stores the tree's frontier at its sequence number, the next one
/// extends that frontier with the events since, and the roots of completed blocks of
/// 2^10 leaves are stored on the way for proofs to read (`MerkleProofBuilder`).
extension Tenant {
    /// The tree of events 1 to `size`, extended from the newest frontier at or before it; nil
    /// when the tree cannot be built because events were purged before it existed (the
    /// organisation then goes on with version 1 checkpoints). The first time, the tree is built
    /// from event 1.
    ///
    /// It only reads, and events up to a head never change, so it runs in a read transaction:
    /// the server's checkpoints extend the tree by every event since the last one, and hashing
    /// hundreds of thousands of them inside the writer's transaction held every append for
    /// as long (docs/benchmarks.md).
    public func auditTreeExtension(to size: Int64) async throws -> AuditTreeExtension? {
        var tree: MerkleCompactRange
        var earlier: Set<Int64> = []
        if let newest = try await rows(SQLQueryString("""
            SELECT seq, tree_frontier FROM audit_checkpoints WHERE org_id = \(bind: orgID) AND tree_frontier IS NOT NULL
            AND seq <= \(bind: size) ORDER BY seq DESC LIMIT 1
            """), { (try $0.integer(0), try $0.text(1)) }).first {
            tree = try Self.frontier(size: newest.0, text: newest.1)
        } else {
            guard try await auditRetention().purgedThrough.sequence == 0 else { return nil }
            tree = MerkleCompactRange()
            earlier = Set(try await rows(SQLQueryString("""
                SELECT seq FROM audit_checkpoints WHERE org_id = \(bind: orgID) AND seq < \(bind: size)
                """), { try $0.integer(0) }))
        }
        var blockRoots: [(index: Int64, root: String)] = []
        var earlierFrontiers: [(sequence: Int64, frontier: String)] = []
        while tree.end < size {
            let through = min(size, tree.end + 5000)
            let batch = try await auditEventHashes(after: tree.end, through: through)
            // Sequence numbers are unique: as many as the range holds means none is missing.
            guard batch.count == through - tree.end else {
                throw RampartError(.integrity, """
                    Events \(tree.end + 1) to \(through) are not all in the log: the tree cannot be extended.
                    """)
            }
            for (sequence, hash) in batch {
                tree.append(try Self.leafHash(sequence: sequence, hash: hash)) { height, index, root in
                    if height == MerkleProofBuilder.blockHeight { blockRoots.append((index, root.hexString)) }
                }
                if earlier.contains(sequence) { earlierFrontiers.append((sequence, Self.frontierText(tree))) }
            }
        }
        return AuditTreeExtension(tree: tree, blockRoots: blockRoots, earlierFrontiers: earlierFrontiers)
    }

    /// Stores what `extension` computed besides the frontier its checkpoint keeps.
    func store(_ extension: AuditTreeExtension) async throws {
        for (sequence, frontier) in `extension`.earlierFrontiers {
            try await sql.raw("""
                UPDATE audit_checkpoints SET tree_frontier = \(bind: frontier)
                WHERE org_id = \(bind: orgID) AND seq = \(bind: sequence) AND tree_frontier IS NULL
                """).run()
        }
        // Two nodes extending the same tree store the same roots: the first stays.
        for block in `extension`.blockRoots {
            try await sql.raw("""
                INSERT INTO audit_tree_nodes (org_id, level, idx, hash)
                VALUES (\(bind: orgID), \(bind: MerkleProofBuilder.blockHeight), \(bind: block.index), \(bind: block.root))
                ON CONFLICT (org_id, level, idx) DO NOTHING
                """).run()
        }
    }

    /// The proof that event `sequence` is in the tree of `treeSize` events (the newest version 2
    /// checkpoint's when nil), with that checkpoint. Built from the retained events, the stored
    /// block roots and the frontier of the checkpoint the log was purged through.
    public func auditInclusionProof(sequence: Int64, treeSize: Int64? = nil) async throws -> AuditInclusionProof {
        let checkpoint = try await treeCheckpoint(at: treeSize)
        guard sequence <= checkpoint.sequence else {
            throw RampartError(.invalidParameter, """
                Event \(sequence) is after the tree of \(checkpoint.sequence) events: prove it in the tree of a later \
                checkpoint, once one is signed.
                """)
        }
        let purged = try await auditRetention().purgedThrough.sequence
        guard sequence > purged else {
            throw RampartError(.notFound, "Event \(sequence) was purged under retention (events 1 to \(purged) are gone).")
        }
        guard let eventHash = try await rows(SQLQueryString("""
            SELECT hash FROM audit_events WHERE org_id = \(bind: orgID) AND seq = \(bind: sequence)
            """), { try $0.text(0) }).first else {
            throw RampartError(.integrity, "Event \(sequence) is missing from the log.")
        }
        let path = try await proofBuilder(purgedThrough: purged).auditPath(index: sequence - 1, treeSize: checkpoint.sequence)
        return AuditInclusionProof(sequence: sequence, eventHash: eventHash, treeSize: checkpoint.sequence,
                                   auditPath: path.map(\.hexString), checkpoint: checkpoint)
    }

    /// The proof that the tree of the first `first` events is the start of the tree of the
    /// checkpoint at `second` (the newest version 2 checkpoint when nil), with that checkpoint
    /// and the one at `first` if the store has it. `first` need not be a checkpoint's here: a
    /// witness checks the proof against the checkpoint it kept.
    public func auditConsistencyProof(first: Int64, second: Int64? = nil) async throws -> AuditConsistencyProof {
        let newer = try await treeCheckpoint(at: second)
        guard first <= newer.sequence else {
            throw RampartError(.invalidParameter, """
                The first tree (\(first) events) is larger than the second (\(newer.sequence)): give the older size as 'first'.
                """)
        }
        let purged = try await auditRetention().purgedThrough.sequence
        guard first >= purged else {
            throw RampartError(.notFound, """
                Events 1 to \(purged) were purged under retention: prove consistency from the checkpoint at \(purged) or a \
                later one.
                """)
        }
        let path = try await proofBuilder(purgedThrough: purged).consistencyPath(from: first, to: newer.sequence)
        return AuditConsistencyProof(firstSize: first, consistencyPath: path.map(\.hexString),
                                     first: try await auditCheckpoints(limit: 1, at: first, signingTree: true).first, second: newer)
    }

    /// The version 2 checkpoint at `sequence`, or the newest when nil.
    private func treeCheckpoint(at sequence: Int64?) async throws -> AuditCheckpoint {
        if let sequence {
            guard let found = try await auditCheckpoints(limit: 1, at: sequence, signingTree: true).first else {
                throw RampartError(.notFound, """
                    No checkpoint signs a tree of \(sequence) events: the tree size must be the sequence of a checkpoint with a \
                    tree root (`rampart audit checkpoints`, GET /api/v1/audit-checkpoints), or left out for the newest.
                    """)
            }
            return found
        }
        guard let newest = try await auditCheckpoints(limit: 1, signingTree: true).first else {
            throw RampartError(.notFound, """
                No checkpoint signs a tree root yet: the server signs one within --audit-checkpoint-seconds of new events.
                """)
        }
        return newest
    }

    /// Hashes subtrees of the tree from what the store keeps: the frontier of the checkpoint
    /// the log was purged through, the stored block roots and the retained events.
    private func proofBuilder(purgedThrough purged: Int64) async throws -> MerkleProofBuilder {
        let prefix: MerkleCompactRange
        if purged > 0 {
            guard let text = try await rows(SQLQueryString("""
                SELECT tree_frontier FROM audit_checkpoints WHERE org_id = \(bind: orgID) AND seq = \(bind: purged)
                AND tree_frontier IS NOT NULL
                """), { try $0.text(0) }).first else {
                throw RampartError(.integrity, "The checkpoint the log was purged through keeps no tree frontier.")
            }
            prefix = try Self.frontier(size: purged, text: text)
        } else {
            prefix = MerkleCompactRange()
        }
        return MerkleProofBuilder(prefix: prefix, leafHashes: { range in
            try await auditEventHashes(after: range.lowerBound, through: range.upperBound)
                .map { try Self.leafHash(sequence: $0.0, hash: $0.1) }
        }, blockRoots: { blocks in
            var found: [Int64: [UInt8]] = [:]
            for (index, hash) in try await rows(SQLQueryString("""
                SELECT idx, hash FROM audit_tree_nodes WHERE org_id = \(bind: orgID)
                AND level = \(bind: MerkleProofBuilder.blockHeight) AND idx >= \(bind: blocks.lowerBound)
                AND idx < \(bind: blocks.upperBound)
                """), { (try $0.integer(0), try $0.text(1)) }) {
                found[index] = AuditInclusionProof.hash(hash)
            }
            return found
        })
    }

    /// The sequence numbers and hashes of the events after `after` up to `through`, oldest first:
    /// leaves `after..<through`.
    func auditEventHashes(after: Int64, through: Int64) async throws -> [(Int64, String)] {
        try await rows(SQLQueryString("""
            SELECT seq, hash FROM audit_events WHERE org_id = \(bind: orgID) AND seq > \(bind: after)
            AND seq <= \(bind: through) ORDER BY seq
            """), { (try $0.integer(0), try $0.text(1)) })
    }

    /// A leaf is the 32 bytes of an event's hash.
    static func leafHash(sequence: Int64, hash: String) throws -> [UInt8] {
        guard let bytes = AuditInclusionProof.hash(hash) else {
            throw RampartError(.integrity, "Event \(sequence)'s stored hash is not 64 hex digits.")
        }
        return MerkleTree.leafHash(bytes)
    }

    /// Hex roots, comma-separated, largest subtree first.
    static func frontierText(_ tree: MerkleCompactRange) -> String {
        tree.hashes.map(\.hexString).joined(separator: ",")
    }

    static func frontier(size: Int64, text: String) throws -> MerkleCompactRange {
        let hashes = text.isEmpty ? [] : text.split(separator: ",").map { AuditInclusionProof.hash(String($0)) }
        return try MerkleCompactRange(size: size, hashes: hashes.map { $0 ?? [] })
    }
}
