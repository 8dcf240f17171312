import RampartCore

/// A parsed filter (RFC 7644 §3.4.2.2).
public indirect enum SCIMFilter: Sendable, Equatable {
    public enum Operator: String, Sendable, CaseIterable {
        case eq, ne, co, sw, ew, gt, ge, lt, le
    }

    /// A comparison value: JSON's literals, as the grammar allows them.
    public enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case decimal(Double)
        case bool(Bool)
        case null
    }

    case compare(SCIMAttributePath, Operator, Value)
    case present(SCIMAttributePath)
    case and(SCIMFilter, SCIMFilter)
    case or(SCIMFilter, SCIMFilter)
    case not(SCIMFilter)
    /// `emails[type eq "work" and primary eq true]`: the inner filter applies to each element.
    case valuePath(SCIMAttributePath, SCIMFilter)

    /// When the filter is exactly `<attribute> eq "<string>"` (any letter case in the name),
    /// the attribute and value: the lookups identity providers make before every create, which
    /// storage answers from an index.
    public var equalityLookup: (path: SCIMAttributePath, value: String)? {
        if case .compare(let path, .eq, .string(let value)) = self, path.subAttribute == nil { return (path, value) }
        return nil
    }
}

/// Parses the filter grammar of RFC 7644 §3.4.2.2 (also the value filters of PATCH paths).
/// Precedence: `not` binds tightest, then `and`, then `or`. Nesting is bounded so that a hostile
/// filter cannot exhaust the stack; the length is bounded so that parsing stays cheap.
public struct SCIMFilterParser: Sendable {
    public static let maximumLength = 4096
    public static let maximumDepth = 32

    private var tokens: [Token]
    private var position = 0
    private var depth = 0

    public static func parse(_ text: String) throws(SCIMError) -> SCIMFilter {
        guard text.utf8.count <= maximumLength else {
            throw .invalidFilter("The filter is longer than \(maximumLength) bytes.")
        }
        var parser = SCIMFilterParser(tokens: try Tokenizer.tokens(text))
        let filter = try parser.parseOr()
        guard parser.position == parser.tokens.count else {
            throw .invalidFilter("Unexpected '\(parser.tokens[parser.position].text)' in the filter.")
        }
        return filter
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var current: Token? { position < tokens.count ? tokens[position] : nil }

    private mutating func enter() throws(SCIMError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw .invalidFilter("The filter nests deeper than \(Self.maximumDepth) levels.")
        }
    }

