import RampartCore
import SQLKit

/// Reads a result row by column position. Queries decoded through it list their columns
/// explicitly, in the order their decoder reads them.
protocol ColumnReader {
    func text(_ index: Int) throws -> String
    func optionalText(_ index: Int) throws -> String?
    func integer(_ index: Int) throws -> Int64
    func optionalInteger(_ index: Int) throws -> Int64?
}

extension ColumnReader {
    func timestamp(_ index: Int) throws -> Timestamp { Timestamp(microseconds: try integer(index)) }
    func optionalTimestamp(_ index: Int) throws -> Timestamp? { try optionalInteger(index).map(Timestamp.init(microseconds:)) }
}

extension Tenant {
    /// Runs fixed SQL whose text parameters are written `?1`…`?n`, decoding each row by position.
    ///
    /// This is the path of the statements every API request makes (the token lookup and
    /// the record it asked for). On SQLite they go straight to the connection's prepared
    /// statement: SQLKit's rendering, its boxed rows and the look-up of columns by name cost
    /// more than SQLite's own work (docs/design.md, "Where request time goes today").
    /// PostgreSQL, where a round trip dwarfs all of that, runs the same SQL through SQLKit.
    func rows<T>(_ query: String, _ parameters: [String], _ decode: (any ColumnReader) throws -> T) async throws -> [T] {
        if let session = sql as? SQLiteSession {
            return try session.connection.rows(query, parameters.map(SQLiteValue.text)).map(decode)
        }
        return try await rows(Self.binding(query, parameters), decode)
    }

    func row<T>(_ query: String, _ parameters: [String], _ decode: (any ColumnReader) throws -> T) async throws -> T? {
        try await rows(query, parameters, decode).first
    }

    /// `row`, remembered by a SQLite reader until the database changes (`SQLiteConnection.recall`):
    /// for the row every request reads again, its API token. Absent rows are not kept.
    func recalledRow<T: Sendable>(_ query: String, _ parameters: [String],
                                  _ decode: (any ColumnReader) throws -> T) async throws -> T? {
        guard let session = sql as? SQLiteSession, session.connection.readOnly else {
            return try await row(query, parameters, decode)
        }
        return try session.connection.recall(RecallKey(sql: query, parameters: parameters)) {
            try session.connection.rows(query, parameters.map(SQLiteValue.text)).first.map(decode)
        }
    }

    /// A query SQLKit builds (filters, pages), decoded by the same positional decoders.
    func rows<T>(_ query: SQLQueryString, _ decode: (any ColumnReader) throws -> T) async throws -> [T] {
        try await sql.raw(query).all().map { try decode($0 as? SQLiteRow ?? SQLRowColumns(row: $0)) }
    }

    /// `?n` placeholders as SQLKit binds, for the dialect to number its own way. Every `?` in
    /// the text is a placeholder: fixed queries hold no `?` inside their string literals.
    static func binding(_ query: String, _ parameters: [String]) -> SQLQueryString {
        var result = SQLQueryString("")
        var rest = Substring(query)
        while let mark = rest.firstIndex(of: "?") {
            result.appendLiteral(String(rest[..<mark]))
            let digits = rest[rest.index(after: mark)...].prefix(while: \.isASCIIDigit)
            guard let number = Int(digits), parameters.indices.contains(number - 1) else {
                preconditionFailure("placeholder ?\(digits) has no parameter in: \(query)")
            }
            result.appendInterpolation(bind: parameters[number - 1])
            rest = rest[digits.endIndex...]
        }
        result.appendLiteral(String(rest))
        return result
    }
}

extension SQLiteRow: ColumnReader {
    func text(_ index: Int) throws -> String {
        guard case .text(let text) = values[index] else { throw mismatch(index, "text") }
        return text
    }

    func optionalText(_ index: Int) throws -> String? {
        if case .null = values[index] { return nil }
        return try text(index)
    }

    func integer(_ index: Int) throws -> Int64 {
        guard case .integer(let number) = values[index] else { throw mismatch(index, "an integer") }
        return number
    }

    func optionalInteger(_ index: Int) throws -> Int64? {
        if case .null = values[index] { return nil }
        return try integer(index)
    }

    private func mismatch(_ index: Int, _ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: [], debugDescription: "column \(columns[index]) is not \(expected)"))
    }
}

/// Any SQLKit row read by position, through its ordered column names.
private struct SQLRowColumns: ColumnReader {
    let row: any SQLRow
    /// Asked for once: a row builds this list anew on every call.
    let columns: [String]

    init(row: any SQLRow) {
        self.row = row
        columns = row.allColumns
    }

    func text(_ index: Int) throws -> String { try row.decode(column: columns[index], as: String.self) }
    func optionalText(_ index: Int) throws -> String? { try row.decode(column: columns[index], as: String?.self) }
    func integer(_ index: Int) throws -> Int64 { try row.decode(column: columns[index], as: Int64.self) }
    func optionalInteger(_ index: Int) throws -> Int64? { try row.decode(column: columns[index], as: Int64?.self) }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
