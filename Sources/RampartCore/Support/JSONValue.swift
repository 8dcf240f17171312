import Foundation

/// A JSON value with one canonical spelling (sorted keys, no insignificant space), used
/// where bytes are hashed or compared: audit details and targets.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else if let o = try? c.decode([String: JSONValue].self) { self = .object(o) }
        else if let d = try? c.decode(Double.self) { self = .string(String(d)) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "unsupported JSON value") }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public var canonical: String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical text of an array of objects whose keys are given in sorted order, as
    /// `.array(objects.map(.object)).canonical` would write it, without building dictionaries:
    /// the audit targets of every appended event.
    public static func canonicalArray(ofSortedObjects objects: [[(key: String, value: JSONValue)]]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(96 * objects.count + 2)
        out.append(UInt8(ascii: "["))
        for (i, object) in objects.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writeObject(sortedFields: object, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical text of one object whose keys are given in sorted order.
    public static func canonicalObject(sortedFields fields: [(key: String, value: JSONValue)]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(96)
        writeObject(sortedFields: fields, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The same with one more field after them whose value is already canonical text: a
    /// value every event of a batch shares is written once, not once per event.
    public static func canonicalObject(sortedFields fields: [(key: String, value: JSONValue)],
                                       last: (key: String, canonical: String)) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(96 + last.canonical.utf8.count)
        writeObject(sortedFields: fields, to: &out, last: last)
        return String(decoding: out, as: UTF8.self)
    }

    private static func writeObject(sortedFields fields: [(key: String, value: JSONValue)], to out: inout [UInt8],
                                    last: (key: String, canonical: String)? = nil) {
        out.append(UInt8(ascii: "{"))
        for (j, field) in fields.enumerated() {
            assert(j == 0 || fields[j - 1].key < field.key, "keys must be sorted")
            if j > 0 { out.append(UInt8(ascii: ",")) }
            writeString(field.key, to: &out)
            out.append(UInt8(ascii: ":"))
            field.value.write(to: &out)
        }
        if let last {
            assert(fields.last.map { $0.key < last.key } ?? true, "keys must be sorted")
            if !fields.isEmpty { out.append(UInt8(ascii: ",")) }
            writeString(last.key, to: &out)
            out.append(UInt8(ascii: ":"))
            out += last.canonical.utf8
        }
        out.append(UInt8(ascii: "}"))
    }

    // Written as bytes: every audit event is encoded twice (targets and details) on the append path.
    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .int(let i): out += String(i).utf8
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            // Sorted as pairs: each value is not looked up again by its key.
            JSONValue.writeObject(sortedFields: o.sorted { $0.key < $1.key }, to: &out)
        }
    }

    /// Writes `s` as a JSON string literal: quote, backslash and control characters escaped,
    /// everything else copied as UTF-8. The canonical style (audit hashes) must never change;
    /// the Foundation style is what `JSONEncoder` writes, for API responses.
    public static func writeString(_ s: String, _ style: JSONStringStyle = .canonical, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            // Runs of bytes that need no escape (nearly all of them) are copied at once.
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                writeEscaped(byte, style, to: &out)
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func writeEscaped(_ byte: UInt8, _ style: JSONStringStyle, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out += #"\""#.utf8
        case UInt8(ascii: "\\"): out += #"\\"#.utf8
        case UInt8(ascii: "\n"): out += #"\n"#.utf8
        case UInt8(ascii: "\r"): out += #"\r"#.utf8
        case UInt8(ascii: "\t"): out += #"\t"#.utf8
        case 0x08 where style == .foundation: out += #"\b"#.utf8
        case 0x0C where style == .foundation: out += #"\f"#.utf8
        default:  // the other control characters, the only bytes left that reach here
            out += #"\u00"#.utf8 + [lowercaseHexDigits[Int(byte >> 4)], lowercaseHexDigits[Int(byte & 0x0F)]]
        }
    }

    public static func parse(_ text: String) -> JSONValue? {
        try? decode(text)
    }

    public init(_ value: String?) { self = value.map { .string($0) } ?? .null }
}

/// How a string literal spells the control characters backspace and form feed.
public enum JSONStringStyle: Sendable {
    /// `\u0008` and `\u000c`, as the audit log's canonical form has always written them.
    case canonical
    /// `\b` and `\f`, as Foundation's `JSONEncoder` writes them.
    case foundation
}

/// The `details` object of an audit event.
public struct AuditDetails: Sendable, Equatable {
    public private(set) var fields: [String: JSONValue] = [:]
    public init(_ fields: [String: JSONValue] = [:]) { self.fields = fields }

    public subscript(key: String) -> JSONValue? {
        get { fields[key] }
        set { fields[key] = newValue }
    }

    /// Records a settings change as `changes.<field> = {before, after}`.
    public mutating func change(_ field: String, from before: JSONValue, to after: JSONValue) {
        guard before != after else { return }
        var changes: [String: JSONValue] = [:]
        if case .object(let existing)? = fields["changes"] { changes = existing }
        changes[field] = .object(["before": before, "after": after])
        fields["changes"] = .object(changes)
    }

    public var hasChanges: Bool { fields["changes"] != nil }
    public var json: JSONValue { .object(fields) }
}
