import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RampartCore
import SQLiteKit

/// The embedded backend: one file in WAL mode, one writer connection, a few readers.
final class SQLiteDriver: DatabaseDriver {
    let flavor = SQLFlavor.sqlite
    private let writer: AsyncPool<SQLiteConnection>
    private let readers: AsyncPool<SQLiteConnection>

    static func open(path: String, readers readerCount: Int = 4, logger: Logger) async throws -> SQLiteDriver {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        func connect() async throws -> SQLiteConnection {
            let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            // NORMAL with WAL is durable against process crashes (SIGKILL), which is what an
            // acknowledged write promises; FULL would add an fsync per commit for power loss.
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=10000",
                           "PRAGMA foreign_keys=OFF"] {
                _ = try await connection.query(pragma, [])
            }
            return connection
        }
        let writer = try await connect()
        var readers: [SQLiteConnection] = []
        for _ in 0..<readerCount { readers.append(try await connect()) }
        // The file holds every organisation's data: owner-only.
        chmod(path, 0o600)
        return SQLiteDriver(writer: AsyncPool([writer]), readers: AsyncPool(readers))
    }

    private init(writer: AsyncPool<SQLiteConnection>, readers: AsyncPool<SQLiteConnection>) {
        self.writer = writer
        self.readers = readers
    }

    func transaction<R: Sendable>(tenant: String?, readOnly: Bool,
                                  _ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let pool = readOnly ? readers : writer
        return try await pool.withResource { connection in
            _ = try await connection.query(readOnly ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE", [])
            do {
                let result = try await body(connection.sql(queryLogLevel: nil))
                _ = try await connection.query("COMMIT", [])
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", [])
                throw error
            }
        }
    }

    func withConnection<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await writer.withResource { try await body($0.sql(queryLogLevel: nil)) }
    }

    func ping() async throws {
        try await readers.withResource { _ = try await $0.query("SELECT 1", []) }
    }

    func run() async throws {}

    private let closed = NIOLockedValueBox(false)

    func close() async {
        guard !closed.withLockedValue({ was in defer { was = true }; return was }) else { return }
        for connection in writer.all + readers.all { try? await connection.close() }
    }

    var connectionsInUse: Int { writer.inUse + readers.inUse }
    var connectionCapacity: Int { writer.capacity + readers.capacity }
}
