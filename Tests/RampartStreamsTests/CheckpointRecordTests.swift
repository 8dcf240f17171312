import Crypto
import Foundation
import RampartCore
@testable import RampartStreams
import Testing

/// Signed checkpoints as log streams send them: after the event they cover, and in the JSON
/// format the very line `rampart audit verify --checkpoints` reads, signature intact.
@Suite("Checkpoint records")
struct CheckpointRecordTests {
    static func checkpoint(_ sequence: Int64) throws -> AuditCheckpoint {
        try AuditCheckpoint.sign(orgID: "org-1", head: ChainHead(sequence: sequence, hash: "h\(sequence)"),
                                 at: Timestamp(microseconds: 1_764_950_400_123_000), keyID: "k-1",
                                 key: Curve25519.Signing.PrivateKey())
    }

    static func event(_ sequence: Int64) -> AuditEvent {
        AuditEvent(orgID: "org-1", sequence: sequence, id: "e-\(sequence)", occurredAt: .now(), action: "user.created",
                   outcome: "success", actor: .system, targetsJSON: "[]", requestID: nil, detailsJSON: "{}",
                   previousHash: "", hash: "h\(sequence)")
    }

    @Test func theJSONRecordIsTheWitnessLineWithItsSignature() throws {
        let checkpoint = try Self.checkpoint(12)
        var out: [UInt8] = []
        LogStreamFormat.json.write(CheckpointRecord.event(checkpoint), orgID: "org-1", to: &out)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(object["action"] as? String == "audit.checkpoint" && object["sequence"] as? Int == 12)
        #expect(object["keyId"] as? String == "k-1" && object["signature"] as? String == checkpoint.signature)
        let decoded = try JSONDecoder().decode(AuditCheckpoint.self, from: Data(out))
        #expect(decoded == checkpoint && decoded.signatureIsValid, "the stream's record is what the witness file holds")
    }

    @Test func otherFormatsCarryTheCheckpointInTheirDetails() throws {
        let checkpoint = try Self.checkpoint(5)
        for format in [LogStreamFormat.cef, .leef, .ocsf] {
            var out: [UInt8] = []
            format.write(CheckpointRecord.event(checkpoint), orgID: "org-1", to: &out)
            let text = String(decoding: out, as: UTF8.self)
            #expect(text.contains("audit.checkpoint") && text.contains(checkpoint.signature) && text.contains("h5"), "\(format)")
        }
    }

    @Test func eachCheckpointFollowsTheEventItCovers() throws {
        let records = CheckpointRecord.merge([Self.event(4), Self.event(5), Self.event(6)],
                                             [try Self.checkpoint(6), try Self.checkpoint(3), try Self.checkpoint(4)])
        #expect(records.map { "\($0.action == CheckpointRecord.action ? "c" : "e")\($0.sequence)" }
                == ["c3", "e4", "c4", "e5", "e6", "c6"])
        #expect(CheckpointRecord.merge([], [try Self.checkpoint(9)]).map(\.sequence) == [9], "checkpoints alone are sent too")
    }
}
