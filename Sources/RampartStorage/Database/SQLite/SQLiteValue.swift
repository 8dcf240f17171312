import CSQLite
import Foundation
import SQLKit

/// A value as SQLite stores it.
enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// SQLite copies bound text and blobs before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// SQLite uses the bytes where they are, until the binding is cleared.
    private static let unowned = unsafeBitCast(0, to: sqlite3_destructor_type.self)

    /// Binds text and blobs from a copy in `buffer` when it has room, else lets SQLite copy them.
    func bind(to statement: OpaquePointer, at index: Int32, copyingInto buffer: inout SQLiteBindBuffer) -> Int32 {
        switch self {
        case .null: return sqlite3_bind_null(statement, index)
        case .integer(let value): return sqlite3_bind_int64(statement, index, value)
        case .real(let value): return sqlite3_bind_double(statement, index, value)
        case .text(var value):
            return value.withUTF8 { text in
                let bytes = UnsafeRawBufferPointer(text)
                if let copy = buffer.copy(bytes) {
                    return sqlite3_bind_text(statement, index, copy.assumingMemoryBound(to: CChar.self), Int32(bytes.count),
                                             Self.unowned)
                }
                return sqlite3_bind_text(statement, index, bytes.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         Int32(bytes.count), Self.transient)
            }
        case .blob(let bytes):
            return bytes.withUnsafeBytes { bytes in
                if let copy = buffer.copy(bytes) {
                    return sqlite3_bind_blob(statement, index, copy, Int32(bytes.count), Self.unowned)
                }
                return sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
            }
        }
    }

    init(column: Int32, of statement: OpaquePointer) {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: self = .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: self = .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, column))
            self = .text(sqlite3_column_text(statement, column).map {
                String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
            } ?? "")
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, column))
            self = .blob(sqlite3_column_blob(statement, column).map {
                Array(UnsafeRawBufferPointer(start: $0, count: count))
            } ?? [])
        default: self = .null
        }
    }
}

// MARK: - Binds in

extension SQLiteValue {
    /// What SQLKit hands over as a bind. The types the repositories bind are taken directly;
    /// anything else (an enum, an optional that is nil) goes through its JSON form, the way
    /// sqlite-kit stores values it has no column type for.
    init(bind: any Encodable & Sendable) throws {
        switch bind {
        case let value as String: self = .text(value)
        case let value as Int64: self = .integer(value)
        case let value as Int: self = .integer(Int64(value))
        case let value as Bool: self = .integer(value ? 1 : 0)
        case let value as Double: self = .real(value)
        case let value as [UInt8]: self = .blob(value)
        case let optional as any OptionalBind where optional.isNone: self = .null
        default: self = try Self.viaJSON(bind)
        }
    }

    private static func viaJSON(_ value: any Encodable) throws -> SQLiteValue {
        let data = try JSONEncoder().encode(value)
        let json = String(decoding: data, as: UTF8.self)
        switch data.first {
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "t"): return .integer(1)
        case UInt8(ascii: "f"): return .integer(0)
        case UInt8(ascii: "\""): return .text(try JSONDecoder().decode(String.self, from: data))
        default:
            if let integer = Int64(json) { return .integer(integer) }
            if let real = Double(json) { return .real(real) }
            return .text(json)  // an object or array, stored as its JSON
        }
    }
}

/// Lets a nil of any optional type be recognised without encoding it.
private protocol OptionalBind { var isNone: Bool { get } }
extension Optional: OptionalBind {
    var isNone: Bool { self == nil }
}

// MARK: - Rows out

/// A result row. Column names are shared by all rows of a statement.
struct SQLiteRow: SQLRow {
    let columns: [String]
    let values: [SQLiteValue]

    var allColumns: [String] { columns }

    func contains(column: String) -> Bool { columns.contains(column) }

    func decodeNil(column: String) throws -> Bool { try value(column) == .null }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        let value = try value(column)
        switch (value, type) {
        case (.text(let text), is String.Type), (.text(let text), is String?.Type): return text as! D
        case (.integer(let number), is Int64.Type), (.integer(let number), is Int64?.Type): return number as! D
        case (.integer(let number), is Int.Type), (.integer(let number), is Int?.Type): return Int(number) as! D
        case (.null, is any ExpressibleByNilLiteral.Type): return (type as! any ExpressibleByNilLiteral.Type).init(nilLiteral: ()) as! D
        case (.null, _): throw DecodingError.valueNotFound(type, .init(codingPath: [], debugDescription: "column \(column) is NULL"))
        default: return try decodeViaJSON(value, as: type, column: column)
        }
    }

    private func value(_ column: String) throws -> SQLiteValue {
        guard let index = columns.firstIndex(of: column) else {
            throw DecodingError.keyNotFound(SQLCodingKey(column), .init(codingPath: [], debugDescription: "no column \(column)"))
        }
        return values[index]
    }

    private func decodeViaJSON<D: Decodable>(_ value: SQLiteValue, as type: D.Type, column: String) throws -> D {
        let json: Any
        switch value {
        case .null: json = NSNull()
        case .integer(let number): json = number
        case .real(let number): json = number
        case .text(let text): json = text
        case .blob(let bytes): json = Data(bytes).base64EncodedString()
        }
        do {
            return try JSONDecoder().decode(D.self, from: JSONSerialization.data(withJSONObject: json, options: .fragmentsAllowed))
        } catch {
            throw DecodingError.typeMismatch(type, .init(codingPath: [], debugDescription: "column \(column) holds \(value.kind)"))
        }
    }
}

private extension SQLiteValue {
    var kind: String {
        switch self {
        case .null: "NULL"
        case .integer: "an integer"
        case .real: "a real"
        case .text: "text"
        case .blob: "a blob"
        }
    }
}

private struct SQLCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The text and blobs one run of a statement binds, copied into memory the statement owns and
/// bound with `SQLITE_STATIC`, which SQLite does not copy again: a transient bind costs an
/// allocation and a free inside SQLite for every value, and an append binds about sixteen
/// texts per event in the single writer's transaction. The statement clears its bindings
/// after every run, before the buffer is written again. A run that does not fit binds the
/// rest as before, and the buffer grows for the next run.
struct SQLiteBindBuffer: ~Copyable {
    private var storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var used = 0
    private var wanted = 0

    /// Starts a run: the bindings of the last one are cleared.
    mutating func reset() {
        if wanted > storage.count {
            storage.deallocate()
            storage = .allocate(byteCount: wanted.roundedUpToPowerOfTwo, alignment: 1)
        }
        used = 0
        wanted = 0
    }

    /// A copy of `bytes` that lasts until the next `reset`, or nil when there is no room (or
    /// nothing to copy: SQLite binds a null pointer as NULL).
    mutating func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer? {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return nil }
        wanted += bytes.count
        guard let base = storage.baseAddress, storage.count - used >= bytes.count else { return nil }
        let target = base + used
        target.copyMemory(from: source, byteCount: bytes.count)
        used += bytes.count
        return UnsafeRawPointer(target)
    }

    deinit { storage.deallocate() }
}

private extension Int {
    var roundedUpToPowerOfTwo: Int { self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount) }
}
