import Crypto
import Foundation

/// The Merkle tree of RFC 9162 §2.1 (Certificate Transparency's, RFC 6962's) over an
/// organisation's audit log: leaf `i` is the 32 bytes of the hash of event `i + 1`. Hashes are
/// swift-crypto's SHA-256; only the tree's arithmetic is written here, as the RFC gives it.
///
/// A checkpoint signs the root of the tree of the events up to it, so one event can be shown
/// to be in the log with a handful of hashes (an inclusion proof) instead of the whole chain.
public enum MerkleTree {
    /// `SHA-256(0x00 || leaf)`.
    public static func leafHash(_ leaf: some DataProtocol) -> [UInt8] {
        var digest = SHA256()
        digest.update(prefix: 0x00)
        digest.update(data: leaf)
        return Array(digest.finalize())
    }

    /// `SHA-256(0x01 || left || right)`.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var digest = SHA256()
        digest.update(prefix: 0x01)
        digest.update(data: left)
        digest.update(data: right)
        return Array(digest.finalize())
    }

    /// MTH of the empty list: the hash of no bytes.
    public static var emptyRoot: [UInt8] { Array(SHA256.hash(data: [UInt8]())) }

    /// The largest power of two smaller than `n` (n > 1): where MTH splits a list of `n`.
    public static func split(_ n: Int64) -> Int64 {
        precondition(n > 1)
        return Int64(1) << (63 - (n - 1).leadingZeroBitCount)
    }

    /// MTH(D[n]) over leaf hashes, straight from the definition: for tests and short lists.
    public static func root(ofLeafHashes leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        switch leaves.count {
        case 0: return emptyRoot
        case 1: return leaves[leaves.startIndex]
        default:
            let k = Int(split(Int64(leaves.count)))
            return nodeHash(root(ofLeafHashes: leaves.prefix(k)), root(ofLeafHashes: leaves.dropFirst(k)))
        }
    }

    /// PATH(m, D[n]) over every leaf hash, straight from the definition (RFC 9162 §2.1.3.1):
    /// the reference the stored tree's proofs are tested against.
    public static func auditPath(index m: Int, leafHashes leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard leaves.count > 1 else { return [] }
        let k = Int(split(Int64(leaves.count)))
        if m < k {
            return auditPath(index: m, leafHashes: leaves.prefix(k)) + [root(ofLeafHashes: leaves.dropFirst(k))]
        }
        return auditPath(index: m - k, leafHashes: leaves.dropFirst(k)) + [root(ofLeafHashes: leaves.prefix(k))]
    }

    /// The subtrees whose roots make up the audit path of leaf `m` in a tree of `n` leaves,
    /// as ranges of leaf indices, nearest the leaf first: PATH's recursion written as a loop.
    public static func auditPathRanges(index m: Int64, treeSize n: Int64) -> [Range<Int64>] {
        var ranges: [Range<Int64>] = []
        var (lo, hi) = (Int64(0), n)
        while hi - lo > 1 {
            let k = split(hi - lo)
            if m < lo + k {
                ranges.append(lo + k..<hi)
                hi = lo + k
            } else {
                ranges.append(lo..<lo + k)
                lo += k
            }
        }
        return ranges.reversed()
    }

    /// PROOF(m, D[n]) over every leaf hash, straight from the definition (RFC 9162 §2.1.4.1,
    /// SUBPROOF): the reference the stored tree's consistency proofs are tested against.
    public static func consistencyProof(from m: Int, leafHashes leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        func subproof(_ m: Int, _ leaves: ArraySlice<[UInt8]>, _ complete: Bool) -> [[UInt8]] {
            if m == leaves.count { return complete ? [] : [root(ofLeafHashes: leaves)] }
            let k = Int(split(Int64(leaves.count)))
            if m <= k { return subproof(m, leaves.prefix(k), complete) + [root(ofLeafHashes: leaves.dropFirst(k))] }
            return subproof(m - k, leaves.dropFirst(k), false) + [root(ofLeafHashes: leaves.prefix(k))]
        }
        return subproof(m, leaves, true)
    }

    /// The subtrees whose roots make up the proof that the tree of `m` leaves is a prefix of the
    /// tree of `n` (0 < m <= n), as ranges of leaf indices in the proof's order: SUBPROOF's
    /// recursion written as a loop, as `auditPathRanges` writes PATH's.
    public static func consistencyRanges(from m: Int64, to n: Int64) -> [Range<Int64>] {
        precondition(m > 0 && m <= n)
        var ranges: [Range<Int64>] = []
        var (lo, hi) = (Int64(0), n)
        var complete = true
        while m - lo != hi - lo {
            let k = split(hi - lo)
            if m - lo <= k {
                ranges.append(lo + k..<hi)
                hi = lo + k
            } else {
                ranges.append(lo..<lo + k)
                lo += k
                complete = false
            }
        }
        if !complete { ranges.append(lo..<hi) }
        return ranges.reversed()
    }

    /// RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `first` leaves with root
    /// `firstRoot` is a prefix of the tree of `second` leaves with root `secondRoot`. Equal
    /// sizes need an empty proof and equal roots; the empty tree is not a checkpoint's.
    public static func verifyConsistency(first: Int64, second: Int64, firstRoot: [UInt8], secondRoot: [UInt8],
                                         proof: [[UInt8]]) -> Bool {
        guard first > 0, first <= second, firstRoot.count == 32, secondRoot.count == 32,
              proof.allSatisfy({ $0.count == 32 }) else { return false }
        if first == second { return proof.isEmpty && firstRoot == secondRoot }
        guard !proof.isEmpty else { return false }
        let path = first.nonzeroBitCount == 1 ? [firstRoot] + proof : proof
        var (fn, sn) = (first - 1, second - 1)
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var (fr, sr) = (path[0], path[0])
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == firstRoot && sr == secondRoot
    }

    /// RFC 9162 §2.1.3.2: whether `path` proves the leaf with hash `leafHash` at `leafIndex`
    /// in the tree of `treeSize` leaves whose root is `root`.
    public static func verifyInclusion(leafIndex: Int64, treeSize: Int64, leafHash: [UInt8], path: [[UInt8]],
                                       root: [UInt8]) -> Bool {
        guard leafIndex >= 0, leafIndex < treeSize, leafHash.count == 32, root.count == 32 else { return false }
        var (fn, sn) = (leafIndex, treeSize - 1)
        var r = leafHash
        for p in path {
            guard sn != 0, p.count == 32 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }
}

