import Foundation
import Logging
import NIOConcurrencyHelpers
import RampartCore
import SQLKit

/// The embedded backend: one file in WAL mode, one writer connection, a few readers.
///
/// Statements run on the calling task's thread (see `SQLiteConnection`), except a write that
/// had to wait for the writer: it runs on the writer's own thread (`SQLiteWriterThread`). A
/// read inside WAL never waits for the writer; writes of this process queue for the one
/// writer connection in `SQLiteConnectionPool`, so only another process writing the same
/// file (the CLI) can make a statement wait, for at most the busy timeout.
final class SQLiteDriver: DatabaseDriver {
    let flavor = SQLFlavor.sqlite
    private let writer: SQLiteConnectionPool
    private let readers: SQLiteConnectionPool
    private let checkpointer: SQLiteCheckpointer
    private let writerThread = SQLiteWriterThread(name: "sqlite-writer")
    private let logger: Logger

    static func open(path: String, readers readerCount: Int = 4, logger: Logger) throws -> SQLiteDriver {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let writer = try SQLiteConnection(path: path, readOnly: false)
        let readers = try (0..<readerCount).map { _ in try SQLiteConnection(path: path, readOnly: true) }
        let checkpointer = try SQLiteCheckpointer(path: path)
        checkpointer.watch(writer)
        // The file holds every organisation's data: owner-only.
        chmod(path, 0o600)
        return SQLiteDriver(writer: SQLiteConnectionPool([writer]), readers: SQLiteConnectionPool(readers),
                            checkpointer: checkpointer, logger: logger)
    }

    private init(writer: SQLiteConnectionPool, readers: SQLiteConnectionPool,
                 checkpointer: SQLiteCheckpointer, logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
        self.logger = logger
    }

    func transaction<R: Sendable>(tenant: String?, readOnly: Bool,
                                  _ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        if readOnly { return try await readers.withResource { try await run(body, on: $0, begin: "BEGIN DEFERRED") } }
        // A write that finds the writer busy waits on the writer's own thread (docs/design.md).
        return try await writer.withResource(waitingOn: writerThread) {
            try await run(body, on: $0, begin: "BEGIN IMMEDIATE")
        }
    }

    private func run<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R, on connection: SQLiteConnection,
                                  begin: String) async throws -> R {
        try connection.run(begin)
        do {
            let result = try await body(SQLiteSession(connection: connection, logger: logger))
            try connection.run("COMMIT")
            return result
        } catch {
            try? connection.run("ROLLBACK")
            throw error
        }
    }

    func withConnection<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await writer.withResource(waitingOn: writerThread) {
            try await body(SQLiteSession(connection: $0, logger: logger))
        }
    }

    /// For tests: whether the writer's thread still runs, and how many writes wait for the writer.
    var writerThreadIsRunning: Bool { writerThread.isRunning }
    var writesWaiting: Int { writer.waiting }

    func ping() async throws {
        try await readers.withResource { try $0.run("SELECT 1") }
    }

    func run() async throws {}

    private let closed = NIOLockedValueBox(false)

    func close() async {
        guard !closed.withLockedValue({ was in defer { was = true }; return was }) else { return }
        // Each connection is closed under its lease, never under a running statement.
        await writer.withAll { $0.forEach { $0.close() } }
        await readers.withAll { $0.forEach { $0.close() } }
        // Last, after the writer whose commits call it; as the last connection it also folds
        // the WAL into the database file.
        checkpointer.close()
        writerThread.stop()
    }

    var connectionsInUse: Int { writer.inUse + readers.inUse }
    var connectionCapacity: Int { writer.capacity + readers.capacity }
}