    private mutating func parseOr() throws(SCIMError) -> SCIMFilter {
        var left = try parseAnd()
        while let token = current, token.isKeyword("or") {
            position += 1
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws(SCIMError) -> SCIMFilter {
        var left = try parseUnary()
        while let token = current, token.isKeyword("and") {
            position += 1
            left = .and(left, try parseUnary())
        }
        return left
    }

    private mutating func parseUnary() throws(SCIMError) -> SCIMFilter {
        guard let token = current else { throw .invalidFilter("The filter ends where an expression was expected.") }
        try enter()
        defer { depth -= 1 }
        if token.isKeyword("not"), position + 1 < tokens.count, tokens[position + 1].kind == .openParen {
            position += 1
            return .not(try parseParenthesised())
        }
        if token.kind == .openParen { return try parseParenthesised() }
        guard token.kind == .word else { throw .invalidFilter("Unexpected '\(token.text)' in the filter.") }
        let path = try Self.path(token.text)
        position += 1
        if let open = current, open.kind == .openBracket {
            guard path.subAttribute == nil else { throw .invalidFilter("A value filter follows an attribute, not a sub-attribute.") }
            position += 1
            let inner = try parseOr()
            guard let close = current, close.kind == .closeBracket else { throw .invalidFilter("A '[' is not closed.") }
            position += 1
            if let sub = current, sub.kind == .word, sub.text.hasPrefix(".") {
                throw .invalidFilter("'\(sub.text)' cannot follow a value filter inside a filter.")
            }
            return .valuePath(path, inner)
        }
        guard let opToken = current, opToken.kind == .word else {
            throw .invalidFilter("An operator is missing after '\(path)'.")
        }
        position += 1
        let op = opToken.text.lowercased()
        if op == "pr" { return .present(path) }
        guard let comparison = SCIMFilter.Operator(rawValue: op) else {
            throw .invalidFilter("'\(opToken.text)' is not a filter operator.")
        }
        guard let valueToken = current else { throw .invalidFilter("A value is missing after '\(opToken.text)'.") }
        position += 1
        return .compare(path, comparison, try Self.value(valueToken))
    }

    private mutating func parseParenthesised() throws(SCIMError) -> SCIMFilter {
        position += 1
        let inner = try parseOr()
        guard let close = current, close.kind == .closeParen else { throw .invalidFilter("A '(' is not closed.") }
        position += 1
        return inner
    }

    static func path(_ text: String) throws(SCIMError) -> SCIMAttributePath {
        do { return try SCIMAttributePath.parse(text) } catch {
            throw .invalidFilter("'\(text)' is not an attribute path.")
        }
    }

    static func value(_ token: Token) throws(SCIMError) -> SCIMFilter.Value {
        switch token.kind {
        case .string: return .string(token.text)
        case .word:
            switch token.text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default:
                if let i = Int64(token.text) { return .integer(i) }
                if token.text.first.map({ $0.isNumber || $0 == "-" }) == true, let d = Double(token.text), d.isFinite {
                    return .decimal(d)
                }
                throw .invalidFilter("'\(token.text)' is not a value; strings are quoted.")
            }
        default: throw .invalidFilter("Unexpected '\(token.text)' where a value was expected.")
        }
    }
}

struct Token: Sendable {
    enum Kind: Sendable { case word, string, openParen, closeParen, openBracket, closeBracket }
    let kind: Kind
    let text: String

    func isKeyword(_ keyword: String) -> Bool { kind == .word && text.lowercased() == keyword }
}

enum Tokenizer {
    static func tokens(_ text: String) throws(SCIMError) -> [Token] {
        var tokens: [Token] = []
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            switch c {
            case " ", "\t", "\n", "\r": i += 1
            case "(": tokens.append(Token(kind: .openParen, text: "(")); i += 1
            case ")": tokens.append(Token(kind: .closeParen, text: ")")); i += 1
            case "[": tokens.append(Token(kind: .openBracket, text: "[")); i += 1
            case "]": tokens.append(Token(kind: .closeBracket, text: "]")); i += 1
            case "\"":
                let (string, next) = try quoted(scalars, from: i)
                tokens.append(Token(kind: .string, text: string))
                i = next
            default:
                var word = String.UnicodeScalarView()
                while i < scalars.count, !" \t\n\r()[]\"".unicodeScalars.contains(scalars[i]) {
                    word.append(scalars[i]); i += 1
                }
                tokens.append(Token(kind: .word, text: String(word)))
            }
        }
        return tokens
    }

    /// A JSON string literal starting at `start`; returns its value and the index after it.
    private static func quoted(_ s: [Unicode.Scalar], from start: Int) throws(SCIMError) -> (String, Int) {
        var out = String.UnicodeScalarView()
        var i = start + 1
        while i < s.count {
            let c = s[i]
            if c == "\"" { return (String(out), i + 1) }
            if c == "\\" {
                guard i + 1 < s.count else { break }
                let e = s[i + 1]
                switch e {
                case "\"", "\\", "/": out.append(e)
                case "b": out.append("\u{8}")
                case "f": out.append("\u{C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "u":
                    guard i + 5 < s.count, let code = UInt32(String(String.UnicodeScalarView(s[(i + 2)...(i + 5)])), radix: 16),
                          let scalar = Unicode.Scalar(code)
                    else { throw .invalidFilter("A string in the filter has a malformed \\u escape.") }
                    out.append(scalar)
                    i += 4
                default: throw .invalidFilter("A string in the filter has an unknown escape.")
                }
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        throw .invalidFilter("A string in the filter is not closed (unbalanced quotes).")
    }
}
