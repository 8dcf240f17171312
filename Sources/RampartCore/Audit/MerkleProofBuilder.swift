/// Builds an inclusion proof from what the store keeps of the tree, without every leaf:
///
/// - `prefix`: the frontier of the purged prefix `0..<p` (the checkpoint a purge went
///   through), the only trace of the leaves that are gone. Every subtree of a retained leaf's
///   path that lies in the prefix is one of its subtrees, and one that straddles `p` is some of
///   its subtrees followed by retained leaves.
/// - `blockRoots`: the roots of the perfect subtrees of `blockSize` leaves (blocks), stored as
///   the checkpointer extends the tree, so that a path in a tree of a million leaves reads about
///   a thousand block roots and at most a few thousand leaves instead of all of them.
/// - `leafHashes`: the leaf hashes of retained events.
public struct MerkleProofBuilder: Sendable {
    /// Blocks are subtrees of 2^10 leaves.
    public static let blockHeight = 10
    public static let blockSize = Int64(1) << blockHeight

    public typealias Leaves = @Sendable (Range<Int64>) async throws -> [[UInt8]]
    public typealias Blocks = @Sendable (Range<Int64>) async throws -> [Int64: [UInt8]]

    let prefix: MerkleCompactRange
    let leafHashes: Leaves
    let blockRoots: Blocks

    /// `leafHashes(r)` answers the leaf hashes of leaf indices `r` (all at or after the
    /// prefix), in order; `blockRoots(r)` the stored roots of blocks `r` it has, by block index
    /// (a block without one is hashed from its leaves).
    public init(prefix: MerkleCompactRange, leafHashes: @escaping Leaves, blockRoots: @escaping Blocks) {
        self.prefix = prefix; self.leafHashes = leafHashes; self.blockRoots = blockRoots
    }

    /// The audit path of leaf `m` in the tree of `n` leaves, nearest the leaf first.
    public func auditPath(index m: Int64, treeSize n: Int64) async throws -> [[UInt8]] {
        guard m >= prefix.end, m < n else {
            throw RampartError(.invalidParameter, "Leaf \(m) is not in the retained part of a tree of \(n) leaves.")
        }
        var path: [[UInt8]] = []
        for range in MerkleTree.auditPathRanges(index: m, treeSize: n) { path.append(try await hash(of: range)) }
        return path
    }

    /// The proof that the tree of `m` leaves is the start of the tree of `n` (RFC 9162
    /// §2.1.4.1), from a tree whose prefix up to at most `m` was purged.
    public func consistencyPath(from m: Int64, to n: Int64) async throws -> [[UInt8]] {
        guard m >= prefix.end, m > 0, m <= n else {
            throw RampartError(.invalidParameter, "The tree of \(m) leaves is not a retained prefix of the tree of \(n).")
        }
        guard m < n else { return [] }
        var path: [[UInt8]] = []
        for range in MerkleTree.consistencyRanges(from: m, to: n) { path.append(try await hash(of: range)) }
        return path
    }

    /// MTH of the leaves in `range`, a subtree of the tree (its start aligned to its size).
    func hash(of range: Range<Int64>) async throws -> [UInt8] {
        guard var compact = prefix.covering(range) else {
            throw RampartError(.integrity, "The purged part of the tree does not hold the subtree \(range); its frontier is damaged.")
        }
        while compact.end < range.upperBound {
            let at = compact.end
            let aligned = at.isMultiple(of: Self.blockSize)
            if aligned, at + Self.blockSize <= range.upperBound {
                let blocks = at / Self.blockSize..<range.upperBound / Self.blockSize
                let stored = try await blockRoots(blocks)
                for block in blocks {
                    let root: [UInt8]
                    if let found = stored[block] { root = found } else {
                        root = MerkleTree.root(ofLeafHashes: try await leaves(block * Self.blockSize..<(block + 1) * Self.blockSize)[...])
                    }
                    compact.append(root, height: Self.blockHeight)
                }
            } else {
                // Up to the next block's start, or the end of a range too short for a block.
                let stop = aligned ? range.upperBound : min((at / Self.blockSize + 1) * Self.blockSize, range.upperBound)
                for leaf in try await leaves(at..<stop) { compact.append(leaf) }
            }
        }
        return compact.root
    }

    private func leaves(_ range: Range<Int64>) async throws -> [[UInt8]] {
        let found = try await leafHashes(range)
        guard found.count == range.count else {
            throw RampartError(.integrity, "Events \(range.lowerBound + 1) to \(range.upperBound) are not all in the log.")
        }
        return found
    }
}
