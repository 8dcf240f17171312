import CSQLite
import Foundation

/// One connection to the SQLite file, running statements on the caller's thread.
///
/// Why not sqlite-nio: it sends every statement to a thread pool and every result row back
/// to an event loop, three thread hand-offs per statement, and prepares each statement
/// anew. A request is a handful of statements that each take microseconds inside SQLite,
/// so the hand-offs were most of its cost (see docs/design.md, "The SQLite backend").
///
/// A connection is leased to one transaction at a time (`SQLiteConnectionPool`), which is what
/// SQLite's multi-thread mode asks for; hence `@unchecked Sendable`.
final class SQLiteConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// Prepared statements by SQL text. SQLKit renders the same text for the same query
    /// shape, so the few dozen shapes the repositories use are each compiled once.
    private var statements: [String: SQLiteStatement] = [:]
    private static let statementCacheLimit = 256
    /// A reader never writes (`query_only`), so every change it sees was made by another
    /// connection, which is what `PRAGMA data_version` counts.
    let readOnly: Bool
    /// Rows read while the database stood at `recallVersion` (see `recall`).
    private var recalled: [RecallKey: any Sendable] = [:]
    private var recallVersion: Int64 = -1
    private static let recallLimit = 1024

    init(path: String, readOnly: Bool) throws {
        self.readOnly = readOnly
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let error = SQLiteError(code: status, message: handle.map { String(cString: sqlite3_errmsg($0)) } ?? "")
            sqlite3_close_v2(handle)
            throw error
        }
        self.handle = handle
        // Waits for a writer in another process (the CLI) instead of failing at once.
        sqlite3_busy_timeout(handle, 10_000)
        // NORMAL with WAL is durable against process crashes (SIGKILL), which is what an
        // acknowledged write promises; FULL would add an fsync per commit for power loss.
        var pragmas = ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=OFF"]
        // A new database gets 16 KiB pages: an append writes each page it touches to the WAL
        // once per commit, and the audit log's rows are about 1 KB, so four times fewer,
        // larger writes took ingestion from 22,000 to 25,000 events/s (docs/design.md). An
        // existing database keeps the size it was made with; SQLite ignores this for it.
        if !readOnly { pragmas.insert("PRAGMA page_size=16384", at: 0) }
        // A reader cannot write even by mistake. The writer keeps up to 32 MB of pages: the
        // audit log's indexes are updated on every append and stay warm that way.
        pragmas.append(readOnly ? "PRAGMA query_only=ON" : "PRAGMA cache_size=-32000")
        // Bytes freed inside a page (an updated or deleted row) are zeroed as the page is
        // written anyway, at no extra I/O, so a person's data does not linger in free space.
        // An erasure turns it fully on for its transaction (`Tenant.eraseUser`).
        if !readOnly { pragmas.append("PRAGMA secure_delete=FAST") }
        for pragma in pragmas { try run(pragma) }
    }

    deinit { close() }

    /// Runs one statement; `onRow` sees each result row.
    func run(_ sql: String, _ binds: [SQLiteValue] = [], onRow: ((SQLiteRow) -> Void)? = nil) throws {
        try run(sql, each: CollectionOfOne(binds)) { _, row in onRow?(row) }
    }

    /// Runs one statement once for each set of binds, looking it up once: bulk inserts and
    /// lookups of a thousand rows would otherwise hash the SQL text a thousand times.
    /// `onRow` sees each result row with the index of the binds that read it.
    func run<Binds: Collection<SQLiteValue>>(_ sql: String, each bindSets: some Collection<Binds>,
                                             onRow: ((Int, SQLiteRow) -> Void)? = nil) throws {
        let (statement, handle) = try prepared(sql)
        for (index, binds) in bindSets.enumerated() {
            try statement.run(binds, on: handle, onRow: onRow.map { onRow in { onRow(index, $0) } })
        }
    }

    /// Runs `sql`, an `INSERT OR IGNORE`, once for each of `items` in order, looking it up
    /// once, and tells `inserted` whether each run added its row. `binds` is asked for an
    /// item's binds only when its turn comes, so they may depend on the answers before.
    func insertEach<Item>(_ sql: String, _ items: some Sequence<Item>, binds: (Item) -> [SQLiteValue],
                          inserted: (Item, Bool) -> Void) throws {
        let (statement, handle) = try prepared(sql)
        for item in items {
            try statement.run(binds(item), on: handle, onRow: nil)
            inserted(item, sqlite3_changes(handle) > 0)
        }
    }

    private func prepared(_ sql: String) throws -> (SQLiteStatement, OpaquePointer) {
        guard let handle else { throw SQLiteError(code: SQLITE_CANTOPEN, message: "the connection is closed") }
        if let cached = statements[sql] { return (cached, handle) }
        let statement = try SQLiteStatement(sql, on: handle)
        if statements.count >= Self.statementCacheLimit { statements.removeAll() }
        statements[sql] = statement
        return (statement, handle)
    }

    /// Runs one statement and returns its rows.
    func rows(_ sql: String, _ binds: [SQLiteValue] = []) throws -> [SQLiteRow] {
        var rows: [SQLiteRow] = []
        try run(sql, binds) { rows.append($0) }
        return rows
    }

    /// A value read earlier on this connection, if the database has not changed since, else
    /// what `load` reads now (kept while the database stays as it is).
    ///
    /// Only for readers, inside a transaction. `PRAGMA data_version` starts the transaction's
    /// snapshot and says whether any commit, by this process or another (the CLI), came
    /// between; any commit at all forgets everything, so nothing outlives a change to it.
    func recall<T: Sendable>(_ key: RecallKey, orLoad load: () throws -> T?) throws -> T? {
        precondition(readOnly, "only a reader's snapshot says whether the database changed")
        var read: Int64?
        try run("PRAGMA data_version") { read = try? $0.integer(0) }
        guard let version = read else { throw SQLiteError(code: SQLITE_ERROR, message: "PRAGMA data_version gave no version") }
        if version != recallVersion {
            recalled.removeAll(keepingCapacity: true)
            recallVersion = version
        } else if let value = recalled[key] as? T {
            return value
        }
        let value = try load()
        if let value {
            if recalled.count >= Self.recallLimit { recalled.removeAll(keepingCapacity: true) }
            recalled[key] = value
        }
        return value
    }

    /// Installs SQLite's WAL hook: `hook` runs after every commit, with the WAL's size in
    /// pages. It replaces SQLite's automatic checkpoints (see `SQLiteCheckpointer`).
    func onCommit(context: UnsafeMutableRawPointer,
                  _ hook: @escaping @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32)
                      -> Int32) {
        guard let handle else { return }
        sqlite3_wal_hook(handle, hook, context)
    }

    /// Copies what it can of the WAL into the database file without waiting for any lock.
    func checkpointPassively() -> Int32 {
        guard let handle else { return SQLITE_MISUSE }
        return sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }

    func close() {
        statements.removeAll()  // finalizes them, which must happen before the close
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }
}

