import Foundation

/// What a new password must satisfy, after NIST SP 800-63B §3.1.1.2: a minimum length
/// (longer when the password is the only factor), a generous maximum with no truncation,
/// NFKC normalisation, no composition rules, and refusal of blocklisted passwords and of
/// words taken from the account's own context.
public struct PasswordPolicy: Sendable, Equatable, Codable {
    /// Minimum length, in Unicode code points, when a second factor is required.
    public var minimumLength: Int
    /// Minimum length when the password is the only factor (800-63B rev. 4 asks for 15).
    public var minimumLengthSingleFactor: Int
    /// Longer passwords are refused, never cut. 800-63B asks that at least 64 be accepted.
    public var maximumLength: Int

    public static let standard = PasswordPolicy(minimumLength: 12, minimumLengthSingleFactor: 15, maximumLength: 256)
    /// The most code points any policy may allow, which bounds the hashing work one request can ask for.
    public static let absoluteMaximumLength = 1024
    /// Context words shorter than this are too common inside unrelated passwords to refuse on.
    static let minimumContextWordLength = 4

    public init(minimumLength: Int, minimumLengthSingleFactor: Int, maximumLength: Int) {
        self.minimumLength = minimumLength
        self.minimumLengthSingleFactor = minimumLengthSingleFactor
        self.maximumLength = maximumLength
    }

    /// Problems with the policy itself; empty when it may be saved.
    public var problems: [String] {
        var out = [String]()
        if minimumLength < 8 { out.append("minimumLength must be at least 8") }
        if minimumLengthSingleFactor < minimumLength { out.append("minimumLengthSingleFactor must be at least minimumLength") }
        if maximumLength < 64 { out.append("maximumLength must be at least 64") }
        if maximumLength > Self.absoluteMaximumLength { out.append("maximumLength must be at most \(Self.absoluteMaximumLength)") }
        if maximumLength < minimumLengthSingleFactor { out.append("maximumLength must be at least minimumLengthSingleFactor") }
        return out
    }

    /// The form a password is hashed in: NFKC, so that the same characters typed on
    /// different keyboards or platforms give the same hash (800-63B §5.1.1.2).
    public static func normalize(_ password: String) -> String {
        password.precomposedStringWithCompatibilityMapping
    }

    /// Judges a new password. The verdict is data: the caller shows every reason at once.
    public func evaluate(_ password: String, context: PasswordContext, passwordIsOnlyFactor: Bool,
                         blocklist: PasswordBlocklist) -> PasswordVerdict {
        let normalized = Self.normalize(password)
        let length = normalized.unicodeScalars.count
        var refusals = [PasswordRefusal]()
        let minimum = passwordIsOnlyFactor ? minimumLengthSingleFactor : minimumLength
        if length < minimum { refusals.append(.tooShort(minimum: minimum)) }
        if length > maximumLength { refusals.append(.tooLong(maximum: maximumLength)) }
        // Long inputs are refused before any further work on them.
        guard length <= maximumLength else { return .refused(refusals) }
        if blocklist.contains(normalized) { refusals.append(.blocklisted) }
        if let word = context.word(containedIn: normalized) { refusals.append(.containsContextWord(word.kind)) }
        return refusals.isEmpty ? .acceptable(normalized: normalized) : .refused(refusals)
    }
}

/// The words a person's password must not contain: their organisation's name, their own email and name.
public struct PasswordContext: Sendable {
    public enum Kind: String, Sendable, Equatable {
        case organizationName = "organization_name", email, name
    }

    public struct Word: Sendable, Equatable {
        public let kind: Kind
        public let text: String
    }

    public let words: [Word]

    public init(organizationName: String, email: String, displayName: String?) {
        var words = [Word]()
        func add(_ kind: Kind, _ text: String) {
            let folded = PasswordBlocklist.fold(text)
            guard folded.unicodeScalars.count >= PasswordPolicy.minimumContextWordLength else { return }
            words.append(Word(kind: kind, text: folded))
        }
        add(.organizationName, organizationName)
        for part in Self.parts(of: organizationName) { add(.organizationName, part) }
        add(.email, email)
        let local = email.split(separator: "@").first.map(String.init) ?? email
        add(.email, local)
        for part in Self.parts(of: local) { add(.email, part) }
        if let displayName {
            add(.name, displayName)
            for part in Self.parts(of: displayName) { add(.name, part) }
        }
        self.words = words
    }

    private static func parts(of text: String) -> [String] {
        text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    }

    func word(containedIn password: String) -> Word? {
        let folded = PasswordBlocklist.fold(password)
        return words.first { folded.contains($0.text) }
    }
}

public enum PasswordVerdict: Sendable, Equatable {
    /// The password may be set; `normalized` is what gets hashed.
    case acceptable(normalized: String)
    case refused([PasswordRefusal])
}

public enum PasswordRefusal: Sendable, Equatable, CustomStringConvertible {
    case tooShort(minimum: Int)
    case tooLong(maximum: Int)
    case blocklisted
    case containsContextWord(PasswordContext.Kind)

    /// A stable code for API clients.
    public var code: String {
        switch self {
        case .tooShort: "password_too_short"
        case .tooLong: "password_too_long"
        case .blocklisted: "password_blocklisted"
        case .containsContextWord: "password_contains_context_word"
        }
    }

    /// Says why, and never repeats the password or the account's data.
    public var description: String {
        switch self {
        case .tooShort(let minimum): "must be at least \(minimum) characters"
        case .tooLong(let maximum): "must be at most \(maximum) characters"
        case .blocklisted: "is too common: it appears in lists of breached passwords"
        case .containsContextWord(.organizationName): "must not contain the organisation's name"
        case .containsContextWord(.email): "must not contain your email address"
        case .containsContextWord(.name): "must not contain your name"
        }
    }
}
