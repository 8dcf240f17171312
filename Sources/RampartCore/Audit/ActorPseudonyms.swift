import Crypto

/// The actors of a stream whose `personalData` is `pseudonymous`: each actor's id and name
/// become one pseudonym, `psn_` and the first 32 hex digits of HMAC-SHA256 of the actor's id
/// (or, for a product's user with no id, of its email or name) under a key of the
/// organisation's, and its IP address and user agent are left out. The same person is the
/// same pseudonym in every stream of the organisation, so a SIEM can still follow them; other
/// organisations' pseudonyms for them differ, and without the key none can be turned back
/// into the person. The system actor carries no personal data and stays as it is.
public struct ActorPseudonyms: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    public func pseudonym(of actor: AuditActor) -> String? {
        guard actor.type != .system, let subject = actor.id ?? actor.name else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Array(subject.utf8), using: key)
        return "psn_" + Array(mac).prefix(16).hexString
    }

    /// The event with its actor pseudonymous; the chain's hashes are those of the event as
    /// logged, which a record without the personal data no longer matches, by design.
    public func apply(_ event: AuditEvent) -> AuditEvent {
        guard event.actor.type != .system else { return event }
        var event = event
        let pseudonym = pseudonym(of: event.actor)
        event.actor = AuditActor(type: event.actor.type, id: pseudonym, name: pseudonym, ip: nil, userAgent: nil)
        return event
    }
}
