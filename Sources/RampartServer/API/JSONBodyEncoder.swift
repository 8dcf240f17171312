import RampartCore

/// Writes API response bodies and the CLI's `--json` output: the JSON of `JSONEncoder` with
/// `.sortedKeys` and `.withoutEscapingSlashes`, for a small part of its cost (Foundation's
/// encoder was the largest single item of a `GET /users/{id}`; docs/design.md, "Where
/// request time goes today"), with one rule of Rampart's own: a body never leaves a field
/// out. An absent value is `null`, so every documented field is always there, and types get
/// that from their synthesized `Encodable` instead of spelling it out.
///
/// Values are collected into a small tree (an `Encodable` may ask for nested containers in
/// any order), then written with every object's keys sorted.
public enum JSONBodyEncoder {
    public static func encode(_ value: some Encodable, pretty: Bool = false) throws -> [UInt8] {
        if !pretty, let writable = value as? any JSONObjectWritable { return JSONObjectWriter.encode(writable) }
        return try encodeThroughContainers(value, pretty: pretty)
    }

    /// Through `Encodable`, for every value; `JSONObjectWritable` types must write the same.
    static func encodeThroughContainers(_ value: some Encodable, pretty: Bool = false) throws -> [UInt8] {
        let root = JSONNodeEncoder(parentPath: [], key: nil)
        try value.encode(to: root)
        var out: [UInt8] = []
        out.reserveCapacity(256)
        (root.node ?? .object(JSONObject())).write(to: &out, indent: pretty ? 0 : nil)
        return out
    }
}

// MARK: - The tree

/// Objects and arrays are classes so that a container handed out earlier can still fill them.
final class JSONObject {
    var entries: [(key: String, node: JSONNode)]

    init() {
        entries = []
        // Room for a typical record's fields: one allocation instead of four as it grows.
        entries.reserveCapacity(8)
    }
}

final class JSONArray {
    var items: [JSONNode] = []
}

enum JSONNode {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case object(JSONObject)
    case array(JSONArray)
    /// A value a super-encoder fills in after its place was taken.
    case pending(JSONNodeEncoder)

    /// Compact without `indent`; with it, two spaces per level, for people.
    func write(to out: inout [UInt8], indent: Int? = nil) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let value): out += (value ? "true" : "false").utf8
        case .number(let text): out += text.utf8
        case .string(let text): JSONValue.writeString(text, .foundation, to: &out)
        case .object(let object):
            object.entries.sort(by: { $0.key < $1.key })
            let entries = object.entries
            Self.writeList(entries.count, "{", "}", to: &out, indent: indent) { index, out in
                JSONValue.writeString(entries[index].key, .foundation, to: &out)
                out += (indent == nil ? ":" : ": ").utf8
                entries[index].node.write(to: &out, indent: indent.map { $0 + 1 })
            }
        case .array(let array):
            Self.writeList(array.items.count, "[", "]", to: &out, indent: indent) { index, out in
                array.items[index].write(to: &out, indent: indent.map { $0 + 1 })
            }
        case .pending(let encoder): (encoder.node ?? .null).write(to: &out, indent: indent)
        }
    }

    private static func writeList(_ count: Int, _ open: Unicode.Scalar, _ close: Unicode.Scalar, to out: inout [UInt8],
                                  indent: Int?, item: (Int, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: open))
        for index in 0..<count {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if let indent { newline(indent + 1, &out) }
            item(index, &out)
        }
        if let indent, count > 0 { newline(indent, &out) }
        out.append(UInt8(ascii: close))
    }

    private static func newline(_ depth: Int, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\n"))
        out += repeatElement(UInt8(ascii: " "), count: 2 * depth)
    }
}

// MARK: - Encoder

/// Encodes one value into `node`. The coding path is put together only when asked for (once
/// per container, and by errors), not for every value: that was most of the encoder's
/// allocations.
final class JSONNodeEncoder: Encoder {
    let parentPath: [any CodingKey]
    let key: (any CodingKey)?
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: JSONNode?

