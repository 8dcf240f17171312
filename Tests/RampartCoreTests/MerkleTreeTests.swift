import Crypto
import Foundation
import RampartCore
import Testing

/// The tree against the vectors Certificate Transparency's implementations share
/// (transparency-dev/merkle, testonly/constants.go and proof/verify_test.go), then every proof
/// of every small tree, proofs built from pieces the way the store keeps them, and the signed
/// checkpoints of both versions.
@Suite("Merkle tree and inclusion proofs")
struct MerkleTreeTests {
    static func hex(_ text: String) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map { i in
            let start = text.index(text.startIndex, offsetBy: i)
            return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    static let inputs = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .map(hex)
    static let leaves = inputs.map { MerkleTree.leafHash($0) }
    /// The root of the tree of the first n inputs, n = 0…8.
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func rootsMatchThePublishedVectors() {
        for n in 0...8 {
            #expect(MerkleTree.root(ofLeafHashes: Self.leaves.prefix(n)).hexString == Self.roots[n], "size \(n)")
            var frontier = MerkleCompactRange()
            for leaf in Self.leaves.prefix(n) { frontier.append(leaf) }
            #expect(frontier.root.hexString == Self.roots[n], "size \(n), from the frontier")
        }
    }

    /// testonly/constants.go's CompactTrees: the frontier of each size, largest subtree first.
    @Test func frontiersMatchThePublishedCompactTrees() throws {
        let expected: [Int: [String]] = [
            3: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"],
            6: ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"],
            7: ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"],
            8: ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
        ]
        for (size, hashes) in expected {
            var frontier = MerkleCompactRange()
            for leaf in Self.leaves.prefix(size) { frontier.append(leaf) }
            #expect(frontier.hashes.map(\.hexString) == hashes, "size \(size)")
            #expect(try MerkleCompactRange(size: Int64(size), hashes: hashes.map(Self.hex)) == frontier, "read back as stored")
        }
        #expect(throws: RampartError.self) { try MerkleCompactRange(size: 7, hashes: [Self.leaves[0]]) }
    }

    /// proof/verify_test.go's inclusion proofs (leaf numbers there count from 1).
    @Test func auditPathsMatchThePublishedProofs() {
        let vectors: [(index: Int, size: Int, path: [String])] = [
            (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
            (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
            (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
            (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
        ]
        for v in vectors {
            let path = MerkleTree.auditPath(index: v.index, leafHashes: Self.leaves.prefix(v.size))
            #expect(path.map(\.hexString) == v.path, "leaf \(v.index) of \(v.size)")
            #expect(MerkleTree.verifyInclusion(leafIndex: Int64(v.index), treeSize: Int64(v.size), leafHash: Self.leaves[v.index],
                                               path: v.path.map(Self.hex), root: Self.hex(Self.roots[v.size])))
        }
    }

    static let many = (0..<40).map { i in MerkleTree.leafHash([UInt8(i), UInt8(i * 7 & 0xFF)]) }

    /// Every leaf of every tree of 1 to 33 leaves: its path verifies, and a changed leaf, index,
    /// root, path entry, or a path one entry short or long, does not.
    @Test func everyProofOfSmallTreesVerifiesAndTamperingFails() {
        for n in 1...33 {
            let tree = Self.many.prefix(n)
            let root = MerkleTree.root(ofLeafHashes: tree)
            for m in 0..<n {
                let path = MerkleTree.auditPath(index: m, leafHashes: tree)
                let (index, size) = (Int64(m), Int64(n))
                #expect(MerkleTree.verifyInclusion(leafIndex: index, treeSize: size, leafHash: tree[m], path: path, root: root),
                        "leaf \(m) of \(n)")
                #expect(!MerkleTree.verifyInclusion(leafIndex: index, treeSize: size, leafHash: Self.many[39], path: path, root: root))
                #expect(!MerkleTree.verifyInclusion(leafIndex: index, treeSize: size, leafHash: tree[m], path: path,
                                                    root: Self.many[39]))
                #expect(!MerkleTree.verifyInclusion(leafIndex: size, treeSize: size, leafHash: tree[m], path: path, root: root))
                // The neighbour's index turns the first hash around (a wrong size need not fail the
                // algorithm alone: `AuditInclusionProof` holds the size to its checkpoint's).
                if index ^ 1 < size {
                    #expect(!MerkleTree.verifyInclusion(leafIndex: index ^ 1, treeSize: size, leafHash: tree[m], path: path, root: root))
                }
                if n > 1 {
                    #expect(!MerkleTree.verifyInclusion(leafIndex: index, treeSize: size, leafHash: tree[m],
                                                        path: Array(path.dropLast()), root: root))
                }
                #expect(!MerkleTree.verifyInclusion(leafIndex: index, treeSize: size, leafHash: tree[m], path: path + [root],
                                                    root: root))
                for i in path.indices {
                    var tampered = path
                    tampered[i][0] ^= 8
                    #expect(!MerkleTree.verifyInclusion(leafIndex: index, treeSize: size, leafHash: tree[m], path: tampered,
                                                        root: root))
                }
            }
        }
    }

    /// Leaves 0..<n, answered by range, and the roots of blocks of 1,024 of them: what the store holds.
    struct Store {
        let leaves: [[UInt8]]
        var blocks: [Int64: [UInt8]] = [:]

        init(count: Int) {
            leaves = (0..<count).map { MerkleTree.leafHash(withUnsafeBytes(of: UInt32($0).bigEndian, Array.init)) }
            var tree = MerkleCompactRange()
            var blocks: [Int64: [UInt8]] = [:]
            for leaf in leaves {
                tree.append(leaf) { height, index, root in if height == MerkleProofBuilder.blockHeight { blocks[index] = root } }
            }
            self.blocks = blocks
        }

        func builder(purgedThrough p: Int, withBlocks: Bool = true) -> MerkleProofBuilder {
            var prefix = MerkleCompactRange()
            for leaf in leaves.prefix(p) { prefix.append(leaf) }
            let (leaves, blocks) = (leaves, withBlocks ? blocks : [:])
            return MerkleProofBuilder(prefix: prefix, leafHashes: { range in
                #expect(range.lowerBound >= Int64(p), "a purged leaf is never read")
                return Array(leaves[Int(range.lowerBound)..<Int(range.upperBound)])
            }, blockRoots: { range in blocks.filter { range.contains($0.key) } })
        }
    }

    /// Proofs built from a purged prefix's frontier, block roots and the retained leaves are the
    /// paths the definition gives, for leaves on either side of block and purge boundaries.
    @Test func proofsFromTheStoredPiecesAreTheDefinitionsPaths() async throws {
        let store = Store(count: 5000)
        for (n, p) in [(5000, 0), (5000, 1), (5000, 1023), (5000, 1025), (4096, 3000), (3073, 2048), (1, 0), (2, 1), (33, 17)] {
            let tree = store.leaves.prefix(n)
            let root = MerkleTree.root(ofLeafHashes: tree)
            for m in Set([p, p + 1, n / 2, 1023, 1024, 2047, 3071, 3072, n - 2, n - 1]) where m >= p && m < n {
                for withBlocks in [true, false] {
                    let path = try await store.builder(purgedThrough: p, withBlocks: withBlocks).auditPath(index: Int64(m),
                                                                                                          treeSize: Int64(n))
                    #expect(path == MerkleTree.auditPath(index: m, leafHashes: tree), "leaf \(m) of \(n), purged \(p)")
                    #expect(MerkleTree.verifyInclusion(leafIndex: Int64(m), treeSize: Int64(n), leafHash: tree[m], path: path,
                                                       root: root))
                }
            }
        }
        await #expect(throws: RampartError.self) { try await store.builder(purgedThrough: 10).auditPath(index: 9, treeSize: 20) }
    }

    static let key = Curve25519.Signing.PrivateKey()
    static let head = ChainHead(sequence: 8, hash: String(repeating: "ab", count: 32))

    /// A proof is checked on its own: signature, trusted key, sizes, then the path. Its leaves
    /// are events' hashes, 32 bytes each.
    @Test func aSignedProofVerifiesAndEachForgeryFails() throws {
        let events = (0..<8).map { i in Array(SHA256.hash(data: [UInt8(i)])) }
        let tree = events.map { MerkleTree.leafHash($0) }
        let root = MerkleTree.root(ofLeafHashes: tree[...]).hexString
        let checkpoint = try AuditCheckpoint.sign(orgID: "org", head: Self.head, treeRoot: root, at: Timestamp(microseconds: 1_000),
                                                  keyID: "k1", key: Self.key)
        #expect(checkpoint.version == 2 && checkpoint.signatureIsValid)
        let path = MerkleTree.auditPath(index: 5, leafHashes: tree[...]).map(\.hexString)
        let proof = AuditInclusionProof(sequence: 6, eventHash: events[5].hexString, treeSize: 8, auditPath: path,
                                        checkpoint: checkpoint)
        let key = Self.key.publicKey.rawRepresentation.base64URLEncoded
        #expect(proof.verify(trustedKeys: [key]).proven)
        let decoded = try JSONDecoder().decode(AuditInclusionProof.self, from: JSONEncoder().encode(proof))
        #expect(decoded.verify().proven, "it survives its JSON")
        #expect(proof.verify(trustedKeys: ["someone-else"]).reason == "the checkpoint is signed by a key not trusted")

        let otherEvent = AuditInclusionProof(sequence: 6, eventHash: events[4].hexString, treeSize: 8, auditPath: path,
                                             checkpoint: checkpoint)
        #expect(otherEvent.verify().reason?.contains("audit path") == true)
        var tampered = path
        tampered[1] = String(repeating: "0", count: 64)
        #expect(!AuditInclusionProof(sequence: 6, eventHash: events[5].hexString, treeSize: 8, auditPath: tampered,
                                     checkpoint: checkpoint).verify().proven)
        // A forged root (the stored checkpoint edited) breaks the signature.
        let forged = AuditCheckpoint(orgID: "org", sequence: 8, headHash: Self.head.hash, treeRoot: String(repeating: "1", count: 64),
                                     signedAt: checkpoint.signedAt, keyID: "k1", publicKey: checkpoint.publicKey,
                                     signature: checkpoint.signature)
        #expect(AuditInclusionProof(sequence: 6, eventHash: events[5].hexString, treeSize: 8, auditPath: path, checkpoint: forged)
            .verify().reason == "the checkpoint's signature does not verify")
        // Dropping the root makes it read as version 1, whose bytes were never signed.
        let dropped = AuditCheckpoint(orgID: "org", sequence: 8, headHash: Self.head.hash, signedAt: checkpoint.signedAt,
                                      keyID: "k1", publicKey: checkpoint.publicKey, signature: checkpoint.signature)
        #expect(!dropped.signatureIsValid)
        // A proof against a tree of another size than its checkpoint's does not pass.
        #expect(AuditInclusionProof(sequence: 6, eventHash: events[5].hexString, treeSize: 7, auditPath: path,
                                    checkpoint: checkpoint).verify().reason?.contains("tree size") == true)
    }

    /// Version 1 checkpoints sign the bytes they always did, and still verify.
    @Test func versionOneCheckpointsAreUnchanged() throws {
        let v1 = try AuditCheckpoint.sign(orgID: "org", head: Self.head, at: Timestamp(microseconds: 1_000), keyID: "k1", key: Self.key)
        #expect(v1.version == 1 && v1.treeRoot == nil && v1.signatureIsValid)
        let message = Data("rampart-audit-checkpoint/1\norg\n8\n\(Self.head.hash)\n\(v1.signedAt.rfc3339)\nk1\n".utf8)
        let signature = try #require(Data(base64URLEncoded: v1.signature))
        #expect(Self.key.publicKey.isValidSignature(signature, for: message))
        let json = String(decoding: try JSONEncoder().encode(v1), as: UTF8.self)
        #expect(!json.contains("treeRoot"), "a version 1 checkpoint's JSON is as it was")
        #expect(try JSONDecoder().decode(AuditCheckpoint.self, from: Data(json.utf8)).signatureIsValid)
        let v2 = try AuditCheckpoint.sign(orgID: "org", head: Self.head, treeRoot: Self.roots[8], at: v1.signedAt, keyID: "k1",
                                          key: Self.key)
        let message2 = Data("rampart-audit-checkpoint/2\norg\n8\n\(Self.head.hash)\n\(Self.roots[8])\n\(v1.signedAt.rfc3339)\nk1\n".utf8)
        #expect(Self.key.publicKey.isValidSignature(try #require(Data(base64URLEncoded: v2.signature)), for: message2))
    }

    /// proof/verify_test.go's consistency proofs, and RFC 9162 §2.1.4.2 accepting each.
    @Test func consistencyProofsMatchThePublishedProofs() {
        let vectors: [(first: Int, second: Int, proof: [String])] = [
            (1, 1, []),
            (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
            (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
            (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
            (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        ]
        for v in vectors {
            let proof = MerkleTree.consistencyProof(from: v.first, leafHashes: Self.leaves.prefix(v.second))
            #expect(proof.map(\.hexString) == v.proof, "\(v.first) to \(v.second)")
            #expect(MerkleTree.verifyConsistency(first: Int64(v.first), second: Int64(v.second), firstRoot: Self.hex(Self.roots[v.first]),
                                                 secondRoot: Self.hex(Self.roots[v.second]), proof: v.proof.map(Self.hex)))
        }
    }

    /// Every pair of small trees: the ranges give the definition's proof, it verifies, and
    /// it fails for a changed hash, a dropped or added hash, another root or a smaller first
    /// tree. (The same hashes can fit a larger second tree with the same shape of path, as
    /// for inclusion proofs: the sizes are bound to the roots by the signed checkpoints.)
    @Test func everyConsistencyProofOfSmallTreesVerifiesAndTamperingFails() {
        let leaves = (0..<40).map { MerkleTree.leafHash([UInt8($0)]) }
        for n in 1...40 {
            let tree = leaves.prefix(n)
            let root = MerkleTree.root(ofLeafHashes: tree)
            for m in 1...n {
                let first = MerkleTree.root(ofLeafHashes: leaves.prefix(m))
                let proof = MerkleTree.consistencyProof(from: m, leafHashes: tree)
                let fromRanges = MerkleTree.consistencyRanges(from: Int64(m), to: Int64(n)).map {
                    MerkleTree.root(ofLeafHashes: leaves[Int($0.lowerBound)..<Int($0.upperBound)])
                }
                #expect(fromRanges == proof, "\(m) to \(n): the ranges' roots are the proof")
                func verifies(_ proof: [[UInt8]], _ m: Int64 = Int64(m), _ n: Int64 = Int64(n), first: [UInt8]? = nil,
                              second: [UInt8]? = nil) -> Bool {
                    MerkleTree.verifyConsistency(first: m, second: n, firstRoot: first ?? MerkleTree.root(ofLeafHashes: leaves.prefix(Int(m))),
                                                 secondRoot: second ?? MerkleTree.root(ofLeafHashes: leaves.prefix(Int(n))), proof: proof)
                }
                #expect(verifies(proof), "\(m) to \(n)")
                let forged = MerkleTree.leafHash([0xff])
                #expect(!verifies(proof, first: forged), "\(m) to \(n): another first root")
                #expect(!verifies(proof, second: forged), "\(m) to \(n): another second root")
                #expect(!verifies(proof + [root]), "\(m) to \(n): a hash added")
                for i in proof.indices {
                    var changed = proof
                    changed[i] = forged
                    #expect(!verifies(changed), "\(m) to \(n): hash \(i) changed")
                    var dropped = proof
                    dropped.remove(at: i)
                    #expect(!verifies(dropped), "\(m) to \(n): hash \(i) dropped")
                }
                if m > 1 { #expect(!verifies(proof, Int64(m - 1), first: first), "\(m) to \(n) as from \(m - 1)") }
            }
        }
        #expect(!MerkleTree.verifyConsistency(first: 0, second: 1, firstRoot: MerkleTree.emptyRoot, secondRoot: leaves[0], proof: []))
        #expect(!MerkleTree.verifyConsistency(first: 2, second: 1, firstRoot: leaves[0], secondRoot: leaves[0], proof: []))
    }

    /// Consistency proofs built from a purged prefix's frontier, block roots and the retained
    /// leaves are the definition's, from any tree at or after the purge.
    @Test func consistencyProofsFromTheStoredPiecesAreTheDefinitions() async throws {
        let store = Store(count: 5000)
        for (n, p) in [(5000, 0), (5000, 1), (5000, 1023), (5000, 1025), (4096, 3000), (3073, 2048), (1, 0), (2, 1), (33, 17)] {
            let tree = store.leaves.prefix(n)
            for m in Set([max(p, 1), p + 1, n / 2, 1023, 1024, 1025, 2047, 3071, 3072, n - 1, n]) where m >= max(p, 1) && m <= n {
                for withBlocks in [true, false] {
                    let path = try await store.builder(purgedThrough: p, withBlocks: withBlocks).consistencyPath(from: Int64(m), to: Int64(n))
                    #expect(path == MerkleTree.consistencyProof(from: m, leafHashes: tree), "\(m) to \(n), purged \(p)")
                }
            }
        }
        await #expect(throws: RampartError.self) { try await store.builder(purgedThrough: 10).consistencyPath(from: 9, to: 20) }
    }

    static func consistency(_ path: [String], first: AuditCheckpoint, second: AuditCheckpoint) -> AuditConsistencyProof {
        AuditConsistencyProof(firstSize: first.sequence, consistencyPath: path, first: first, second: second)
    }

    /// A consistency proof is checked on its own: both signatures, trusted keys, one
    /// organisation, sizes, then the path.
    @Test func aSignedConsistencyProofVerifiesAndEachForgeryFails() throws {
        let tree = Self.leaves
        func checkpoint(_ size: Int, org: String = "org", root: String? = nil) throws -> AuditCheckpoint {
            try AuditCheckpoint.sign(orgID: org, head: ChainHead(sequence: Int64(size), hash: String(repeating: "ab", count: 32)),
                                     treeRoot: root ?? MerkleTree.root(ofLeafHashes: tree.prefix(size)).hexString,
                                     at: Timestamp(microseconds: 1_000), keyID: "k1", key: Self.key)
        }
        let path = MerkleTree.consistencyProof(from: 6, leafHashes: tree[...]).map(\.hexString)
        let proof = Self.consistency(path, first: try checkpoint(6), second: try checkpoint(8))
        let key = Self.key.publicKey.rawRepresentation.base64URLEncoded
        #expect(proof.verify(trustedKeys: [key]).proven)
        #expect(try JSONDecoder().decode(AuditConsistencyProof.self, from: JSONEncoder().encode(proof)).verify().proven)
        #expect(proof.verify(trustedKeys: ["someone-else"]).reason == "the first checkpoint is signed by a key not trusted")
        // Without the store's first checkpoint, the witness checks it against the one it kept.
        let bare = AuditConsistencyProof(firstSize: 6, consistencyPath: path, first: nil, second: try checkpoint(8))
        #expect(bare.verify().reason == "the proof carries no checkpoint of 6 events: check it against the one you hold")
        #expect(bare.verify(from: try checkpoint(6), trustedKeys: [key]).proven)
        #expect(bare.verify(from: try checkpoint(5)).reason == "the proof's tree sizes do not match its checkpoints")
        #expect(Self.consistency([], first: try checkpoint(8), second: try checkpoint(8)).verify().proven)

        // A log whose sixth event was rewritten: its newer root is signed, but no path leads to it.
        let rewritten = try checkpoint(8, root: MerkleTree.root(ofLeafHashes: tree.prefix(5) + [MerkleTree.leafHash([1])] + tree[6..<8]).hexString)
        #expect(Self.consistency(path, first: try checkpoint(6), second: rewritten).verify().reason
            == "the consistency path does not lead from the first tree root to the second")
        var tampered = path
        tampered[0] = String(repeating: "0", count: 64)
        #expect(!Self.consistency(tampered, first: try checkpoint(6), second: try checkpoint(8)).verify().proven)
        #expect(Self.consistency(path + ["xyz"], first: try checkpoint(6), second: try checkpoint(8)).verify().reason
            == "a consistency path entry is not 64 hex digits")
        #expect(Self.consistency(path, first: try checkpoint(6, org: "other"), second: try checkpoint(8)).verify()
            .reason == "the checkpoints are of different organisations")
        #expect(Self.consistency(path, first: try checkpoint(8), second: try checkpoint(6)).verify().reason
            == "the first tree is larger than the second")
        let second = try checkpoint(8)
        let forged = AuditCheckpoint(orgID: "org", sequence: 8, headHash: second.headHash, treeRoot: String(repeating: "1", count: 64),
                                     signedAt: second.signedAt, keyID: "k1", publicKey: second.publicKey, signature: second.signature)
        #expect(Self.consistency(path, first: try checkpoint(6), second: forged).verify().reason
            == "the second checkpoint's signature does not verify")
        let v1 = try AuditCheckpoint.sign(orgID: "org", head: Self.head, at: Timestamp(microseconds: 1_000), keyID: "k1", key: Self.key)
        #expect(Self.consistency(path, first: try checkpoint(6), second: v1).verify().reason
            == "a checkpoint signs no tree root (a version 1 checkpoint)")
    }
}
