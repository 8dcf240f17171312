import Crypto
import Foundation

/// A signed statement that an organisation's log had event `sequence` with hash `headHash`.
///
/// The chain shows that no event was edited, but whoever can write the database can cut the
/// tail and rewrite the stored head to match. Checkpoints are also appended to a witness
/// outside the database (a file or a webhook): checked against them later, the log must
/// still hold every checkpointed event with the same hash. The Ed25519 signature, by a key of
/// the organisation's, shows that a checkpoint was made by Rampart and not written by someone
/// wishing to discredit the log.
///
/// Version 2 (`rampart-audit-checkpoint/2`) also signs `treeRoot`, the root of the Merkle tree
/// of events 1 to `sequence` (`MerkleTree`), against which one event's inclusion can be
/// proven. Checkpoints signed before the tree existed stay version 1 and verify as they did:
/// the version follows from whether `treeRoot` is there, and the version line is signed, so
/// adding or dropping the root breaks the signature.
public struct AuditCheckpoint: Codable, Sendable, Equatable {
    public let orgID: String
    public let sequence: Int64
    public let headHash: String
    /// The Merkle tree root (hex) of events 1 to `sequence`; nil in a version 1 checkpoint.
    public let treeRoot: String?
    public let signedAt: Timestamp
    public let keyID: String
    /// The raw Ed25519 public key, base64url: the checkpoint can be checked on its own.
    public let publicKey: String
    public let signature: String

    enum CodingKeys: String, CodingKey {
        case orgID = "orgId", sequence, headHash, treeRoot, signedAt, keyID = "keyId", publicKey, signature
    }

    public init(orgID: String, sequence: Int64, headHash: String, treeRoot: String? = nil, signedAt: Timestamp, keyID: String,
                publicKey: String, signature: String) {
        self.orgID = orgID; self.sequence = sequence; self.headHash = headHash; self.treeRoot = treeRoot; self.signedAt = signedAt
        self.keyID = keyID; self.publicKey = publicKey; self.signature = signature
    }

    /// Signs the head, and the tree root when there is one, with the organisation's checkpoint key.
    public static func sign(orgID: String, head: ChainHead, treeRoot: String? = nil, at time: Timestamp, keyID: String,
                            key: Curve25519.Signing.PrivateKey) throws -> AuditCheckpoint {
        let message = signedBytes(orgID: orgID, sequence: head.sequence, headHash: head.hash, treeRoot: treeRoot, signedAt: time,
                                  keyID: keyID)
        return AuditCheckpoint(orgID: orgID, sequence: head.sequence, headHash: head.hash, treeRoot: treeRoot, signedAt: time,
                               keyID: keyID, publicKey: key.publicKey.rawRepresentation.base64URLEncoded,
                               signature: try key.signature(for: message).base64URLEncoded)
    }

    /// Whether the signature is the public key's, over exactly these fields.
    public var signatureIsValid: Bool {
        guard let raw = Data(base64URLEncoded: publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
              let signature = Data(base64URLEncoded: signature) else { return false }
        let message = Self.signedBytes(orgID: orgID, sequence: sequence, headHash: headHash, treeRoot: treeRoot,
                                       signedAt: signedAt, keyID: keyID)
        return key.isValidSignature(signature, for: message)
    }

    /// One line per field after a version line; none of the fields can hold a line break. The
    /// time is signed as written (RFC 3339, milliseconds), so a checkpoint read back from its
    /// JSON checks the same. Version 2 adds the tree root after the head hash.
    static func signedBytes(orgID: String, sequence: Int64, headHash: String, treeRoot: String?, signedAt: Timestamp,
                            keyID: String) -> Data {
        guard let treeRoot else {
            return Data("rampart-audit-checkpoint/1\n\(orgID)\n\(sequence)\n\(headHash)\n\(signedAt.rfc3339)\n\(keyID)\n".utf8)
        }
        return Data("rampart-audit-checkpoint/2\n\(orgID)\n\(sequence)\n\(headHash)\n\(treeRoot)\n\(signedAt.rfc3339)\n\(keyID)\n"
            .utf8)
    }

    /// 1, or 2 when the checkpoint signs a tree root.
    public var version: Int { treeRoot == nil ? 1 : 2 }

    public var head: ChainHead { ChainHead(sequence: sequence, hash: headHash) }
}
