import Crypto
import Foundation
import RampartCore
import Testing

/// A bundle verifies on its own: events from the first on, each hash and link, and signed
/// checkpoints whose heads it must still hold; what is cut, edited or signed by another fails.
@Suite("Audit bundle")
struct AuditBundleTests {
    static let key = Curve25519.Signing.PrivateKey()

    static func bundle(_ events: [AuditEvent], checkpointAt: Int? = 4, key: Curve25519.Signing.PrivateKey = key) throws
        -> [AuditBundle.Line]
    {
        let checkpoints = try checkpointAt.map { at in
            [try AuditCheckpoint.sign(orgID: AuditChainTests.orgID, head: AuditChainTests.head(of: Array(events.prefix(at))),
                                      at: AuditChainTests.start, keyID: "k1", key: key)]
        } ?? []
        return [AuditBundle.Line(header: AuditBundle.Header(orgId: AuditChainTests.orgID, exportedAt: AuditChainTests.start,
                                                            events: Int64(events.count), checkpoints: checkpoints.count))]
            + events.map { AuditBundle.Line(event: AuditBundle.Event($0)) }
            + checkpoints.map { AuditBundle.Line(checkpoint: $0) }
    }

    static func failure(_ lines: [AuditBundle.Line], trusted: Set<String>? = nil) -> AuditChainVerifier.Break? {
        do { _ = try AuditBundle.verify(lines, trustedKeys: trusted); return nil } catch { return error }
    }

    @Test func anIntactBundleVerifiesThroughItsJSONLines() throws {
        let lines = try Self.bundle(AuditChainTests.chain())
        let encoded = try lines.map { try JSONEncoder().encode($0) }
        let decoded = try encoded.map { try JSONDecoder().decode(AuditBundle.Line.self, from: $0) }
        let report = try AuditBundle.verify(decoded, trustedKeys: [Self.key.publicKey.rawRepresentation.base64URLEncoded])
        #expect(report.events == 5 && report.checkpoints == 1 && report.signedThrough == 4)
    }

    @Test func aCutEditedOrForeignBundleFails() throws {
        let events = AuditChainTests.chain()
        // The tail cut after the checkpoint's event would pass the chain alone; the checkpoint shows it.
        let cut = try Self.bundle(Array(events.prefix(3)), checkpointAt: nil)
            + [AuditBundle.Line(checkpoint: try Self.bundle(events)[6].checkpoint)]
        var header = try #require(cut[0].header)
        header = AuditBundle.Header(orgId: header.orgId, exportedAt: header.exportedAt, events: 3, checkpoints: 1)
        #expect(Self.failure([AuditBundle.Line(header: header)] + cut.dropFirst())?.reason.contains("tail was cut") == true)

        var edited = events
        edited[1].action = "user.deleted"
        #expect(Self.failure(try Self.bundle(edited))?.sequence == 2)

        let foreign = try Self.bundle(events, key: Curve25519.Signing.PrivateKey())
        #expect(Self.failure(foreign, trusted: [Self.key.publicKey.rawRepresentation.base64URLEncoded])?.reason
            .contains("not trusted") == true)
        #expect(Self.failure(Array(try Self.bundle(events).dropFirst()))?.reason.contains("header") == true)
        #expect(Self.failure(try Self.bundle(events).dropLast())?.reason.contains("counts") == true, "a dropped line is seen")
    }
}
