import Foundation
@testable import RampartStorage
import RampartTestSupport
import Testing

/// Checkpoints off the write path: the WAL is folded back into the database file by a
/// background connection, or by the writer once it has grown past the inline limit, and
/// nothing committed is lost either way.
@Suite("SQLite checkpoints")
struct SQLiteCheckpointerTests {
    /// A writer and its checkpointer on a fresh file with one table, removed afterwards.
    func withWriter(backgroundPages: Int32, inlinePages: Int32,
                    _ body: (SQLiteConnection, SQLiteCheckpointer, String) async throws -> Void) async throws {
        let directory = try makeScratchDirectory("checkpoint")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/test.sqlite"
        let writer = try SQLiteConnection(path: path, readOnly: false)
        try writer.run("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        let checkpointer = try SQLiteCheckpointer(path: path, backgroundPages: backgroundPages, inlinePages: inlinePages)
        checkpointer.watch(writer)
        try await body(writer, checkpointer, path)
    }

    /// Commits `count` rows of 16 KiB, one transaction each: four or more WAL pages per commit.
    func write(_ count: Int, startingAt first: Int = 0, to writer: SQLiteConnection) throws {
        for id in first..<(first + count) {
            try writer.run("INSERT INTO t (id, data) VALUES (?1, ?2)", [.integer(Int64(id)), .blob(Array(repeating: 7, count: 16_384))])
        }
    }

    func rowCount(_ path: String) throws -> Int64 {
        let reader = try SQLiteConnection(path: path, readOnly: true)
        defer { reader.close() }
        var count: Int64 = -1
        try reader.run("SELECT COUNT(*) FROM t") { row in count = (try? row.decode(column: "COUNT(*)", as: Int64.self)) ?? -1 }
        return count
    }

    func walBytes(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
    }

    @Test func aGrowingWALIsCheckpointedInTheBackground() async throws {
        try await withWriter(backgroundPages: 100, inlinePages: 1_000_000) { writer, checkpointer, path in
            try write(200, to: writer)
            for _ in 0..<500 where checkpointer.backgroundCheckpoints == 0 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(checkpointer.backgroundCheckpoints > 0)
            #expect(try rowCount(path) == 200)
            // Closing the last connection folds the rest of the WAL in and removes it.
            writer.close()
            checkpointer.close()
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
            #expect(try rowCount(path) == 200)
        }
    }

    @Test func pastTheInlineLimitTheWriterCheckpointsAndTheWALStartsOver() async throws {
        // No background checkpoints at all: only the writer's own keep the WAL bounded.
        try await withWriter(backgroundPages: .max, inlinePages: 100) { writer, checkpointer, path in
            try write(1_000, to: writer)
            #expect(checkpointer.backgroundCheckpoints == 0)
            // Without a checkpoint the WAL would hold every row: over 16 MB.
            #expect(walBytes(path) < 2 * 100 * 16_384 + 200 * 1024, "WAL is \(walBytes(path)) bytes")
            #expect(try rowCount(path) == 1_000)
        }
    }

    /// New databases get 16 KiB pages (fewer, larger WAL writes per append); the checkpointer's
    /// thresholds stay the same sizes in bytes as with SQLite's 4 KiB pages.
    @Test func aNewDatabaseHasSixteenKiBPagesAndThresholdsKeepTheirSizeInBytes() async throws {
        let directory = try makeScratchDirectory("page-size")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/test.sqlite"
        let writer = try SQLiteConnection(path: path, readOnly: false)
        defer { writer.close() }
        try writer.run("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        var pageSize: Int64 = 0
        try writer.run("PRAGMA page_size") { row in pageSize = (try? row.decode(column: "page_size", as: Int64.self)) ?? 0 }
        #expect(pageSize == 16_384)
        let checkpointer = try SQLiteCheckpointer(path: path)
        defer { checkpointer.close() }
        #expect(Int(checkpointer.backgroundPages) * 16_384 == SQLiteCheckpointer.backgroundBytes)
        #expect(Int(checkpointer.inlinePages) * 16_384 == SQLiteCheckpointer.inlineBytes)
    }

    /// A database made with another page size keeps it: the writer's pragma does not apply to it.
    @Test func anExistingDatabaseKeepsItsPageSize() async throws {
        let directory = try makeScratchDirectory("page-size-old")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/test.sqlite"
        let old = try SQLiteConnection(path: path, readOnly: false)
        // As a database made before 16 KiB pages: rebuilt with 4 KiB pages (VACUUM outside WAL).
        try old.run("PRAGMA journal_mode=DELETE")
        try old.run("PRAGMA page_size=4096")
        try old.run("VACUUM")
        try old.run("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        try old.run("PRAGMA journal_mode=WAL")
        old.close()
        let writer = try SQLiteConnection(path: path, readOnly: false)
        defer { writer.close() }
        var pageSize: Int64 = 0
        try writer.run("PRAGMA page_size") { row in pageSize = (try? row.decode(column: "page_size", as: Int64.self)) ?? 0 }
        #expect(pageSize == 4096)
        let checkpointer = try SQLiteCheckpointer(path: path)
        defer { checkpointer.close() }
        #expect(checkpointer.backgroundPages == 1000)
        #expect(checkpointer.inlinePages == 16_000)
    }
}
