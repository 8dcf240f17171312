import Foundation
import Hummingbird
import NIOCore
import RampartCore

/// A request body that accepts exactly its own fields: unknown fields, nulls where null is
/// not allowed, wrong types and oversized bodies all get a 4xx before anything is written.
protocol StrictBody: Decodable, Sendable {
    static var fields: Set<String> { get }
    static var nullableFields: Set<String> { get }
    static var required: Set<String> { get }
    /// `{}` is a request with every default, not an empty change.
    static var mayBeEmpty: Bool { get }
}

extension StrictBody {
    static var nullableFields: Set<String> { [] }
    static var required: Set<String> { [] }
    static var mayBeEmpty: Bool { false }
}

enum Body {
    static let limit = 1 << 20

    /// A JSON body's bytes, up to `limit` (1 MiB unless a route allows more).
    static func collectJSON(_ request: Request, limit: Int = limit) async throws -> ByteBuffer {
        // A body without a media type is not guessed at: it is 415 like any other type.
        guard let contentType = request.headers[.contentType], contentType.lowercased().hasPrefix("application/json")
        else {
            throw RampartError(.unsupportedMediaType, "Send the body as application/json (with that Content-Type).")
        }
        let tooLarge = RampartError(.payloadTooLarge, "The body is larger than \(limit >> 20) MiB.")
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge
        }
    }

    static func decode<T: StrictBody>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer = try await collectJSON(request)
        let data = Data(buffer.readableBytesView)
        guard !Self.hasTrailingComma(buffer.readableBytesView),
              let object = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) else {
            throw RampartError(.invalidJSON, "The body is not valid JSON.")
        }
        guard let fields = object as? [String: Any] else {
            throw RampartError(.invalidJSON, "The body must be a JSON object.")
        }
        if let unknown = fields.keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw RampartError(.unknownField, "Unknown field '\(unknown.prefix(64))'; allowed: \(T.fields.sorted().joined(separator: ", ")).")
        }
        if let missing = T.required.sorted().first(where: { fields[$0] == nil }) {
            throw RampartError.invalidField(missing, "is required")
        }
        if let null = fields.keys.sorted().first(where: { fields[$0] is NSNull && !T.nullableFields.contains($0) }) {
            throw RampartError.invalidField(null, "must not be null")
        }
        if T.required.isEmpty && fields.isEmpty && !T.mayBeEmpty {
            throw RampartError(.invalidField, "Provide at least one field to change.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw RampartError.invalidField(error.fieldName, error.problem)
        }
    }
}

extension Body {
    /// Foundation's parser accepts `{"a":1,}`, which RFC 8259 does not: a comma followed,
    /// outside a string, by only whitespace and a closing bracket.
    static func hasTrailingComma(_ bytes: ByteBufferView) -> Bool {
        var inString = false, escaped = false, afterComma = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "}"), UInt8(ascii: "]"): if afterComma { return true }
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            afterComma = byte == UInt8(ascii: ",")
        }
        return false
    }
}

extension DecodingError {
    var fieldName: String {
        let path: [any CodingKey]
        switch self {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
            path = c.codingPath
            if case .keyNotFound(let key, _) = self { return key.stringValue }
        @unknown default: path = []
        }
        return path.map(\.stringValue).joined(separator: ".")
    }

    var problem: String {
        switch self {
        case .typeMismatch(let type, _):
            return type == String.self || type == String?.self ? "must be a string" : "has the wrong type"
        case .valueNotFound: return "must not be null"
        case .keyNotFound: return "is required"
        case .dataCorrupted(let c): return "is invalid (\(c.debugDescription))"
        @unknown default: return "is invalid"
        }
    }
}
