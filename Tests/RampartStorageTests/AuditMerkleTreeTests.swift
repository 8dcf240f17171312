import Foundation
import RampartCore
import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// The tree as the store keeps it: checkpoints sign its root, proofs come from the retained
/// events, block roots and the frontier a purge leaves, and whatever is edited in the database
/// makes the proof fail instead of passing.
@Suite("Audit Merkle tree in the store")
struct AuditMerkleTreeTests {
    static func append(_ store: TestStore, _ org: String, _ count: Int) async throws {
        _ = try await store.database.write(org: org) { t in
            try await t.appendAudit((0..<count).map { _ in AuditContext.system.record(.auditRetentionChanged, []) })
        }
    }

    static func sign(_ store: TestStore, _ org: String) async throws -> AuditCheckpoint {
        let keys = store.keys
        return try #require(try await store.database.write(org: org) { try await $0.signAuditCheckpoint(keys: keys) })
    }

    /// The head and the tree extended to it in a read transaction, as the server's checkpointer does.
    static func extendInRead(_ store: TestStore, _ org: String) async throws -> (ChainHead, AuditTreeExtension?) {
        try await store.database.read(org: org) { t in
            let head = try await t.auditHead()
            return (head, try await t.auditTreeExtension(to: head.sequence))
        }
    }

    static func prove(_ store: TestStore, _ org: String, _ sequence: Int64, treeSize: Int64? = nil) async throws
        -> AuditInclusionProof {
        try await store.database.read(org: org) { try await $0.auditInclusionProof(sequence: sequence, treeSize: treeSize) }
    }

    static func keys(_ store: TestStore, _ org: String) async throws -> Set<String> {
        Set(try await store.database.read(org: org) { try await $0.auditCheckpointPublicKeys() }.values)
    }

    /// Retention set to one day, then the purge two days on: every event so far is expired.
    static func purgeUnderOneDayRetention(_ store: TestStore, _ org: String) async throws -> AuditPurge {
        _ = try await store.database.write(org: org) {
            try await $0.updateAuditRetention(days: 1, legalHold: nil, legalHoldReason: nil, by: .system)
        }
        return try #require(try await AuditRetentionTests.purge(store, org))
    }

    static func errorCode(_ body: () async throws -> Void) async -> RampartError.Code? {
        do { try await body(); return nil } catch let error as RampartError { return error.code } catch { return nil }
    }

