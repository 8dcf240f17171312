import Foundation
@testable import RampartStorage
import RampartTestSupport
import SQLKit
import Testing

/// A write that has to wait for SQLite's writer runs on the writer's own thread
/// (`SQLiteWriterThread`), before and after it suspends; a write that finds the writer idle,
/// and every read, runs where it is called. The thread ends when the store closes, and a
/// transaction that comes later still finishes somewhere.
@Suite("SQLite writer thread")
struct SQLiteWriterThreadTests {
    /// What the system calls the thread running the caller.
    static func threadName() -> String {
        ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A driver on a new file with one table, closed and removed afterwards.
    static func withDriver(_ body: (SQLiteDriver) async throws -> Void) async throws {
        let directory = try makeScratchDirectory("writer-thread")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let driver = try SQLiteDriver.open(path: directory + "/test.sqlite", logger: testLogger)
        try await driver.transaction(tenant: nil, readOnly: false) { try await $0.raw("CREATE TABLE t (x)").run() }
        do { try await body(driver) } catch {
            await driver.close()
            throw error
        }
        await driver.close()
    }

    static func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
    }

    @Test
    func aWriteThatWaitsForTheWriterRunsOnItsThread() async throws {
        try await Self.withDriver { driver in
            let (started, startedSignal) = AsyncStream<Void>.makeStream()
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let first = Task {
                try await driver.transaction(tenant: nil, readOnly: false) { sql in
                    try await sql.raw("INSERT INTO t (x) VALUES (1)").run()
                    startedSignal.yield()
                    for await _ in release { break }
                    return Self.threadName()
                }
            }
            for await _ in started { break }
            let second = Task {
                try await driver.transaction(tenant: nil, readOnly: false) { sql in
                    let before = Self.threadName()
                    try await Task.sleep(for: .milliseconds(5))
                    try await sql.raw("INSERT INTO t (x) VALUES (2)").run()
                    return (before, Self.threadName())
                }
            }
            try await Self.until { driver.writesWaiting == 1 }
            #expect(driver.writesWaiting == 1)
            releaseSignal.yield()
            #expect(try await first.value != "sqlite-writer")
            let (before, after) = try await second.value
            #expect(before == "sqlite-writer")
            #expect(after == "sqlite-writer")
            let count = try await driver.transaction(tenant: nil, readOnly: true) { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM t").first()?.decode(column: "n", as: Int.self)
            }
            #expect(count == 2)
        }
    }

    @Test
    func aWriteThatFindsTheWriterIdleAndEveryReadRunWhereTheyAreCalled() async throws {
        try await Self.withDriver { driver in
            let write = try await driver.transaction(tenant: nil, readOnly: false) { _ in Self.threadName() }
            let read = try await driver.transaction(tenant: nil, readOnly: true) { _ in Self.threadName() }
            #expect(write != "sqlite-writer" && !write.isEmpty)
            #expect(read != "sqlite-writer" && !read.isEmpty)
        }
    }

    @Test
    func closingTheStoreEndsTheWritersThread() async throws {
        let directory = try makeScratchDirectory("writer-thread")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let driver = try SQLiteDriver.open(path: directory + "/test.sqlite", logger: testLogger)
        #expect(driver.writerThreadIsRunning)
        await driver.close()
        try await Self.until { !driver.writerThreadIsRunning }
        #expect(!driver.writerThreadIsRunning)
    }

    /// A job enqueued once the thread has ended runs on the shared pool: the task resumes,
    /// where on a stopped thread it would wait forever.
    @Test
    func aTaskThatPrefersAStoppedThreadStillRuns() async throws {
        let thread = SQLiteWriterThread(name: "stopped-writer")
        #expect(await withTaskExecutorPreference(thread) { Self.threadName() } == "stopped-writer")
        thread.stop()
        try await Self.until { !thread.isRunning }
        #expect(!thread.isRunning)
        let ran = await withTaskExecutorPreference(thread) {
            await Task.yield()
            return Self.threadName()
        }
        #expect(ran != "stopped-writer" && !ran.isEmpty)
    }
}
