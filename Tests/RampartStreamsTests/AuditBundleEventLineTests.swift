import Foundation
import RampartCore
@testable import RampartStreams
import Testing

/// A bundle's event lines are written by hand; they must read back as the event, and be the
/// bytes `JSONEncoder` with sorted keys wrote before.
@Suite("Audit bundle event lines")
struct AuditBundleEventLineTests {
    static let hostile = "q\"b\\s/c\u{1}\u{8}\u{C}\n\r\tZoë 🙂"

    static let events: [AuditEvent] = [
        StreamFormatTests.event(),
        StreamFormatTests.event(name: nil),
        AuditEvent(orgID: "org-1", sequence: 9_000_000_001, id: hostile, occurredAt: Timestamp(microseconds: 0),
                   action: hostile, outcome: "failure",
                   actor: AuditActor(type: .system, id: nil, name: hostile, ip: nil, userAgent: hostile),
                   targetsJSON: "[]", requestID: nil, detailsJSON: #"{"a":"\u0001"}"#, previousHash: "p", hash: "h"),
        AuditEvent(orgID: "org-1", sequence: 2, id: "e-2", occurredAt: Timestamp(microseconds: 1_764_950_400_123_456),
                   action: "user.updated", outcome: "success",
                   actor: AuditActor(type: .user, id: "u-1", name: "c2VhbGVk", ip: "c2VhbGVk", userAgent: nil),
                   targetsJSON: #"[{"id":"u-1","name":"c2VhbGVk","type":"user"}]"#, requestID: "r-2", detailsJSON: "{}",
                   previousHash: "p2", hash: "h2", encoding: 2, personal: "c2VhbGVkIHBlcnNvbmFs"),
    ]

    @Test(arguments: events)
    func aLineReadsBackAsTheEventAndIsWhatJSONEncoderWrote(event: AuditEvent) throws {
        var out: [UInt8] = []
        AuditBundleEventLine.write(event, to: &out)
        #expect(out.last == UInt8(ascii: "\n"))
        #expect(out.dropLast().contains(UInt8(ascii: "\n")) == false, "one line whatever the fields hold")
        let line = try JSONDecoder().decode(AuditBundle.Line.self, from: Data(out))
        #expect(line.event == AuditBundle.Event(event))
        #expect(line.header == nil && line.checkpoint == nil)
        #expect(line.event?.event(orgID: event.orgID) == event)
        let encoded = try AuditExport.line(AuditBundle.Line(event: AuditBundle.Event(event)))
        #expect(String(decoding: out, as: UTF8.self) == String(decoding: encoded, as: UTF8.self))
    }

    @Test func anErasedActorIsMarked() throws {
        var event = StreamFormatTests.event()
        event.actor = AuditActor(type: .user, id: "u-1", name: nil)
        event.actor.erased = true
        var out: [UInt8] = []
        AuditBundleEventLine.write(event, to: &out)
        let line = try JSONDecoder().decode(AuditBundle.Line.self, from: Data(out))
        #expect(line.event?.actor.erased == true)
        #expect(String(decoding: out, as: UTF8.self) == String(decoding: try AuditExport.line(AuditBundle.Line(event: AuditBundle.Event(event))), as: UTF8.self))
    }
}
