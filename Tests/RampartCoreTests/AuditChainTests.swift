import Crypto
import Foundation
import RampartCore
import Testing

@Suite("Audit hash chain")
struct AuditChainTests {
    static let orgID = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"
    static let start = Timestamp(microseconds: 1_795_766_400_000_000)

    /// Five events sealed one after the other, as the log appends them.
    static func chain(_ count: Int = 5) -> [AuditEvent] {
        var head = ChainHead.genesis
        var events: [AuditEvent] = []
        for i in 1...count {
            let record = AuditRecord(
                action: i.isMultiple(of: 2) ? .userUpdated : .userCreated,
                actor: AuditActor(type: .user, id: "actor-\(i)", name: "Actor \(i)", ip: "192.0.2.\(i)"),
                targets: [AuditTarget(type: "user", id: "user-\(i)", name: "user\(i)@example.com")],
                requestID: "req-\(i)",
                details: AuditDetails(["n": .int(Int64(i))]))
            let event = AuditChain.seal(record, orgID: orgID, after: head, at: start.adding(seconds: Double(i)),
                                        id: "event-\(i)")
            head = ChainHead(sequence: event.sequence, hash: event.hash)
            events.append(event)
        }
        return events
    }

    static func head(of events: [AuditEvent]) -> ChainHead {
        events.last.map { ChainHead(sequence: $0.sequence, hash: $0.hash) } ?? .genesis
    }

    /// The first break the verifier reports, or nil when the chain (and head, if given) verify.
    static func firstBreak(_ events: [AuditEvent], head: ChainHead? = nil) -> AuditChainVerifier.Break? {
        var verifier = AuditChainVerifier()
        do {
            for event in events { try verifier.check(event) }
            if let head { try verifier.finish(head: head) }
            return nil
        } catch {
            return error
        }
    }

