import Crypto
import Foundation
import RampartCore
import Testing

/// Pseudonymous actors of log streams: one stable pseudonym per person under one key, another
/// under another organisation's key, nothing of the person left, the system actor untouched.
@Suite("Actor pseudonyms")
struct ActorPseudonymsTests {
    static func event(_ actor: AuditActor) -> AuditEvent {
        AuditEvent(orgID: "org", sequence: 3, id: "e-1", occurredAt: .now(), action: "product.content_viewed", outcome: "success",
                   actor: actor, targetsJSON: "[]", requestID: nil, detailsJSON: "{}", previousHash: "p", hash: "h")
    }

    @Test func samePersonSamePseudonymOtherKeyAnother() throws {
        let key = SymmetricKey(size: .bits256)
        let pseudonyms = ActorPseudonyms(key: key)
        let ada = AuditActor(type: .user, id: "u-1", name: "ada@example.com", ip: "198.51.100.7", userAgent: "Firefox")
        let first = pseudonyms.apply(Self.event(ada))
        let again = pseudonyms.apply(Self.event(AuditActor(type: .user, id: "u-1", name: "ada@other.example", ip: "203.0.113.9")))
        let pseudonym = try #require(first.actor.id)
        #expect(pseudonym.hasPrefix("psn_") && pseudonym.count == 36)
        #expect(first.actor == AuditActor(type: .user, id: pseudonym, name: pseudonym, ip: nil, userAgent: nil))
        #expect(again.actor.id == pseudonym, "the pseudonym follows the actor id")
        let mac = HMAC<SHA256>.authenticationCode(for: Array("u-1".utf8), using: key)
        #expect(pseudonym == "psn_" + Array(mac).prefix(16).map { String(format: "%02x", $0) }.joined())
        #expect(ActorPseudonyms(key: SymmetricKey(size: .bits256)).apply(Self.event(ada)).actor.id != pseudonym,
                "another organisation's key gives another pseudonym")
        #expect(pseudonyms.apply(Self.event(AuditActor(type: .user, id: "u-2", name: "bob@example.com"))).actor.id != pseudonym)
        // Everything but the actor is the event as logged.
        #expect(first.sequence == 3 && first.id == "e-1" && first.hash == "h")
    }

    @Test func aProductUserWithoutAnIdIsKnownByTheirEmailAndTheSystemStays() {
        let pseudonyms = ActorPseudonyms(key: SymmetricKey(size: .bits256))
        let byEmail = pseudonyms.apply(Self.event(AuditActor(type: .user, id: nil, name: "ada@example.com", ip: "198.51.100.7")))
        #expect(byEmail.actor.id?.hasPrefix("psn_") == true && byEmail.actor.name == byEmail.actor.id && byEmail.actor.ip == nil)
        #expect(pseudonyms.apply(Self.event(.system)).actor == .system)
    }
}
