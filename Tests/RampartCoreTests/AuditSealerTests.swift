import Crypto
import Foundation
import Testing

@testable import RampartCore

/// What the sealer stores for an event, checked with the opener: each value opens for its own
/// event and field only, an erased person's values are not stored, and records naming a person
/// without a key yet are left for the head lock.
@Suite("Audit sealer")
struct AuditSealerTests {
    static let org = "org-1"
    static let alice = AuditSubject.user("alice"), bob = AuditSubject.user("bob")

    static func key() -> SubjectKey { SubjectKey(id: Identifier.make(), key: SymmetricKey(size: .bits256)) }

    static func opener(_ keys: [SubjectKey]) -> AuditOpener {
        AuditOpener(keys: Dictionary(uniqueKeysWithValues: keys.map { (Substring($0.id), $0.key) }))
    }

    /// `user.updated` by Alice about `targets`, with personal details.
    static func record(about targets: [String]) -> AuditRecord {
        AuditRecord(action: .userUpdated, actor: AuditActor(type: .user, id: "alice", name: "alice@example.com",
                                                            ip: "192.0.2.1", userAgent: "Agent"),
                    targets: targets.map { AuditTarget(type: "user", id: $0, name: "\($0)@example.com") },
                    details: AuditDetails(["changes": .object(["displayName": .object([
                        "before": .string("Old Name"), "after": .string("New Name")])])]))
    }

    static func stored(_ p: PreparedAuditEvent) -> AuditEvent {
        AuditChain.link(p, orgID: org, after: .genesis, at: .now())
    }

    /// The encoding new events are written in, and the one written before it, which the log still reads.
    @Test(arguments: [AuditEncoding.sealedActor, AuditEncoding.sealed])
    func sealedValuesOpenForTheirEventAndFieldOnly(_ encoding: Int) throws {
        let aliceKey = Self.key(), bobKey = Self.key()
        let sealer = AuditSealer(orgID: Self.org, keys: [Self.alice: aliceKey, Self.bob: bobKey], encoding: encoding)
        let event = Self.stored(try #require(sealer.prepare([Self.record(about: ["bob"])]).first))
        #expect(event.encoding == encoding)
        if encoding == AuditEncoding.sealedActor {
            #expect(event.actor.name != nil && event.actor.ip == nil && event.actor.userAgent == nil,
                    "one sealed value holds the actor's name, address and user agent")
        }
        let text = [event.actor.name, event.actor.ip, event.actor.userAgent, event.targetsJSON, event.detailsJSON,
                    event.personal].compactMap { $0 }.joined()
        for secret in ["alice@example.com", "192.0.2.1", "Agent", "bob@example.com", "New Name"] {
            #expect(!text.contains(secret), "\(secret) is stored sealed")
        }
        let opened = Self.opener([aliceKey, bobKey]).open(event)
        #expect(opened.actor.name == "alice@example.com" && opened.actor.ip == "192.0.2.1" && opened.actor.userAgent == "Agent")
        #expect(AuditTarget.parse(opened.targetsJSON).first?.name == "bob@example.com")
        #expect(opened.detailsJSON.contains("New Name"))

        // The same sealed actor moved to another field, or to another event, does not open.
        var moved = event
        moved.personal = event.actor.name
        #expect(!Self.opener([aliceKey, bobKey]).open(moved).detailsJSON.contains("alice@example.com"))
        if encoding == AuditEncoding.sealed {
            moved.actor.ip = event.actor.name
            #expect(Self.opener([aliceKey, bobKey]).open(moved).actor.ip == nil)
        }
        var other = event
        other.id = Identifier.make()
        #expect(Self.opener([aliceKey, bobKey]).open(other).actor.name == nil)
    }

    /// The key ids of a batch are found by byte in the targets: those of every sealed person
    /// name, the actor's and the personal details', and no text of another target's name.
    @Test func aBatchsKeyIDsAreThoseItsSealedValuesName() throws {
        let aliceKey = Self.key(), bobKey = Self.key(), carolKey = Self.key()
        let sealer = AuditSealer(orgID: Self.org, keys: [Self.alice: aliceKey, Self.bob: bobKey, .user("carol"): carolKey])
        var record = Self.record(about: ["bob", "carol"])
        record.targets += [AuditTarget(type: "page", id: "p1", name: "Plan: \"Q3\" \\ notes"),
                           AuditTarget(type: "page", id: "p2", name: "deadbeef:not sealed"),
                           AuditTarget(type: "group", id: "g1", name: nil)]
        let events = sealer.prepare([record, Self.record(about: [])]).map(Self.stored)
        #expect(AuditOpener.keyIDs(in: events[...]) == [aliceKey.id, bobKey.id, carolKey.id])
        #expect(AuditOpener.keyIDs(in: events[1...]) == [aliceKey.id], "the actor's only")
        // What the targets parsed would name: every person target's sealed name.
        let parsed = Set(AuditTarget.parse(events[0].targetsJSON).filter(\.isPerson).compactMap {
            $0.name.flatMap(AuditPersonalData.keyID(of:)).map(String.init)
        })
        var scanned = Set<String>()
        AuditOpener.sealedNameKeyIDs(inTargets: events[0].targetsJSON, into: &scanned)
        #expect(scanned == parsed && parsed == [bobKey.id, carolKey.id], "not the page named deadbeef:…")
        let opened = Self.opener([aliceKey, bobKey, carolKey]).open(events[0])
        #expect(AuditTarget.parse(opened.targetsJSON).compactMap(\.name).contains("Plan: \"Q3\" \\ notes"))
    }