/// What a recalled value was read by: a statement and its parameters, which within one
/// state of the database always read the same rows.
struct RecallKey: Hashable {
    let sql: String
    let parameters: [String]
}

/// A compiled statement, reset after every run so it can be reused.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private var columns: [String]
    private var compilations: Int32 = 0
    private var bound = SQLiteBindBuffer()

    init(_ sql: String, on connection: OpaquePointer) throws {
        var handle: OpaquePointer?
        var rest = ""
        let status = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            defer { rest = tail.map { String(cString: $0) } ?? "" }
            return sqlite3_prepare_v3(connection, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, &tail)
        }
        guard status == SQLITE_OK, let handle else { throw SQLiteError(connection, status) }
        // Only the first statement of a string would run: refuse rather than drop the rest.
        guard rest.allSatisfy({ $0.isWhitespace || $0 == ";" }) else {
            sqlite3_finalize(handle)
            throw SQLiteError(code: SQLITE_MISUSE, message: "one statement per query")
        }
        self.handle = handle
        self.columns = Self.columnNames(handle)
    }

    deinit { sqlite3_finalize(handle) }

    func run(_ binds: some Collection<SQLiteValue>, on connection: OpaquePointer, onRow: ((SQLiteRow) -> Void)?) throws {
        // Cleared before `bound` is written again: the bindings point into it.
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        bound.reset()
        for (index, value) in binds.enumerated() {
            let status = value.bind(to: handle, at: Int32(index + 1), copyingInto: &bound)
            guard status == SQLITE_OK else { throw SQLiteError(connection, status) }
        }
        while true {
            let status = sqlite3_step(handle)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw SQLiteError(connection, status) }
            guard let onRow else { continue }
            // A schema change recompiles the statement inside step, perhaps with other columns.
            let recompiled = sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_REPREPARE, 0)
            if recompiled != compilations {
                compilations = recompiled
                columns = Self.columnNames(handle)
            }
            var values: [SQLiteValue] = []
            values.reserveCapacity(columns.count)
            for index in 0..<Int32(columns.count) { values.append(SQLiteValue(column: index, of: handle)) }
            onRow(SQLiteRow(columns: columns, values: values))
        }
    }

    private static func columnNames(_ handle: OpaquePointer) -> [String] {
        (0..<sqlite3_column_count(handle)).map { String(cString: sqlite3_column_name(handle, $0)) }
    }
}

/// A failure SQLite reported, by its extended result code. The message names tables and
/// columns at most, never the values bound.
struct SQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// `status` is the extended code the failing call returned (the connection opts in).
    init(_ connection: OpaquePointer, _ status: Int32) {
        self.init(code: status, message: String(cString: sqlite3_errmsg(connection)))
    }

    var primaryCode: Int32 { code & 0xff }
    /// SQLITE_CONSTRAINT_UNIQUE and _PRIMARYKEY, macros Swift does not import.
    var isUniqueViolation: Bool { code == SQLITE_CONSTRAINT | (8 << 8) || code == SQLITE_CONSTRAINT | (6 << 8) }
    /// The store cannot be used right now: locked for too long, unreadable or full.
    var isUnavailable: Bool {
        [SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_READONLY].contains(primaryCode)
    }
    var description: String { "SQLite error \(code): \(message)" }
}