    @Test(arguments: Backend.all)
    func everyEventIsProvenAgainstEachSignedRoot(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization.id
            #expect(await Self.errorCode { _ = try await Self.prove(store, org, 1) } == .notFound, "no checkpoint yet")
            try await Self.append(store, org, 11)
            let first = try await Self.sign(store, org)
            try await Self.append(store, org, 9)
            let second = try await Self.sign(store, org)
            #expect(first.version == 2 && second.version == 2 && first.signatureIsValid && second.signatureIsValid)
            let events = try await store.events(org)
            let leaves = events.map { MerkleTree.leafHash(AuditInclusionProof.hash($0.hash)!) }
            #expect(second.treeRoot == MerkleTree.root(ofLeafHashes: leaves[...]).hexString, "the root of every event's hash")
            #expect(first.treeRoot == MerkleTree.root(ofLeafHashes: leaves.prefix(Int(first.sequence))).hexString)
            let keys = try await Self.keys(store, org)
            for event in events {
                let proof = try await Self.prove(store, org, event.sequence)
                #expect(proof.checkpoint == second && proof.eventHash == event.hash)
                #expect(proof.verify(trustedKeys: keys).proven, "event \(event.sequence)")
                if event.sequence <= first.sequence {
                    let earlier = try await Self.prove(store, org, event.sequence, treeSize: first.sequence)
                    #expect(earlier.treeSize == first.sequence && earlier.verify(trustedKeys: keys).proven)
                }
            }
            #expect(await Self.errorCode { _ = try await Self.prove(store, org, first.sequence + 1, treeSize: first.sequence) } == .invalidParameter)
            #expect(await Self.errorCode { _ = try await Self.prove(store, org, second.sequence + 1) } == .invalidParameter)
            #expect(await Self.errorCode { _ = try await Self.prove(store, org, 3, treeSize: 5) } == .notFound,
                    "a size no checkpoint signed")
            // Another organisation has neither the tree nor the checkpoint.
            let other = try await store.createOrganization().organization.id
            #expect(await Self.errorCode { _ = try await Self.prove(store, other, 3) } == .notFound)
        }
    }

    static func consistency(_ store: TestStore, _ org: String, _ first: Int64, _ second: Int64? = nil) async throws
        -> AuditConsistencyProof {
        try await store.database.read(org: org) { try await $0.auditConsistencyProof(first: first, second: second) }
    }

    /// Three checkpoints, the middle one past a block of 1,024 events: each older tree is
    /// proven the start of each newer, and asking the wrong way round or for a size no
    /// checkpoint signed is refused.
    @Test(arguments: Backend.all)
    func eachSignedTreeIsProvenTheStartOfEachLaterOne(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization.id
            #expect(await Self.errorCode { _ = try await Self.consistency(store, org, 1) } == .notFound, "no checkpoint yet")
            var checkpoints: [AuditCheckpoint] = []
            for count in [7, 1100, 13] {
                try await Self.append(store, org, count)
                checkpoints.append(try await Self.sign(store, org))
            }
            let keys = try await Self.keys(store, org)
            for (i, older) in checkpoints.enumerated() {
                for newer in checkpoints[i...] {
                    let proof = try await Self.consistency(store, org, older.sequence, newer.sequence)
                    #expect(proof.first == older && proof.second == newer)
                    #expect(proof.verify(trustedKeys: keys).proven, "\(older.sequence) to \(newer.sequence)")
                    #expect(proof.consistencyPath.isEmpty == (older == newer))
                }
            }
            let toNewest = try await Self.consistency(store, org, checkpoints[0].sequence)
            #expect(toNewest.second == checkpoints[2] && toNewest.verify(trustedKeys: keys).proven, "the newest by default")
            #expect(await Self.errorCode {
                _ = try await Self.consistency(store, org, checkpoints[2].sequence, checkpoints[0].sequence)
            } == .invalidParameter)
            // A first size no checkpoint signed: the witness holds its own checkpoint of it.
            let unsigned = try await Self.consistency(store, org, 3)
            let leaves = try await store.events(org).map { MerkleTree.leafHash(AuditInclusionProof.hash($0.hash)!) }
            #expect(unsigned.first == nil && unsigned.second == checkpoints[2])
            #expect(unsigned.consistencyPath
                == MerkleTree.consistencyProof(from: 3, leafHashes: leaves.prefix(Int(unsigned.secondSize))).map(\.hexString))
            #expect(await Self.errorCode { _ = try await Self.consistency(store, org, 1, 3) } == .notFound,
                    "a second size no checkpoint signed")
            let other = try await store.createOrganization().organization.id
            #expect(await Self.errorCode { _ = try await Self.consistency(store, other, checkpoints[0].sequence) } == .notFound)
        }
    }

    /// A witness kept the first checkpoint. Then an event before it was rewritten in the
    /// database, and the checkpoints and tree deleted so that the server built the tree again
    /// from event 1 and went on signing. The new checkpoint's signature is good, but no
    /// consistency proof leads to it from the root the witness kept.
    @Test(arguments: Backend.all)
    func aPastRewrittenAndSignedAnewFailsTheConsistencyProof(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            try await Self.append(store, org.id, 8)
            let held = try await Self.sign(store, org.id)
            try await Self.append(store, org.id, 3)
            let keys = try await Self.keys(store, org.id)
            let honest = try await Self.consistency(store, org.id, held.sequence, try await Self.sign(store, org.id).sequence)
            #expect(honest.verify(from: held, trustedKeys: keys).proven)
            try await AuditTamperEvidenceTests.tamper(store, org, [
                "UPDATE audit_events SET hash = '\(String(repeating: "0", count: 64))' WHERE org_id = $ORG AND seq = 5",
                "DELETE FROM audit_checkpoints WHERE org_id = $ORG", "DELETE FROM audit_tree_nodes WHERE org_id = $ORG",
            ])
            try await Self.append(store, org.id, 6)
            let signedAnew = try await Self.sign(store, org.id)
            #expect(signedAnew.signatureIsValid)
            let proof = try await Self.consistency(store, org.id, held.sequence, signedAnew.sequence)
            #expect(proof.first == nil, "the store no longer has the checkpoint the witness kept")
            #expect(proof.verify(from: held, trustedKeys: keys).reason
                == "the consistency path does not lead from the first tree root to the second")
        }
    }

    /// After a purge through a checkpoint, consistency is proven from that checkpoint on, from
    /// the purged prefix's frontier; from before it, the answer says which checkpoint to use.
    @Test(arguments: Backend.all)
    func afterAPurgeConsistencyIsProvenFromThePurgeOn(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization.id
            try await Self.append(store, org, 5)
            let early = try await Self.sign(store, org)
            try await Self.append(store, org, 1200)
            let through = try await Self.sign(store, org)
            try await Self.append(store, org, 900)
            let purge = try await Self.purgeUnderOneDayRetention(store, org)
            #expect(purge.throughSequence == through.sequence)
            let later = try await Self.sign(store, org)
            let keys = try await Self.keys(store, org)
            #expect(try await Self.consistency(store, org, through.sequence, later.sequence).verify(trustedKeys: keys).proven)
            do {
                _ = try await Self.consistency(store, org, early.sequence, later.sequence)
                Issue.record("a proof from before the purge")
            } catch let error as RampartError {
                #expect(error.code == .notFound && error.message.contains("from the checkpoint at \(through.sequence)"))
            }
        }
    }

    /// Checkpoints signed before the tree existed keep no frontier; the first one that signs a
    /// root builds the tree from event 1 and gives them theirs, so a purge through one of them
    /// still leaves what proofs need.
    @Test(arguments: Backend.all)
    func theFirstTreeIsBuiltFromEventOneAndOlderCheckpointsGetTheirFrontier(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            try await Self.append(store, org.id, 5)
            let older = try await Self.sign(store, org.id)
            try await AuditTamperEvidenceTests.tamper(store, org, ["UPDATE audit_checkpoints SET tree_frontier = NULL WHERE org_id = $ORG"])
            try await Self.append(store, org.id, 4)
            let newest = try await Self.sign(store, org.id)
            let frontiers = try await store.database.read(org: org.id) { t in
                try await t.sql.raw("SELECT seq, tree_frontier FROM audit_checkpoints WHERE org_id = \(bind: org.id) ORDER BY seq").all()
                    .map { (try $0.decode(column: "seq", as: Int64.self), try $0.decode(column: "tree_frontier", as: String?.self)) }
            }
            #expect(frontiers.map(\.0) == [older.sequence, newest.sequence] && frontiers.allSatisfy { $0.1 != nil })
            #expect(try await Self.prove(store, org.id, 2).verify(trustedKeys: try await Self.keys(store, org.id)).proven)
        }
    }

    /// More than three blocks of events, a purge through a checkpoint in the middle of the
    /// second: the retained events are proven against a later checkpoint from the purged
    /// prefix's frontier, the purged ones are gone, and the checkpoint row stays.
    @Test(arguments: Backend.all)
    func afterAPurgeTheRetainedEventsAreStillProven(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let organization = try await store.createOrganization().organization
            let org = organization.id
            try await Self.append(store, org, 1500)
            let through = try await Self.sign(store, org)
            try await Self.append(store, org, 1700)
            let purge = try await Self.purgeUnderOneDayRetention(store, org)
            #expect(purge.throughSequence == through.sequence)
            let later = try await Self.sign(store, org)
            #expect(later.sequence > 3072 && later.version == 2)
            let keys = try await Self.keys(store, org)
            for sequence in [through.sequence + 1, 2048, 2049, 3072, 3073, later.sequence - 1, later.sequence] {
                let proof = try await Self.prove(store, org, sequence)
                #expect(proof.verify(trustedKeys: keys).proven, "event \(sequence)")
            }
            #expect(await Self.errorCode { _ = try await Self.prove(store, org, through.sequence) } == .notFound, "purged")
            #expect(try await store.database.read(org: org) { try await $0.auditCheckpoint(at: through.sequence) } == through)
            let blocks = try await store.database.read(org: org) { t in
                try await t.sql.raw("SELECT idx FROM audit_tree_nodes WHERE org_id = \(bind: org) ORDER BY idx").all()
                    .map { try $0.decode(column: "idx", as: Int64.self) }
            }
            #expect(blocks == [1, 2], "the block inside the purged prefix went with its events")
            #expect(try await store.verify(organization).failure == nil)
        }
    }

    /// A log purged before the tree existed has lost the leaves of its start: its checkpoints
    /// stay version 1, and proofs answer that none signs a tree.
    @Test(arguments: Backend.all)
    func aLogPurgedBeforeTheTreeKeepsSigningVersionOne(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            _ = try await AuditRetentionTests.prepare(store, org.id)
            _ = try #require(try await AuditRetentionTests.purge(store, org.id))
            try await AuditTamperEvidenceTests.tamper(store, org, ["UPDATE audit_checkpoints SET tree_frontier = NULL WHERE org_id = $ORG"])
            let next = try await Self.sign(store, org.id)
            #expect(next.version == 1 && next.treeRoot == nil && next.signatureIsValid)
            #expect(try await store.verify(org).failure == nil)
        }
    }

    /// A stored tree root edited to match a rewritten log fails the signature; an edited event
    /// hash fails the path.
    @Test(arguments: Backend.all)
    func anEditedRootOrEventHashFailsTheProof(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            try await Self.append(store, org.id, 12)
            _ = try await Self.sign(store, org.id)
            let keys = try await Self.keys(store, org.id)
            #expect(try await Self.prove(store, org.id, 7).verify(trustedKeys: keys).proven)
            try await AuditTamperEvidenceTests.tamper(store, org, [
                "UPDATE audit_events SET hash = '\(String(repeating: "0", count: 64))' WHERE org_id = $ORG AND seq = 7",
            ])
            #expect(try await Self.prove(store, org.id, 7).verify(trustedKeys: keys).reason?.contains("audit path") == true)
            #expect(try await Self.prove(store, org.id, 8).verify(trustedKeys: keys).proven == false,
                    "its neighbour's path holds the edited leaf")
            try await AuditTamperEvidenceTests.tamper(store, org, [
                "UPDATE audit_checkpoints SET tree_root = '\(String(repeating: "1", count: 64))' WHERE org_id = $ORG",
            ])
            #expect(try await Self.prove(store, org.id, 3).verify(trustedKeys: keys).reason == "the checkpoint's signature does not verify")
        }
    }

    /// The server extends the tree in a read transaction and signs in a write one: events
    /// appended in between are left for the next checkpoint, a checkpoint already signed at
    /// or after the head read stands, and a head whose event changed is refused.
    @Test(arguments: Backend.all)
    func aTreeExtendedInAReadTransactionSignsTheHeadItWasExtendedTo(_ backend: Backend) async throws {
        try await TestStore.with(backend) { store in
            let org = try await store.createOrganization().organization
            let keys = store.keys
            try await Self.append(store, org.id, 7)
            _ = try await Self.sign(store, org.id)
            try await Self.append(store, org.id, 2500)
            let (head, tree) = try await Self.extendInRead(store, org.id)
            try await Self.append(store, org.id, 3)
            let signed = try #require(try await store.database.write(org: org.id) {
                try await $0.signAuditCheckpoint(at: head, tree: tree, keys: keys)
            })
            #expect(signed.sequence == head.sequence && signed.headHash == head.hash && signed.version == 2)
            let events = try await store.events(org.id)
            let leaves = events.map { MerkleTree.leafHash(AuditInclusionProof.hash($0.hash)!) }
            #expect(signed.treeRoot == MerkleTree.root(ofLeafHashes: leaves.prefix(Int(head.sequence))).hexString)
            // The blocks of 1,024 leaves it completed are stored: a proof reads them.
            let proof = try await Self.prove(store, org.id, 1500)
            let trusted = try await Self.keys(store, org.id)
            #expect(proof.checkpoint == signed && proof.verify(trustedKeys: trusted).proven)
            let next = try await Self.sign(store, org.id)
            #expect(next.sequence == head.sequence + 3, "the events appended meanwhile go into the next checkpoint")
            #expect(next.treeRoot == MerkleTree.root(ofLeafHashes: leaves[...]).hexString)

            // Signing the earlier head again, or one before the newest checkpoint, stores nothing.
            let again = try await store.database.write(org: org.id) { try await $0.signAuditCheckpoint(at: head, tree: tree, keys: keys) }
            #expect(again == next)
            #expect(try await store.database.read(org: org.id) { try await $0.auditCheckpoints() }.count == 3)

            try await Self.append(store, org.id, 2)
            let moved = try await Self.extendInRead(store, org.id)
            try await AuditTamperEvidenceTests.tamper(store, org, [
                "UPDATE audit_events SET hash = '\(String(repeating: "0", count: 64))' WHERE org_id = $ORG AND seq = \(moved.0.sequence)",
            ])
            #expect(await Self.errorCode {
                _ = try await store.database.write(org: org.id) { try await $0.signAuditCheckpoint(at: moved.0, tree: moved.1, keys: keys) }
            } == .integrity)
            #expect(try await store.database.read(org: org.id) { try await $0.auditCheckpoints() }.count == 3)
        }
    }
}
