import Foundation

extension JSONValue {
    /// Decodes JSON text to the value `JSONDecoder().decode(JSONValue.self, from:)` gives, and
    /// fails where it fails. Every SCIM request body and every stored SCIM attribute set is
    /// decoded here: `JSONValue`'s `Decodable` initializer guesses each value's type by trying
    /// one `decode` after another, and the failed guesses cost more than the parse itself.
    ///
    /// The common shapes (objects, arrays, strings, literals, integers that fit in 64 bits) are
    /// read directly. Text with anything else in it, a fraction, an exponent, an integer too
    /// large, or what this strict reader refuses (a trailing comma, a byte-order mark, a bad
    /// escape...), goes whole to `JSONDecoder`, so its leniencies and errors stay what they were.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var reader = JSONTextReader(bytes)
        if let value = reader.document() { return value }
        return try JSONDecoder().decode(JSONValue.self, from: Data(buffer: bytes))
    }

    public static func decode(_ text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try decode($0) }
    }
}

/// A strict RFC 8259 reader over UTF-8 bytes. Each method returns nil where the text leaves
/// this reader's subset; the caller then asks `JSONDecoder`. `ProductEventReader` walks a
/// batch of events with it field by field, without building the tree.
struct JSONTextReader {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index = 0
    private var depth = 0
    /// Below `JSONDecoder`'s own nesting limit (512), so deeper text gets its answer.
    private static let maximumDepth = 500

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() -> JSONValue? {
        skipSpace()
        guard let value = value() else { return nil }
        skipSpace()
        return index == bytes.count ? value : nil
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    mutating func value() -> JSONValue? {
        guard let byte = current else { return nil }
        switch byte {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return nil
        }
    }

    /// Steps over `byte` (after any space), or returns false where the text has something else.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipSpace()
        guard current == byte else { return false }
        index += 1
        return true
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return nil }
        for k in 0..<count where bytes[index + k] != word.utf8Start[k] { return nil }
        index += count
        return value
    }

    private mutating func object() -> JSONValue? {
        guard depth < Self.maximumDepth else { return nil }
        depth += 1
        defer { depth -= 1 }
        index += 1
        var fields: [String: JSONValue] = [:]
        skipSpace()
        if current == UInt8(ascii: "}") { index += 1; return .object(fields) }
        // Room for a typical object's fields (an event, a SCIM user): no regrowth on the way.
        fields.reserveCapacity(8)
        while true {
            skipSpace()
            guard current == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard current == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpace()
            guard let value = value() else { return nil }
            // The first of repeated keys wins, as with JSONDecoder; one hash when keys are unique.
            if let first = fields.updateValue(value, forKey: key) { fields[key] = first }
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(fields)
            default: return nil
            }
        }
    }

    private mutating func array() -> JSONValue? {
        guard depth < Self.maximumDepth else { return nil }
        depth += 1
        defer { depth -= 1 }
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if current == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipSpace()
            guard let item = value() else { return nil }
            items.append(item)
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(items)
            default: return nil
            }
        }
    }

    /// A string literal starting at the opening quote. Runs without escapes are copied at once;
    /// the result must be valid UTF-8.
    mutating func string() -> String? {
        index += 1
        var out: [UInt8] = []
        var start = index
        // The bytes seen ORed together: below 0x80, the run is ASCII and needs no validation.
        var seen: UInt8 = 0
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                // Most strings hold no escape: made from the text itself, without a copy first.
                if out.isEmpty {
                    // `String(validating:)` is generic and looks up type metadata on every call,
                    // 3 % of ingestion's CPU; ASCII text is valid UTF-8 as it stands.
                    return seen < 0x80 ? String(decoding: run, as: UTF8.self) : String(validating: run, as: UTF8.self)
                }
                out.append(contentsOf: run)
                return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                index += 1
                guard escape(into: &out) else { return nil }
                start = index
            case 0..<0x20:
                return nil
            default:
                seen |= byte
                index += 1
            }
        }
        return nil
    }

    /// The escape after a backslash, appended as UTF-8.
    private mutating func escape(into out: inout [UInt8]) -> Bool {
        guard let byte = current else { return false }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            guard let unit = hexUnit() else { return false }
            var scalar: Unicode.Scalar?
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate counts only with the low one escaped right after it.
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { return false }
                index += 2
                guard let low = hexUnit(), (0xDC00...0xDFFF).contains(low) else { return false }
                scalar = Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
            default:
                scalar = Unicode.Scalar(unit)  // nil for a lone low surrogate
            }
            guard let scalar else { return false }
            out.append(contentsOf: UTF8.encode(scalar)!)
        default:
            return false
        }
        return true
    }

    private mutating func hexUnit() -> UInt16? {
        guard bytes.count - index >= 4 else { return nil }
        var unit: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            unit = unit << 4 | UInt16(digit)
            index += 1
        }
        return unit
    }

    /// An integer that fits in `Int64`; any other number is left to `JSONDecoder`, whose
    /// rules (which fractions are integers, how a large number is spelled) it keeps.
    private mutating func number() -> JSONValue? {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        let digitsStart = index
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        let digits = index - digitsStart
        guard digits > 0, digits == 1 || bytes[digitsStart] != UInt8(ascii: "0") else { return nil }
        if let byte = current, byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            return nil
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        return Int64(text).map(JSONValue.int)
    }
}
