import SQLKit

extension Tenant {
    /// Inserts many rows of one table. `table` and `columns` are the repositories' own names,
    /// never input.
    ///
    /// On SQLite each row runs one cached prepared statement: rendering a multi-row VALUES
    /// list through SQLKit cost more than SQLite's own work for it. On PostgreSQL a multi-row
    /// statement per chunk saves round trips.
    func insertRows(into table: String, columns: [String], rows: [[ColumnValue]]) async throws {
        guard !rows.isEmpty else { return }
        if let session = sql as? SQLiteSession {
            let placeholders = (1...columns.count).map { "?\($0)" }.joined(separator: ", ")
            let statement = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))"
            try session.connection.run(statement, each: rows.lazy.map { $0.lazy.map(\.sqlite) })
            return
        }
        // 500 rows stay well under PostgreSQL's 65,535 binds per statement for any table here.
        for chunk in rows.chunked(500) {
            let insert = sql.insert(into: table).columns(columns)
            for row in chunk { insert.values(row.map(\.bind)) }
            try await insert.run()
        }
    }
}

/// A value of a bulk-inserted column, typed so that neither backend has to inspect it.
enum ColumnValue: Sendable {
    case null
    case integer(Int64)
    case text(String)

    init(_ text: String?) { self = text.map { .text($0) } ?? .null }
    init(_ number: Int64) { self = .integer(number) }

    var sqlite: SQLiteValue {
        switch self {
        case .null: .null
        case .integer(let number): .integer(number)
        case .text(let text): .text(text)
        }
    }

    /// The plain Swift value, which postgres-kit binds without going through `Encodable`.
    var bind: any Encodable & Sendable {
        switch self {
        case .null: String?.none
        case .integer(let number): number
        case .text(let text): text
        }
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