/// The roots of the perfect subtrees that make up the leaves `begin..<end`, largest first:
/// with `begin` 0, the frontier of a tree of `end` leaves (one root per bit set in `end`),
/// from which the tree's root follows and to which leaves can be added without the ones
/// before. Used from any `begin` aligned to the range's size, it hashes one subtree of the
/// tree from pieces: the purged prefix's frontier, stored block roots and leaves.
public struct MerkleCompactRange: Sendable, Equatable {
    public private(set) var begin: Int64
    public private(set) var end: Int64
    /// (height, root) of each subtree, heights strictly falling.
    public private(set) var nodes: [(height: Int, hash: [UInt8])]

    public init(begin: Int64 = 0) {
        self.begin = begin; end = begin; nodes = []
    }

    /// The frontier of a tree of `size` leaves, as stored: one hash per bit set in `size`.
    public init(size: Int64, hashes: [[UInt8]]) throws {
        guard size >= 0, hashes.count == size.nonzeroBitCount, hashes.allSatisfy({ $0.count == 32 }) else {
            throw RampartError(.integrity, "A stored tree frontier does not fit its size.")
        }
        begin = 0; end = size
        var heights: [Int] = []
        for bit in (0..<63).reversed() where size & (Int64(1) << bit) != 0 { heights.append(bit) }
        nodes = Array(zip(heights, hashes)).map { (height: $0.0, hash: $0.1) }
    }

    public var hashes: [[UInt8]] { nodes.map(\.hash) }

    /// Adds the root of a perfect subtree of `height` right after `end` (aligned to its size);
    /// `merged` hears every subtree this completes: its height, its index among subtrees of
    /// that height, and its root.
    public mutating func append(_ hash: [UInt8], height: Int = 0,
                                merged: (_ height: Int, _ index: Int64, _ hash: [UInt8]) -> Void = { _, _, _ in }) {
        precondition(end % (Int64(1) << height) == 0 && (nodes.last.map { $0.height >= height } ?? true))
        var node = (height: height, hash: hash)
        end += Int64(1) << height
        while let last = nodes.last, last.height == node.height {
            nodes.removeLast()
            node = (height: node.height + 1, hash: MerkleTree.nodeHash(last.hash, node.hash))
            merged(node.height, (end - 1) >> node.height, node.hash)
        }
        nodes.append(node)
    }

    /// MTH of the leaves in range: the subtrees folded from the right, as MTH splits at the
    /// largest power of two (the empty range has the empty tree's root).
    public var root: [UInt8] {
        guard var r = nodes.last?.hash else { return MerkleTree.emptyRoot }
        for node in nodes.dropLast().reversed() { r = MerkleTree.nodeHash(node.hash, r) }
        return r
    }

    /// The subtrees of this range that lie inside `range`, when they cover exactly its start
    /// up to `min(range.upperBound, end)`; nil when the range's start is not one of theirs.
    func covering(_ range: Range<Int64>) -> MerkleCompactRange? {
        var out = MerkleCompactRange(begin: range.lowerBound)
        var at = begin
        for node in nodes {
            let size = Int64(1) << node.height
            if at >= range.lowerBound, at + size <= range.upperBound {
                guard at == out.end else { return nil }
                out.append(node.hash, height: node.height)
            }
            at += size
        }
        return out.end == min(range.upperBound, end) || range.lowerBound >= end ? out : nil
    }
}

extension MerkleCompactRange {
    public static func == (a: MerkleCompactRange, b: MerkleCompactRange) -> Bool {
        a.begin == b.begin && a.end == b.end && a.nodes.map(\.height) == b.nodes.map(\.height) && a.hashes == b.hashes
    }
}

extension SHA256 {
    /// The one-byte domain prefix of RFC 9162's hashes, without an array for it: a
    /// checkpoint hashes two of them for every event since the last one.
    mutating func update(prefix: UInt8) {
        withUnsafeBytes(of: prefix) { update(bufferPointer: $0) }
    }
}
