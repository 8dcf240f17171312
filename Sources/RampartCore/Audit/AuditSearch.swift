/// Words a person typed to find events: each must appear, in any case, somewhere in what the
/// event says about its action, its actor or its targets, as a person reads them.
///
/// Matching runs over events as opened (`AuditEventForm.readable`), never over an index: an
/// index of names, emails and addresses would keep in clear what erasing a person destroys.
/// So an erased person's name no longer matches, and a search is a bounded scan (`AuditSearch`).
public struct AuditSearchText: Sendable, Equatable {
    public static let maxLength = 200
    public static let maxWords = 10

    /// Lowercased, distinct, in the order typed.
    public let words: [String]

    /// Nil when `text` holds no words (an empty search box is no search).
    public init?(_ text: String) throws {
        guard text.count <= Self.maxLength else {
            throw RampartError(.invalidParameter, "The search text must be at most \(Self.maxLength) characters.")
        }
        var words: [String] = []
        for word in text.split(whereSeparator: \.isWhitespace).map({ $0.lowercased() }) where !words.contains(word) {
            words.append(word)
        }
        guard !words.isEmpty else { return nil }
        guard words.count <= Self.maxWords else {
            throw RampartError(.invalidParameter, "The search text must have at most \(Self.maxWords) words.")
        }
        self.words = words
    }

    public func matches(_ event: AuditEvent) -> Bool {
        let text = Self.searchable(event)
        return words.allSatisfy { text.contains($0) }
    }

    /// The action, the actor (id, label with name or email, IP address) and every target
    /// (type, id, label with its name), lowercased and joined by newlines so that no word
    /// matches across two fields.
    static func searchable(_ event: AuditEvent) -> String {
        var parts = [event.action, event.actor.label]
        if let id = event.actor.id { parts.append(id) }
        if let ip = event.actor.ip { parts.append(ip) }
        for target in AuditTarget.parse(event.targetsJSON) {
            parts += [target.type, target.id, target.label]
        }
        return parts.joined(separator: "\n").lowercased()
    }
}

/// A search's reach: how many events a request examines at most before it answers with what
/// it found and a cursor to go on, so that a search for something rare over millions of
/// events costs each request a bounded time.
public struct AuditSearch: Sendable {
    public static let defaultExamineLimit = 20_000

    public let text: AuditSearchText
    public let examineLimit: Int

    public init(text: AuditSearchText, examineLimit: Int = Self.defaultExamineLimit) {
        self.text = text
        self.examineLimit = examineLimit
    }

    /// What one request of a search did.
    public struct Progress: Sendable, Equatable, Encodable {
        /// Events read and matched against the words.
        public var examined: Int
        /// The time of the oldest event examined: everything newer that the filters keep was searched.
        public var searchedBackTo: Timestamp?
        /// No older event is left to search (false: `nextCursor` goes on).
        public var complete: Bool

        public init(examined: Int, searchedBackTo: Timestamp?, complete: Bool) {
            self.examined = examined; self.searchedBackTo = searchedBackTo; self.complete = complete
        }
    }
}
