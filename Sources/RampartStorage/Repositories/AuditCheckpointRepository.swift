import Crypto
import Foundation
import RampartCore
import SQLKit

/// Signed checkpoints of the organisation's audit log. Making one writes no audit event: the
/// event would move the head it signs. The organisation's Ed25519 key is made when its first
/// checkpoint is, like its first OAuth signing key, and writes no event either.
extension Tenant {
    /// The checkpoint of the current head, signed now unless it already was; nil while the
    /// log is empty. It signs the Merkle tree's root too (version 2) once the tree can be
    /// built (`auditTreeExtension`), and keeps the tree's frontier for the next one.
    public func signAuditCheckpoint(keys: KeyService) async throws -> AuditCheckpoint? {
        let head = try await auditHead()
        guard head.sequence > 0 else { return nil }
        if let latest = try await latestAuditCheckpoint(), latest.sequence >= head.sequence { return latest }
        return try await signAuditCheckpoint(at: head, tree: try await auditTreeExtension(to: head.sequence), keys: keys)
    }

    /// Signs `head`, read earlier, with `tree` extended to it in a read transaction
    /// (`auditTreeExtension`), so that the writer's transaction only stores them. A checkpoint
    /// already signed at or after `head` is returned instead: checkpoints only move forward,
    /// and two nodes signing the same head store one (the first), and both get it back.
    public func signAuditCheckpoint(at head: ChainHead, tree: AuditTreeExtension?, keys: KeyService) async throws
        -> AuditCheckpoint?
    {
        if let latest = try await latestAuditCheckpoint(), latest.sequence >= head.sequence { return latest }
        guard try await rows(SQLQueryString("""
            SELECT hash FROM audit_events WHERE org_id = \(bind: orgID) AND seq = \(bind: head.sequence)
            """), { try $0.text(0) }).first == head.hash else {
            throw RampartError(.integrity, "Event \(head.sequence) no longer has the hash the checkpoint was to sign.")
        }
        if let tree { try await store(tree) }
        let (keyID, key) = try await auditCheckpointKey(keys: keys)
        let checkpoint = try AuditCheckpoint.sign(orgID: orgID, head: head, treeRoot: tree?.tree.root.hexString, at: clock(),
                                                  keyID: keyID, key: key)
        try await sql.raw("""
            INSERT INTO audit_checkpoints (org_id, seq, head_hash, signed_at, key_id, signature, tree_root, tree_frontier)
            VALUES (\(bind: orgID), \(bind: checkpoint.sequence), \(bind: checkpoint.headHash),
                    \(bind: checkpoint.signedAt.microseconds), \(bind: keyID), \(bind: checkpoint.signature),
                    \(bind: checkpoint.treeRoot), \(bind: tree.map { Self.frontierText($0.tree) }))
            ON CONFLICT (org_id, seq) DO NOTHING
            """).run()
        return try await auditCheckpoints(limit: 1).first
    }

    public func latestAuditCheckpoint() async throws -> AuditCheckpoint? {
        try await auditCheckpoints(limit: 1).first
    }

    /// The checkpoint of event `sequence`, if one was signed.
    public func auditCheckpoint(at sequence: Int64) async throws -> AuditCheckpoint? {
        try await auditCheckpoints(limit: 1, at: sequence).first
    }

    /// The checkpoints of sequence numbers after `after` and up to `through`, oldest first: what
    /// a log stream sends with the events they cover.
    public func auditCheckpoints(after: Int64, through: Int64) async throws -> [AuditCheckpoint] {
        guard through > after else { return [] }
        return try await rows("""
            SELECT c.seq, c.head_hash, c.signed_at, c.key_id, c.signature, k.public_key, c.tree_root
            FROM audit_checkpoints c JOIN audit_checkpoint_keys k ON k.org_id = c.org_id AND k.key_id = c.key_id
            WHERE c.org_id = \(bind: orgID) AND c.seq > \(bind: after) AND c.seq <= \(bind: through) ORDER BY c.seq
            """, Self.decodeCheckpoint(orgID))
    }

    /// Newest first.
    /// `signingTree`: only version 2 checkpoints, which sign a tree root.
    public func auditCheckpoints(limit: Int = 100, unwitnessedOnly: Bool = false, at sequence: Int64? = nil,
                                 signingTree: Bool = false) async throws -> [AuditCheckpoint] {
        var query = SQLQueryString("""
            SELECT c.seq, c.head_hash, c.signed_at, c.key_id, c.signature, k.public_key, c.tree_root
            FROM audit_checkpoints c JOIN audit_checkpoint_keys k ON k.org_id = c.org_id AND k.key_id = c.key_id
            WHERE c.org_id = \(bind: orgID)
            """)
        if unwitnessedOnly { query = query + " AND c.witnessed_at IS NULL" }
        if signingTree { query = query + " AND c.tree_root IS NOT NULL" }
        if let sequence { query = query + " AND c.seq = " + "\(bind: sequence)" }
        return try await rows(query + " ORDER BY c.seq DESC LIMIT " + "\(bind: Int64(limit))", Self.decodeCheckpoint(orgID))
    }

    /// Reads `seq, head_hash, signed_at, key_id, signature, public_key, tree_root`, in that order.
    static func decodeCheckpoint(_ orgID: String) -> @Sendable (any ColumnReader) throws -> AuditCheckpoint {
        { row in
            AuditCheckpoint(orgID: orgID, sequence: try row.integer(0), headHash: try row.text(1),
                            treeRoot: try row.optionalText(6), signedAt: try row.timestamp(2), keyID: try row.text(3),
                            publicKey: try row.text(5), signature: try row.text(4))
        }
    }

    /// The public keys that signed this organisation's checkpoints, by key id.
    public func auditCheckpointPublicKeys() async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await rows("""
            SELECT key_id, public_key FROM audit_checkpoint_keys WHERE org_id = ?1
            """, [orgID], { (try $0.text(0), try $0.text(1)) }))
    }

    public func markAuditCheckpointWitnessed(_ sequence: Int64) async throws {
        try await sql.raw("""
            UPDATE audit_checkpoints SET witnessed_at = \(bind: clock().microseconds)
            WHERE org_id = \(bind: orgID) AND seq = \(bind: sequence)
            """).run()
    }

    private func auditCheckpointKey(keys: KeyService) async throws -> (String, Curve25519.Signing.PrivateKey) {
        if let row = try await row("""
            SELECT key_id, sealed_private_key FROM audit_checkpoint_keys WHERE org_id = ?1 ORDER BY created_at DESC LIMIT 1
            """, [orgID], { (try $0.text(0), try $0.text(1)) }) {
            let raw = try await keys.open(row.1, in: self, table: "audit_checkpoint_keys", row: row.0, column: "sealed_private_key")
            return (row.0, try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
        }
        let key = Curve25519.Signing.PrivateKey()
        let keyID = Identifier.make()
        let sealed = try await keys.seal(key.rawRepresentation, in: self, table: "audit_checkpoint_keys", row: keyID,
                                         column: "sealed_private_key")
        try await sql.raw("""
            INSERT INTO audit_checkpoint_keys (org_id, key_id, public_key, sealed_private_key, created_at)
            VALUES (\(bind: orgID), \(bind: keyID), \(bind: key.publicKey.rawRepresentation.base64URLEncoded), \(bind: sealed),
                    \(bind: clock().microseconds))
            """).run()
        return (keyID, key)
    }
}