    /// The sealed actor read straight from its text gives what reading it as a tree gave.
    @Test func aSealedActorReadsAsItsTreeWould() {
        func byTree(_ json: String) -> [String?]? {
            guard case .object(let fields)? = JSONValue.parse(json) else { return nil }
            func string(_ key: String) -> String? { if case .string(let value)? = fields[key] { value } else { nil } }
            return [string("name"), string("ip"), string("userAgent")]
        }
        let written = [
            AuditActor(type: .user, id: "a", name: "Zoë \"Q\" \\ O'Neil\n", ip: "2001:db8::1", userAgent: "Mozilla/5.0 (X11)"),
            AuditActor(type: .user, id: "b", name: "b@example.com", ip: nil, userAgent: nil),
            AuditActor(type: .user, id: "c", name: nil, ip: "192.0.2.1", userAgent: "😀\u{7}"),
        ].compactMap(SealedActor.json(of:))
        let odd = ["{}", " { \"ip\" : \"1\" } ", #"{"name":1,"ip":null}"#, #"{"other":"x","name":"a"}"#,
                   #"{"other":{"x":[1,2]},"userAgent":"u"}"#, #"{"name":"a""#, "[]", #""x""#, #"{"name":"a"}x"#, "",
                   #"{name:"a"}"#, #"{"name":"a",}"#]
        for json in written + odd {
            let read = SealedActor(json: json).map { [$0.name, $0.ip, $0.userAgent] }
            #expect(read == byTree(json), "\(json)")
        }
        #expect(SealedActor(json: written[0])?.name == "Zoë \"Q\" \\ O'Neil\n")
    }

    @Test func personalDetailsFollowTheFirstPersonTargetEvenWhenErased() throws {
        let bobKey = Self.key()
        // Carol (the first person named) is erased: no key. Bob still has his.
        let sealer = AuditSealer(orgID: Self.org, keys: [Self.bob: bobKey])
        let event = Self.stored(try #require(sealer.prepare([Self.record(about: ["carol", "bob"])]).first))
        #expect(event.personal == nil, "Carol's details are not sealed under Bob's key")
        #expect(!event.detailsJSON.contains("New Name"))
        let opened = Self.opener([bobKey]).open(event)
        let names = Dictionary(uniqueKeysWithValues: AuditTarget.parse(opened.targetsJSON).map { ($0.id, $0.name) })
        #expect(names["carol"] == .some(nil) && names["bob"] == "bob@example.com")
        #expect(event.actor.name == nil && event.actor.ip == nil, "Alice has no key here either: her fields are not stored")
    }

    @Test func anActorWhoseKeyIsGoneReadsAsErasedInEitherEncoding() throws {
        for encoding in [AuditEncoding.sealedActor, AuditEncoding.sealed] {
            let sealer = AuditSealer(orgID: Self.org, keys: [Self.alice: Self.key()], encoding: encoding)
            let event = Self.stored(try #require(sealer.prepare([Self.record(about: [])]).first))
            let opened = Self.opener([]).open(event)
            #expect(opened.actor.erased && opened.actor.name == nil && opened.actor.ip == nil && opened.actor.userAgent == nil)
            #expect(opened.actor.id == "alice", "the id stays, in clear as in every encoding")
        }
    }

    @Test func recordsNamingAPendingSubjectAreLeftForTheHeadLock() {
        let sealer = AuditSealer(orgID: Self.org, keys: [Self.alice: Self.key()])
        let prepared = sealer.prepare([Self.record(about: []), Self.record(about: ["bob"]), Self.record(about: [])],
                                      leavingOut: [Self.bob])
        #expect(prepared.map { $0 == nil } == [false, true, false])
        #expect(Set(prepared.compactMap { $0?.id }).count == 2, "each event its own id")
    }
}