    init(parentPath: [any CodingKey], key: (any CodingKey)?) {
        self.parentPath = parentPath
        self.key = key
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        // A second request for a keyed container adds to the same object, as JSONEncoder does.
        if case .object(let object) = node {
            return KeyedEncodingContainer(KeyedContainer(object: object, codingPath: codingPath))
        }
        let object = JSONObject()
        node = .object(object)
        return KeyedEncodingContainer(KeyedContainer(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array(let array) = node { return UnkeyedContainer(array: array, codingPath: codingPath) }
        let array = JSONArray()
        node = .array(array)
        return UnkeyedContainer(array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(encoder: self)
    }

    /// The node for one value: primitives and timestamps directly (by comparing types, which
    /// is cheaper than casting), anything else through its `encode(to:)`.
    static func node<T: Encodable>(for value: T, in parentPath: [any CodingKey], at key: (any CodingKey)?) throws -> JSONNode {
        if T.self == String.self { return .string(value as! String) }
        if T.self == Int.self { return .number(String(value as! Int)) }
        if T.self == Int64.self { return .number(String(value as! Int64)) }
        if T.self == Bool.self { return .bool(value as! Bool) }
        if T.self == Timestamp.self { return .string((value as! Timestamp).rfc3339) }
        let encoder = JSONNodeEncoder(parentPath: parentPath, key: key)
        try value.encode(to: encoder)
        return encoder.node ?? .object(JSONObject())
    }

    static func number<T: BinaryFloatingPoint & LosslessStringConvertible>(_ value: T, codingPath: @autoclosure () -> [any CodingKey])
        throws -> JSONNode
    {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath(), debugDescription: "\(value) is not valid JSON"))
        }
        let text = value.description
        return .number(text.hasSuffix(".0") ? String(text.dropLast(2)) : text)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    private func put(_ node: JSONNode, _ key: Key) { object.entries.append((key.stringValue, node)) }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        put(try JSONNodeEncoder.number(value, codingPath: codingPath + [key]), key)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        put(try JSONNodeEncoder.number(value, codingPath: codingPath + [key]), key)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        put(try JSONNodeEncoder.node(for: value, in: codingPath, at: key), key)
    }

    // A body never leaves a field out: synthesized `Encodable` asks for these for optional
    // properties, and an absent value is written as null.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try encodeOrNull(value, key) }

    private mutating func encodeOrNull<T: Encodable>(_ value: T?, _ key: Key) throws {
        guard let value else { return put(.null, key) }
        try encode(value, forKey: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = JSONObject()
        put(.object(nested), key)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = JSONArray()
        put(.array(nested), key)
        return UnkeyedContainer(array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }

    private func superEncoder(named name: String) -> any Encoder {
        let encoder = JSONNodeEncoder(parentPath: codingPath, key: nil)
        object.entries.append((name, .pending(encoder)))
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let array: JSONArray
    let codingPath: [any CodingKey]
    var count: Int { array.items.count }

    private func add(_ node: JSONNode) { array.items.append(node) }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { add(try JSONNodeEncoder.number(value, codingPath: codingPath)) }
    mutating func encode(_ value: Float) throws { add(try JSONNodeEncoder.number(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int) throws { add(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { add(.number(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        add(try JSONNodeEncoder.node(for: value, in: codingPath, at: IndexKey(intValue: count)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = JSONObject()
        add(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(object: nested, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = JSONArray()
        add(.array(nested))
        return UnkeyedContainer(array: nested, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = JSONNodeEncoder(parentPath: codingPath, key: nil)
        array.items.append(.pending(encoder))
        return encoder
    }
}

/// An array element's place in a coding path, as Foundation's encoder reports it.
private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: JSONNodeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ node: JSONNode) { encoder.node = node }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try JSONNodeEncoder.number(value, codingPath: codingPath)) }
    mutating func encode(_ value: Float) throws { set(try JSONNodeEncoder.number(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int) throws { set(.number(String(value))) }
    mutating func encode(_ value: Int8) throws { set(.number(String(value))) }
    mutating func encode(_ value: Int16) throws { set(.number(String(value))) }
    mutating func encode(_ value: Int32) throws { set(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { set(.number(String(value))) }
    mutating func encode(_ value: UInt) throws { set(.number(String(value))) }
    mutating func encode(_ value: UInt8) throws { set(.number(String(value))) }
    mutating func encode(_ value: UInt16) throws { set(.number(String(value))) }
    mutating func encode(_ value: UInt32) throws { set(.number(String(value))) }
    mutating func encode(_ value: UInt64) throws { set(.number(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        set(try JSONNodeEncoder.node(for: value, in: encoder.parentPath, at: encoder.key))
    }
}
