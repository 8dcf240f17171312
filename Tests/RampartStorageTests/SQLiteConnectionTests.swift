import Foundation
@testable import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// The embedded SQLite driver: values in and out, the statement cache, and its refusals.
@Suite("SQLite connection")
struct SQLiteConnectionTests {
    /// A connection on a fresh file with one table, removed afterwards.
    func withConnection(readOnly: Bool = false, _ body: (SQLiteConnection, String) throws -> Void) throws {
        let directory = try makeScratchDirectory("sqlite")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/test.sqlite"
        let setup = try SQLiteConnection(path: path, readOnly: false)
        try setup.run("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, data BLOB, note TEXT)")
        let connection = readOnly ? try SQLiteConnection(path: path, readOnly: true) : setup
        try body(connection, path)
    }

    enum Colour: String, Encodable { case red }

    @Test func bindsBecomeTheirSQLiteValues() throws {
        let cases: [(any Encodable & Sendable, SQLiteValue)] = [
            ("text", .text("text")), (Int64(-7), .integer(-7)), (42, .integer(42)), (true, .integer(1)),
            (2.5, .real(2.5)), ([UInt8]([1, 2, 3]), .blob([1, 2, 3])), (String?.none, .null),
            (String?.some("x"), .text("x")), (Int64?.none, .null), (Colour.red, .text("red")),
        ]
        for (bind, expected) in cases {
            #expect(try SQLiteValue(bind: bind) == expected, "\(bind)")
        }
    }

    @Test func valuesRoundTripThroughTheFile() throws {
        try withConnection { (connection: SQLiteConnection, _: String) throws in
            try connection.run("INSERT INTO t (id, name, score, data, note) VALUES (?1, ?2, ?3, ?4, ?5)",
                               [.integer(1), .text("é 日本 🔐 \"q\""), .real(0.5), .blob([0, 255]), .null])
            let row = try #require(try connection.rows("SELECT * FROM t WHERE id = ?1", [.integer(1)]).first)
            #expect(try row.decode(column: "id", as: Int64.self) == 1)
            #expect(try row.decode(column: "id", as: Int.self) == 1)
            #expect(try row.decode(column: "name", as: String.self) == "é 日本 🔐 \"q\"")
            #expect(try row.decode(column: "score", as: Double.self) == 0.5)
            #expect(try row.decode(column: "note", as: String?.self) == nil)
            #expect(try row.decodeNil(column: "note"))
            #expect(row.values[row.columns.firstIndex(of: "data")!] == .blob([0, 255]))
        }
    }

    @Test func wrongTypesAndMissingColumnsAreErrorsNotCrashes() throws {
        try withConnection { (connection: SQLiteConnection, _: String) throws in
            try connection.run("INSERT INTO t (id, name) VALUES (1, 'a')")
            let row = try #require(try connection.rows("SELECT id, name, note FROM t").first)
            #expect(throws: DecodingError.self) { try row.decode(column: "name", as: Int64.self) }
            #expect(throws: DecodingError.self) { try row.decode(column: "note", as: String.self) }
            #expect(throws: DecodingError.self) { try row.decode(column: "nope", as: String.self) }
        }
    }

    @Test func aCachedStatementRunsAgainWithOtherBindsAndSeesSchemaChanges() throws {
        try withConnection { (connection: SQLiteConnection, _: String) throws in
            for i in 1...50 { try connection.run("INSERT INTO t (id, name) VALUES (?1, ?2)", [.integer(Int64(i)), .text("n\(i)")]) }
            for i in [3, 50, 17] {
                let row = try #require(try connection.rows("SELECT name FROM t WHERE id = ?1", [.integer(Int64(i))]).first)
                #expect(try row.decode(column: "name", as: String.self) == "n\(i)")
            }
            #expect(try connection.rows("SELECT * FROM t WHERE id = 1").first?.columns.count == 5)
            try connection.run("ALTER TABLE t ADD COLUMN extra TEXT")
            #expect(try connection.rows("SELECT * FROM t WHERE id = 1").first?.columns.contains("extra") == true)
        }
    }

