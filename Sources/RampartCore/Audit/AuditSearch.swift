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
    /// The words' UTF-8 bytes: matching compares bytes, which costs a fraction of `String`'s
    /// Unicode-aware search over the tens of thousands of events one request examines.
    private let patterns: [[UInt8]]

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
        patterns = words.map { Array($0.utf8) }
    }

    /// The text of a request's field named `field`, with errors that name it as the API's other
    /// fields do (`invalid_field`); nil when it holds no words.
    public static func field(_ text: String, named field: String = "q") throws -> AuditSearchText? {
        do { return try AuditSearchText(text) } catch let error as RampartError {
            throw RampartError(.invalidField, "Field '\(field)': " + error.message, field: field)
        }
    }

    /// The words joined by single spaces: what a job or a page shows, and parses back as the same search.
    public var text: String { words.joined(separator: " ") }

    public static func == (a: Self, b: Self) -> Bool { a.words == b.words }

    public func matches(_ event: AuditEvent) -> Bool {
        let text = Self.searchable(event)
        return patterns.allSatisfy { Self.contains(text, $0) }
    }

    /// The action, the actor (id, label with name or email, IP address) and every target
    /// (type, id, label with its name), lowercased, as UTF-8 joined by newlines so that no
    /// word matches across two fields.
    static func searchable(_ event: AuditEvent) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(256)
        func add(_ field: String) {
            // ASCII, the common case, is lowercased byte by byte; anything else as Unicode says.
            if field.utf8.allSatisfy({ $0 < 0x80 }) {
                text += field.utf8.lazy.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
            } else {
                text += field.lowercased().utf8
            }
            text.append(0x0A)
        }
        add(event.action)
        add(event.actor.label)
        if let id = event.actor.id { add(id) }
        if let ip = event.actor.ip { add(ip) }
        for target in AuditTarget.parse(event.targetsJSON) {
            add(target.type)
            add(target.id)
            add(target.label)
        }
        return text
    }

    static func contains(_ text: [UInt8], _ pattern: [UInt8]) -> Bool {
        guard let first = pattern.first, pattern.count <= text.count else { return pattern.isEmpty }
        var i = 0
        let last = text.count - pattern.count
        while i <= last {
            if text[i] == first {
                var j = 1
                while j < pattern.count, text[i + j] == pattern[j] { j += 1 }
                if j == pattern.count { return true }
            }
            i += 1
        }
        return false
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