    @Test func sealedChainVerifies() {
        let events = Self.chain()
        #expect(events.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(events[0].previousHash == AuditChain.genesisHash)
        for (earlier, later) in zip(events, events.dropFirst()) { #expect(later.previousHash == earlier.hash) }
        var verifier = AuditChainVerifier()
        for event in events { #expect(throws: Never.self) { try verifier.check(event) } }
        #expect(verifier.count == 5)
        #expect(throws: Never.self) { try verifier.finish(head: Self.head(of: events)) }
    }

    @Test func emptyChainVerifiesAgainstGenesisHead() {
        #expect(Self.firstBreak([], head: .genesis) == nil)
    }

    @Test func sealWritesCanonicalTargetsAndDetails() {
        let event = Self.chain(1)[0]
        #expect(event.targetsJSON == #"[{"id":"user-1","name":"user1@example.com","type":"user"}]"#)
        #expect(event.detailsJSON == #"{"n":1}"#)
        #expect(event.occurredAt == Self.start.adding(seconds: 1))
        #expect(event.hash == AuditChain.hash(of: event))
        #expect(event.hash.count == 64)
    }

    enum Edit: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case action, outcome, details, actorName, actorID, actorIP, targets, time, requestID, eventID, storedHash
        var testDescription: String { rawValue }

        func apply(to event: inout AuditEvent) {
            switch self {
            case .action: event.action = "user.deleted"
            case .outcome: event.outcome = "failure"
            case .details: event.detailsJSON = #"{"n":99}"#
            case .actorName: event.actor.name = "Mallory"
            case .actorID: event.actor.id = "actor-999"
            case .actorIP: event.actor.ip = nil
            case .targets: event.targetsJSON = #"[{"id":"user-9","name":"user9@example.com","type":"user"}]"#
            case .time: event.occurredAt = event.occurredAt.adding(seconds: 1)
            case .requestID: event.requestID = nil
            case .eventID: event.id = "event-forged"
            case .storedHash: event.hash = String(repeating: "a", count: 64)
            }
        }
    }

    @Test("Editing one field of an event breaks the chain at that event", arguments: Edit.allCases)
    func editBreaksAtThatSequence(_ edit: Edit) throws {
        var events = Self.chain()
        edit.apply(to: &events[2])
        let failure = try #require(Self.firstBreak(events, head: Self.head(of: Self.chain())))
        #expect(failure.sequence == 3)
        #expect(failure.reason.contains("edited"))
    }

    @Test func rehashingAnEditedEventBreaksTheNextLink() throws {
        var events = Self.chain()
        events[2].action = "user.deleted"
        events[2].hash = AuditChain.hash(of: events[2])
        let failure = try #require(Self.firstBreak(events))
        #expect(failure.sequence == 4)
        #expect(failure.reason.contains("previous-hash link"))
    }

    @Test func deletingAMiddleEventReportsTheMissingSequence() throws {
        var events = Self.chain()
        events.remove(at: 2)
        let failure = try #require(Self.firstBreak(events))
        #expect(failure.sequence == 3)
        #expect(failure.reason.contains("missing"))
    }

    @Test func insertingAProperlySealedForgedEventIsDetected() throws {
        let original = Self.chain()
        let forged = AuditChain.seal(
            AuditRecord(action: .roleAssigned, actor: .system, targets: []), orgID: Self.orgID,
            after: ChainHead(sequence: 2, hash: original[1].hash), at: Self.start, id: "forged")
        #expect(forged.sequence == 3)
        var events = original
        events.insert(forged, at: 2)
        let failure = try #require(Self.firstBreak(events))
        #expect(failure.sequence == 4)
        #expect(failure.reason.contains("out of order or duplicated"))
    }

    @Test func insertingAnEventWithAForeignSequenceIsDetected() throws {
        var events = Self.chain()
        var forged = events[4]
        forged.sequence = 100
        events.insert(forged, at: 2)
        let failure = try #require(Self.firstBreak(events))
        #expect(failure.sequence == 3)
        #expect(failure.reason.contains("missing"))
    }

    @Test func swappingTwoEventsIsDetected() throws {
        var events = Self.chain()
        events.swapAt(1, 2)
        let failure = try #require(Self.firstBreak(events))
        #expect(failure.sequence == 2)
    }

    @Test func swappingContentButKeepingSequenceNumbersIsDetected() throws {
        let original = Self.chain()
        var events = original
        events[1] = original[2]; events[1].sequence = 2
        events[2] = original[1]; events[2].sequence = 3
        let failure = try #require(Self.firstBreak(events))
        #expect(failure.sequence == 2)
        #expect(failure.reason.contains("previous-hash link"))
    }

    @Test func truncatingTheTailIsDetectedByTheHead() throws {
        let events = Self.chain()
        let failure = try #require(Self.firstBreak(Array(events.prefix(3)), head: Self.head(of: events)))
        #expect(failure.sequence == 4)
        #expect(failure.reason.contains("ends at 3"))
        #expect(failure.reason.contains("records 5"))
    }

    @Test func headWithAnotherHashIsDetected() throws {
        let events = Self.chain()
        let failure = try #require(Self.firstBreak(events, head: ChainHead(sequence: 5, hash: AuditChain.genesisHash)))
        #expect(failure.sequence == 5)
    }

    // MARK: - The documented encoding, re-implemented here as the specification

    /// Every field as a 4-byte big-endian length and its UTF-8 bytes; nil is the length 0xFFFFFFFF alone.
    static func specificationHash(_ e: AuditEvent) -> String {
        var bytes: [UInt8] = []
        func field(_ value: String?) {
            guard let value else { bytes += [0xFF, 0xFF, 0xFF, 0xFF]; return }
            let utf8 = Array(value.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes += $0 }
            bytes += utf8
        }
        // Sealed encodings (2, 3) name themselves and add the sealed personal details.
        let sealed = e.encoding == 2 || e.encoding == 3
        for value in [
            "rampart.audit.v\(sealed ? e.encoding : 1)", e.orgID, String(e.sequence), e.id, String(e.occurredAt.microseconds),
            e.action, e.outcome, e.actor.type.rawValue, e.actor.id, e.actor.name, e.actor.ip, e.actor.userAgent,
            e.targetsJSON, e.requestID, e.detailsJSON,
        ] { field(value) }
        if sealed { field(e.personal) }
        field(e.previousHash)
        return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static let vectorEvent = AuditEvent(
        orgID: "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", sequence: 7, id: "0190a1b2-c3d4-7000-8000-000000000007",
        occurredAt: Timestamp(microseconds: 1_795_766_400_123_456), action: "user.updated", outcome: "success",
        actor: AuditActor(type: .user, id: "0190a1b2-c3d4-7000-8000-0000000000aa", name: "Ada Lövelace",
                          ip: "192.0.2.1", userAgent: nil),
        targetsJSON: #"[{"id":"0190a1b2-c3d4-7000-8000-0000000000bb","name":"ada@example.com","type":"user"}]"#,
        requestID: nil, detailsJSON: #"{"changes":{"displayName":{"after":"Ada","before":"Ada L"}}}"#,
        previousHash: String(repeating: "ab", count: 32), hash: "")

    /// Computed once from the encoding above (and cross-checked with Python's hashlib).
    static let vectorHash = "fbd5ddd1e65d2bf794b1c4e6d7e005309db1f988d3f8c89b4f0cb087e061ccbf"

    @Test func knownEventHashesToTheFixedVector() {
        #expect(Self.specificationHash(Self.vectorEvent) == Self.vectorHash)
        #expect(AuditChain.hash(of: Self.vectorEvent) == Self.vectorHash)
    }

    @Test func sealedEventsFollowTheDocumentedEncoding() {
        for event in Self.chain() { #expect(event.hash == Self.specificationHash(event)) }
    }

    /// Events sealed in each encoding the log writes or still reads, linked as the log links them.
    @Test(arguments: [AuditEncoding.sealed, AuditEncoding.sealedActor])
    func eventsOfEachSealedEncodingFollowTheDocumentedEncoding(_ encoding: Int) throws {
        let org = Self.vectorEvent.orgID
        let key = SubjectKey(id: Identifier.make(), key: SymmetricKey(size: .bits256))
        let sealer = AuditSealer(orgID: org, keys: [.user("ada"): key], encoding: encoding)
        let record = AuditRecord(action: .userUpdated, actor: AuditActor(type: .user, id: "ada", name: "ada@example.com",
                                                                         ip: "192.0.2.1", userAgent: "Agent"),
                                 targets: [AuditTarget(type: "user", id: "ada", name: "ada@example.com")],
                                 details: AuditDetails(["displayName": .string("Ada")]))
        let event = AuditChain.link(try #require(sealer.prepare([record]).first), orgID: org, after: .genesis, at: .now())
        #expect(event.encoding == encoding && event.personal != nil)
        #expect(event.hash == Self.specificationHash(event))
        // The same stored fields under the other encoding's name hash differently.
        var renamed = event
        renamed.encoding = encoding == AuditEncoding.sealed ? AuditEncoding.sealedActor : AuditEncoding.sealed
        #expect(AuditChain.hash(of: renamed) != event.hash)
    }

    @Test func missingAndEmptyFieldsHashDifferently() {
        var empty = Self.vectorEvent
        empty.requestID = ""
        #expect(AuditChain.hash(of: empty) != AuditChain.hash(of: Self.vectorEvent))
        var shifted = Self.vectorEvent
        shifted.actor.name = "Ada"
        shifted.actor.ip = "Lövelace192.0.2.1"
        #expect(AuditChain.hash(of: shifted) != AuditChain.hash(of: Self.vectorEvent))
    }
}