    @Test func moreThanOneStatementInAStringIsRefusedNotTruncated() throws {
        try withConnection { (connection: SQLiteConnection, _: String) throws in
            #expect(throws: SQLiteError.self) {
                try connection.run("INSERT INTO t (id) VALUES (1); INSERT INTO t (id) VALUES (2)")
            }
            #expect(try connection.rows("SELECT id FROM t").isEmpty)
            try connection.run("INSERT INTO t (id) VALUES (3);  ")  // a trailing semicolon is one statement
            #expect(try connection.rows("SELECT id FROM t").count == 1)
        }
    }

    @Test func aUniqueViolationIsRecognisedAndChangesNothing() throws {
        try withConnection { (connection: SQLiteConnection, _: String) throws in
            try connection.run("INSERT INTO t (id, name) VALUES (1, 'same')")
            let failure = try #require(throws: SQLiteError.self) {
                try connection.run("INSERT INTO t (id, name) VALUES (2, 'same')")
            }
            #expect(failure.isUniqueViolation)
            #expect(!failure.isUnavailable)
            #expect(!failure.description.contains("same"), "bound values stay out of messages")
            #expect(try connection.rows("SELECT id FROM t").count == 1)
        }
    }

    @Test func readersCannotWrite() throws {
        try withConnection(readOnly: true) { (reader: SQLiteConnection, _: String) throws in
            #expect(throws: SQLiteError.self) { try reader.run("INSERT INTO t (id) VALUES (1)") }
            #expect(try reader.rows("SELECT id FROM t").isEmpty)
        }
    }

    @Test func aClosedConnectionReportsTheStoreUnavailable() throws {
        try withConnection { (connection: SQLiteConnection, _: String) throws in
            connection.close()
            let failure = try #require(throws: SQLiteError.self) { try connection.run("SELECT 1") }
            #expect(failure.isUnavailable)
        }
    }

    @Test func sqlKitQueriesRunThroughTheSession() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let connection = try SQLiteConnection(path: directory.appendingPathComponent("s.sqlite").path, readOnly: false)
        let sql = SQLiteSession(connection: connection, logger: .init(label: "test"))
        try await sql.raw("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT)").run()
        try await sql.insert(into: "kv").columns("k", "v").values("a", 1).values("b", 2).run()
        let rows = try await sql.select().columns("k", "v").from("kv").where("v", .greaterThan, 1).all()
        #expect(try rows.map { try $0.decode(column: "k", as: String.self) } == ["b"])
        let returned = try await sql.raw("UPDATE kv SET v = v + 10 WHERE k = \(bind: "a") RETURNING v").first()
        #expect(try returned?.decode(column: "v", as: Int64.self) == 11)
    }
}

extension SQLiteConnectionTests {
    @Test func aReaderRecallsUntilAnyConnectionCommits() throws {
        try withConnection(readOnly: true) { (reader: SQLiteConnection, path: String) throws in
            let writer = try SQLiteConnection(path: path, readOnly: false)
            func recall(_ load: Int) throws -> Int? {
                try reader.run("BEGIN DEFERRED")
                defer { try? reader.run("COMMIT") }
                return try reader.recall(RecallKey(sql: "SELECT k", parameters: ["p"])) { load }
            }
            #expect(try recall(1) == 1)
            #expect(try recall(2) == 1, "nothing changed: the first value is remembered")
            try writer.run("INSERT INTO t (id, name) VALUES (1, 'a')")
            #expect(try recall(3) == 3, "a commit by another connection forgets it")
            #expect(try recall(4) == 3)
            // An absent value is not remembered.
            try writer.run("DELETE FROM t")
            try reader.run("BEGIN DEFERRED")
            #expect(try reader.recall(RecallKey(sql: "SELECT absent", parameters: [])) { Int?.none } == nil)
            #expect(try reader.recall(RecallKey(sql: "SELECT absent", parameters: [])) { 5 } == 5)
            try reader.run("COMMIT")
        }
    }
}
