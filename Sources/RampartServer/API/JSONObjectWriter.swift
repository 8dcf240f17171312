import RampartCore

/// A body that writes its own JSON object instead of going through `Encodable`'s containers.
///
/// For the bodies of the most frequent reads (a user, a page of users): building the value
/// tree and sorting it was half of the response JSON's cost in `GET /api/v1/users/{id}`
/// (14 → 7 µs per request; docs/design.md). The output is byte for byte what
/// `JSONBodyEncoder` writes from the same value's `Encodable`; a test holds every conforming
/// type to that, so the `Encodable` stays the definition.
protocol JSONObjectWritable: Encodable {
    /// Writes every field, keys in ascending order, absent values as null.
    func writeFields(to object: inout JSONObjectWriter)
}

/// Writes objects' fields straight to bytes, in the order they are given.
struct JSONObjectWriter {
    private var bytes: [UInt8] = []
    /// No field written yet in the object being written.
    private var empty = true

    static func encode(_ value: some JSONObjectWritable) -> [UInt8] {
        var writer = JSONObjectWriter()
        writer.bytes.reserveCapacity(256)
        writer.object(value)
        return writer.bytes
    }

    private mutating func object(_ value: some JSONObjectWritable) {
        let outer = empty
        empty = true
        bytes.append(UInt8(ascii: "{"))
        value.writeFields(to: &self)
        bytes.append(UInt8(ascii: "}"))
        empty = outer
    }

    /// `key` is a plain ASCII name (no escapes needed), as every field name of the API is.
    private mutating func key(_ key: StaticString) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        key(name)
        guard let value else { return bytes.append(contentsOf: "null".utf8) }
        JSONValue.writeString(value, .foundation, to: &bytes)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func field(_ name: StaticString, _ value: some BinaryInteger) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func field(_ name: StaticString, _ value: Timestamp?) {
        field(name, value?.rfc3339)
    }

    mutating func field(_ name: StaticString, strings: some Collection<String>) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, string) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONValue.writeString(string, .foundation, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ name: StaticString, objects: some Collection<some JSONObjectWritable>) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, object) in objects.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            self.object(object)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}

extension User: JSONObjectWritable {
    func writeFields(to object: inout JSONObjectWriter) {
        object.field("createdAt", createdAt)
        object.field("displayName", displayName)
        object.field("email", email)
        object.field("id", id)
        object.field("lastActiveAt", lastActiveAt)
        object.field("managed", managed)
        object.field("roles", strings: roles.lazy.map(\.rawValue))
        object.field("status", status.rawValue)
    }
}

extension PageBody: JSONObjectWritable where Item: JSONObjectWritable {
    func writeFields(to object: inout JSONObjectWriter) {
        object.field("data", objects: data)
        object.field("nextCursor", nextCursor)
    }
}
